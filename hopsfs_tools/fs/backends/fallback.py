"""A WebHDFS backend held by an RPC backend for the calls its own client lacks."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig
    from hopsfs_tools.fs.backends.base import Backend


class WebHdfsFallback:
    """WebHDFS for `config`, connected on first use, for backend `owner` (named in errors)."""

    def __init__(self, config: ClusterConfig, owner: str) -> None:
        self.config = config
        self.owner = owner
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def get(self, what: str) -> Backend:
        """The WebHDFS backend to compute `what` with; NotImplementedError without a URL."""
        if not self.config.webhdfs_url and not self.config.namenode_uri.startswith("viewfs:"):
            raise NotImplementedError(
                f"the {self.owner} backend cannot compute {what} itself; configure a WebHDFS URL "
                "(webhdfs_url= / HOPSFS_WEBHDFS_URL / dfs.namenode.http-address in "
                "hdfs-site.xml) so it is delegated to WebHDFS"
            )
        with self._lock:
            if self._backend is None:
                from hopsfs_tools.fs.backends import connect

                self._backend = connect(replace(self.config, backend="webhdfs"))
            return self._backend

    def close(self) -> None:
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()


__all__ = ["WebHdfsFallback"]
