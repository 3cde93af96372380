"""A WebHDFS backend held by an RPC backend for the calls its own client lacks."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig
    from hopsfs_tools.fs.backends.webhdfs import WebHdfsBackend


class WebHdfsFallback:
    """WebHDFS for `config`, connected on first use, for backend `owner` (named in errors)."""

    def __init__(self, config: ClusterConfig, owner: str) -> None:
        self.config = config
        self.owner = owner
        self._backend: WebHdfsBackend | None = None
        self._lock = threading.Lock()

    def get(self, what: str) -> WebHdfsBackend:
        """The WebHDFS backend to compute `what` with; NotImplementedError without a URL."""
        if not self.config.webhdfs_url:
            raise NotImplementedError(
                f"the {self.owner} backend cannot compute {what} itself; configure a WebHDFS URL "
                "(webhdfs_url= / HOPSFS_WEBHDFS_URL / dfs.namenode.http-address in "
                "hdfs-site.xml) so it is delegated to WebHDFS"
            )
        with self._lock:
            if self._backend is None:
                from hopsfs_tools.fs.backends.webhdfs import WebHdfsBackend

                self._backend = WebHdfsBackend(self.config)
            return self._backend

    def close(self) -> None:
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()


__all__ = ["WebHdfsFallback"]
