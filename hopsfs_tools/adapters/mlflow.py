"""MLflow artifacts on `hopsfs://`, `hdfs://` and `viewfs://` roots through HopsFileSystem (no JVM).

MLflow's own `hdfs://` store opens pyarrow's HadoopFileSystem (libhdfs: a JVM, JAVA_HOME and a
Hadoop CLASSPATH) and knows no `hopsfs://`. This repository is registered for these schemes
through MLflow's `mlflow.artifact_repository` entry point (pyproject.toml), so an experiment
created with `artifact_location="hopsfs://Experiments/mlflow"` (relative to the project) or a
project's `hdfs://` URL logs and loads artifacts and models with MLflow's own calls. Uploads
commit by rename: a reader never sees half an artifact.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

import fsspec
from mlflow.entities import FileInfo
from mlflow.store.artifact.artifact_repo import ArtifactRepository


class HopsArtifactRepository(ArtifactRepository):
    """An MLflow artifact repository rooted at a cluster URL, read and written through fsspec."""

    def __init__(self, artifact_uri: str, *args: Any, **kwargs: Any) -> None:
        """`artifact_uri`: hopsfs://, hdfs:// or viewfs:// URL of the run's artifact root."""
        scheme, _, rest = artifact_uri.partition(":")
        if not rest.startswith("//"):  # MLflow joins paths into "hopsfs:/p" for "hopsfs:///p"
            artifact_uri = f"{scheme}://{rest}"
        super().__init__(artifact_uri, *args, **kwargs)
        self.fs, self.root = fsspec.core.url_to_fs(artifact_uri)

    def _path(self, artifact_path: str | None) -> str:
        """The filesystem path of `artifact_path` (relative to the root; None: the root)."""
        return posixpath.join(self.root, artifact_path) if artifact_path else self.root

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload `local_file` into `artifact_path`."""
        name = os.path.basename(local_file)
        self.fs.put_file(local_file, posixpath.join(self._path(artifact_path), name))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload the tree under `local_dir` into `artifact_path` (empty directories too)."""
        base = self._path(artifact_path)
        for folder, _, files in os.walk(local_dir):
            relative = os.path.relpath(folder, local_dir)
            target = base if relative == "." else posixpath.join(base, *relative.split(os.sep))
            self.fs.makedirs(target, exist_ok=True)
            for name in files:
                self.fs.put_file(os.path.join(folder, name), posixpath.join(target, name))

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The files and directories directly under `path` ([] when it is no directory)."""
        full = self._path(path)
        if not self.fs.isdir(full):
            return []
        infos = []
        for entry in self.fs.ls(full, detail=True):
            name = posixpath.basename(entry["name"].rstrip("/"))
            relative = posixpath.join(path, name) if path else name
            is_dir = entry["type"] == "directory"
            infos.append(FileInfo(relative, is_dir, None if is_dir else entry["size"]))
        return sorted(infos, key=lambda info: info.path)

    def _is_directory(self, artifact_path: str) -> bool:
        return self.fs.isdir(self._path(artifact_path))

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        self.fs.get_file(self._path(remote_file_path), local_path)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Remove `artifact_path` (the whole root when None); a missing one is no error."""
        full = self._path(artifact_path)
        if self.fs.exists(full):
            self.fs.rm(full, recursive=True)


__all__ = ["HopsArtifactRepository"]
