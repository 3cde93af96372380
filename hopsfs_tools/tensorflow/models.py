"""Models, checkpoints and TensorBoard logs on HDFS, written by TF and Keras themselves through
the filesystem plugin (no local copies), each committed by a rename.

With the plugin, plain `model.save("hdfs://...")`, `ModelCheckpoint("hopsfs://...")` and
`TensorBoard("hopsfs://...")` work unchanged; these helpers add the commit-by-rename (a reader
never sees half a model) and the project-relative paths of a HopsFileSystem.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hopsfs_tools.fs import HopsFileSystem, commit
from hopsfs_tools.tensorflow import plugin
from hopsfs_tools.tensorflow.plugin import uri_maker

MODEL_FILE_SUFFIXES = (".keras", ".h5")
# Local leftovers of killed processes: earlier versions' model/checkpoint staging directories
# and TF autograph's generated modules (deleted by TF at exit, so left by killed processes).
LOCAL_LEFTOVERS = ("hopsfs-model-*", "hopsfs-ckpt-*", "__autograph_generated_file*.py")


def _tf() -> Any:
    return plugin.tensorflow()


def _filesystem(fs: HopsFileSystem | None) -> HopsFileSystem:
    return fs if fs is not None else HopsFileSystem()


def clean_local_tmp(
    older_than: float = commit.DEFAULT_OLDER_THAN, directory: str | None = None
) -> list[str]:
    """Delete LOCAL_LEFTOVERS older than `older_than` seconds from the temp directory (killed
    writers' and TF's leftovers); the paths deleted. Each writer here calls it."""
    cutoff = time.time() - older_than
    removed = []
    for pattern in LOCAL_LEFTOVERS:
        for path in Path(directory or tempfile.gettempdir()).glob(pattern):
            try:
                if path.lstat().st_mtime >= cutoff or path.is_symlink():
                    continue
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:  # another cleaner, or not ours to delete
                continue
            removed.append(str(path))
    return removed


def replace_file(source_url: str, target_url: str) -> None:
    """Rename a file over another in one step (HDFS rename with OVERWRITE, via the plugin)."""
    _tf().io.gfile.rename(source_url, target_url, overwrite=True)


def save_file(fs: HopsFileSystem, target: str, save: Callable[[str], None]) -> None:
    """Call `save(url)` to write a file under a hidden temporary directory next to `target`
    (the file keeps its name: Keras checks suffixes), then rename it over `target` atomically."""
    clean_local_tmp()
    uri = uri_maker(fs)
    staging = commit.temp_path(target)  # a killed writer leaves it for clean_tmp to find
    fs.makedirs(staging)
    try:
        written = posixpath.join(staging, posixpath.basename(target))
        save(uri(written))
        replace_file(uri(written), uri(target))
    finally:
        fs.rm(staging, recursive=True)


def upload_dir(
    local_dir: str, hdfs_path: str, *, overwrite: bool = True, fs: HopsFileSystem | None = None
) -> str:
    """Copy a local directory to HDFS via a hidden temporary directory renamed into place
    (an existing tree is replaced only once the new one is complete)."""
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    if not overwrite and fs.exists(target):
        raise FileExistsError(f"{target} exists: pass overwrite=True to replace it")
    with fs.staged_dir(target) as temp:
        fs.makedirs(temp)
        fs.put(os.path.join(local_dir, ""), temp, recursive=True)
    return target


def save_model(
    model: Any, hdfs_path: str, *, overwrite: bool = True, fs: HopsFileSystem | None = None
) -> str:
    """Save a Keras model as a ".keras"/".h5" file, else export a SavedModel directory, to HDFS.

    Written by Keras/TF straight to HDFS under a hidden temporary name, then committed by a
    rename; returns the path.
    """
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    if not overwrite and fs.exists(target):
        raise FileExistsError(f"{target} exists: pass overwrite=True to replace it")
    if target.endswith(MODEL_FILE_SUFFIXES):
        save_file(fs, target, model.save)
        return target
    clean_local_tmp()
    uri = uri_maker(fs)
    with fs.staged_dir(target) as staging:
        if hasattr(model, "export"):  # Keras 3: an inference SavedModel
            model.export(uri(staging), verbose=False)
        else:
            _tf().saved_model.save(model, uri(staging))
    return target


def load_model(hdfs_path: str, *, fs: HopsFileSystem | None = None, **kwargs: Any) -> Any:
    """Load a ".keras"/".h5" model file (keras.models.load_model) or a SavedModel directory
    (tf.saved_model.load) from HDFS; `kwargs` go to the loader."""
    tf = _tf()
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    url = uri_maker(fs)(target)
    if fs.isdir(target):
        return tf.saved_model.load(url, **kwargs)
    return tf.keras.models.load_model(url, **kwargs)


def sync_dir(
    local_dir: str,
    hdfs_dir: str,
    seen: dict[str, tuple[int, int]] | None = None,
    fs: HopsFileSystem | None = None,
) -> list[str]:
    """Upload the files of `local_dir` that changed since `seen` (updated) to `hdfs_dir`, each
    atomically; returns the HDFS paths written (for logs written locally: TensorBoard can
    also write to an hdfs:// or hopsfs:// log_dir directly)."""
    fs = _filesystem(fs)
    seen = {} if seen is None else seen
    written = []
    for root, _, names in os.walk(local_dir):
        for name in sorted(names):
            local = os.path.join(root, name)
            st = os.stat(local)
            if seen.get(local) == (st.st_size, st.st_mtime_ns):
                continue
            rel = os.path.relpath(local, local_dir).replace(os.sep, "/")
            remote = fs.resolve(posixpath.join(hdfs_dir, rel))
            fs.put_file(local, remote)
            seen[local] = (st.st_size, st.st_mtime_ns)
            written.append(remote)
    return written


def latest_checkpoint(hdfs_dir: str, fs: HopsFileSystem | None = None) -> str | None:
    """The path of the newest checkpoint HopsCheckpoint committed in `hdfs_dir`, or None."""
    fs = _filesystem(fs)
    index = posixpath.join(fs.resolve(hdfs_dir), "checkpoint")
    if not fs.exists(index):
        return None
    return posixpath.join(fs.resolve(hdfs_dir), fs.cat_file(index).decode().strip())


def checkpoint_class() -> type:
    """HopsCheckpoint, built on first use (it subclasses a Keras class)."""
    keras = _tf().keras

    class HopsCheckpoint(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        """Each epoch, commit the model (or weights) and TensorBoard event files to `hdfs_dir`.

        Checkpoints are written by Keras to HDFS under a temporary name renamed into place, and
        the "checkpoint" file names the newest (see latest_checkpoint). `tensorboard`: a
        keras.callbacks.TensorBoard writing locally (flushed, its log_dir synced to
        `hdfs_dir`/`logs_subdir`; list it before this callback) or a local log directory.
        """

        def __init__(
            self,
            hdfs_dir: str,
            *,
            save_weights_only: bool = False,
            filename: str = "epoch-{epoch:04d}",
            tensorboard: Any = None,
            logs_subdir: str = "logs",
            fs: HopsFileSystem | None = None,
        ) -> None:
            super().__init__()
            self.fs = _filesystem(fs)
            self.hdfs_dir = self.fs.resolve(hdfs_dir)
            self.save_weights_only, self.filename = save_weights_only, filename
            self.tensorboard, self.logs_subdir = tensorboard, logs_subdir
            self._seen: dict[str, tuple[int, int]] = {}
            self.fs.makedirs(self.hdfs_dir, exist_ok=True)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            suffix = ".weights.h5" if self.save_weights_only else ".keras"
            name = self.filename.format(epoch=epoch + 1, **(logs or {})) + suffix
            save = self.model.save_weights if self.save_weights_only else self.model.save
            save_file(self.fs, posixpath.join(self.hdfs_dir, name), save)
            self.fs.pipe_file(posixpath.join(self.hdfs_dir, "checkpoint"), name.encode() + b"\n")
            self.sync_logs()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.sync_logs()

        def sync_logs(self) -> list[str]:
            """Flush the TensorBoard writers and upload changed event files; returns them."""
            log_dir = getattr(self.tensorboard, "log_dir", self.tensorboard)
            if not log_dir or not os.path.isdir(log_dir):
                return []
            for writer in list(getattr(self.tensorboard, "_writers", {}).values()):
                writer.flush()
            target = posixpath.join(self.hdfs_dir, self.logs_subdir)
            return sync_dir(os.fspath(log_dir), target, self._seen, self.fs)

    return HopsCheckpoint
