"""viewfs:// through WebHDFS: the mount table resolved here, one WebHDFS backend per mounted
nameservice.

hdfs-native and the Java client (arrow) follow `fs.viewfs.mounttable.<name>.link.<dir>` and
`.linkFallback` themselves; WebHDFS knows one namespace, so paths are routed to the mount with the
longest matching prefix and the names in answers are mapped back. As in Hadoop's ViewFileSystem,
a rename across mounts is refused and mount points show as directories of their parent. Given an
explicit WebHDFS URL (an HttpFS or gateway resolving the table itself), the plain backend is used.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from hopsfs_tools.config import viewfs_mounts
from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import (
    AclStatus,
    BackendBase,
    BlockLocation,
    ContentSummary,
    FileInfo,
    FsStatus,
    RangeReader,
    ServerDefaults,
    Snapshot,
    SnapshotChange,
    norm_path,
)
from hopsfs_tools.fs.backends.webhdfs import WebHdfsBackend

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig


def routes(config: ClusterConfig) -> bool:
    """Whether WebHDFS calls for `config` go through the mount table (viewfs://, no explicit URL)."""
    return urlsplit(config.namenode_uri).scheme == "viewfs" and not config.webhdfs_url


def connect(config: ClusterConfig) -> ViewFsBackend:
    """The WebHDFS backend of a viewfs:// cluster."""
    return ViewFsBackend(config)


class Mount:
    """One link of the mount table: view paths under `point` live under `root` of `target`."""

    def __init__(self, point: str, target: str) -> None:
        parts = urlsplit(target)
        self.point = point
        self.target = f"{parts.scheme}://{parts.netloc}"
        self.root = parts.path.rstrip("/")

    def holds(self, path: str) -> bool:
        return self.point == "/" or path == self.point or path.startswith(self.point + "/")

    def to_target(self, path: str) -> str:
        rest = path if self.point == "/" else path[len(self.point) :]
        return (self.root + rest) or "/"

    def to_view(self, path: str) -> str:
        rest = path[len(self.root) :].rstrip("/")  # "" for the target's root itself
        return (rest or "/") if self.point == "/" else self.point + rest


class ViewFsBackend(BackendBase):
    """The Backend protocol over the WebHDFS backends of a viewfs:// mount table."""

    name = "webhdfs"
    recovers_writes = WebHdfsBackend.recovers_writes

    def __init__(self, config: ClusterConfig) -> None:
        super().__init__(config)
        table = urlsplit(config.namenode_uri).hostname or "default"
        mounts = [
            Mount(p, t) for p, t in viewfs_mounts(config.properties, config.namenode_uri).items()
        ]
        if not mounts:
            raise ValueError(
                f"the viewfs mount table {table!r} of {config.namenode_uri} is empty: set "
                f"fs.viewfs.mounttable.{table}.link./<dir> (or .linkFallback) in core-site.xml "
                f"(HADOOP_CONF_DIR={config.conf_dir})"
            )
        self._mounts = sorted(mounts, key=lambda m: len(m.point), reverse=True)  # longest first
        self._backends: dict[str, WebHdfsBackend] = {}  # by target, connected on first use
        self._lock = threading.Lock()

    # -- routing -------------------------------------------------------------------------------

    def _route(self, path: str) -> tuple[WebHdfsBackend, Mount, str] | None:
        """The backend, mount and target path of view path `path` (None: an internal directory)."""
        path = norm_path(path)
        mount = next((m for m in self._mounts if m.holds(path)), None)
        if mount is None:
            return None
        with self._lock:
            if mount.target not in self._backends:
                target = replace(self.config, namenode_uri=mount.target, webhdfs_url=None)
                self._backends[mount.target] = WebHdfsBackend(target)
            return self._backends[mount.target], mount, mount.to_target(path)

    def _target(self, path: str) -> tuple[WebHdfsBackend, str]:
        """The backend and target path of `path`; FileNotFoundError outside every mount."""
        routed = self._route(path)
        if routed is None:
            if self._children(norm_path(path)):
                raise errors.make(
                    PermissionError, path, f"{path} is a read-only directory of the mount table"
                )
            raise errors.make(FileNotFoundError, path, f"{path} is under no mount point")
        return routed[0], routed[2]

    def _children(self, path: str) -> list[str]:
        """The mount points directly below `path`, as full view paths."""
        prefix = path.rstrip("/") + "/"
        found = {
            prefix + m.point[len(prefix) :].split("/")[0]
            for m in self._mounts
            if m.point != "/" and m.point.startswith(prefix)
        }
        return sorted(found)

    def _call(self, method: str, path: str, *args: Any, **kw: Any) -> Any:
        backend, target = self._target(path)
        return getattr(backend, method)(target, *args, **kw)

    # -- metadata ------------------------------------------------------------------------------

    def info(self, path: str) -> FileInfo:
        routed = self._route(path)
        if routed is None:
            if not self._children(norm_path(path)):
                raise errors.make(FileNotFoundError, path, f"{path} is under no mount point")
            return _directory(norm_path(path))
        backend, mount, target = routed
        return _renamed(backend.info(target), mount)

    def ls(self, path: str) -> list[FileInfo]:
        path = norm_path(path)
        routed = self._route(path)
        listed: list[FileInfo] = []
        if routed is not None:
            backend, mount, target = routed
            listed = [_renamed(info, mount) for info in backend.ls(target)]
        elif not self._children(path):
            raise errors.make(FileNotFoundError, path, f"{path} is under no mount point")
        names = {info["name"] for info in listed}
        return listed + [_directory(c) for c in self._children(path) if c not in names]

    def mkdir(self, path: str, *, parents: bool = True, permission: int | None = None) -> None:
        self._call("mkdir", path, parents=parents, permission=permission)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        self._call("rm", path, recursive=recursive)

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        (source, src_target), (dest, dst_target) = self._target(src), self._target(dst)
        if source is not dest:
            raise errors.make(
                OSError, src, f"cannot rename {src} to {dst}: they are in different mounts of "
                f"{self.config.namenode_uri} (as in Hadoop's viewfs, copy then delete instead)",
            )  # fmt: skip
        source.rename(src_target, dst_target, overwrite=overwrite)

    def set_permission(self, path: str, mode: int) -> None:
        self._call("set_permission", path, mode)

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        self._call("set_owner", path, owner, group)

    def set_replication(self, path: str, replication: int) -> None:
        self._call("set_replication", path, replication)

    def set_times(self, path: str, mtime: float | None = None, atime: float | None = None) -> None:
        self._call("set_times", path, mtime, atime)

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        self._call("modify_acl_entries", path, spec)

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        self._call("remove_acl_entries", path, spec)

    def acl_entries(self, path: str) -> list[str]:
        return self._call("acl_entries", path)

    def content_summary(self, path: str) -> ContentSummary:
        return self._call("content_summary", path)

    def acl_status(self, path: str) -> AclStatus:
        return self._call("acl_status", path)

    def set_acl(self, path: str, spec: list[str]) -> None:
        self._call("set_acl", path, spec)

    def remove_acl(self, path: str) -> None:
        self._call("remove_acl", path)

    def remove_default_acl(self, path: str) -> None:
        self._call("remove_default_acl", path)

    def allow_snapshot(self, path: str) -> None:
        self._call("allow_snapshot", path)

    def create_snapshot(self, path: str, name: str | None = None) -> str:
        return self._call("create_snapshot", path, name)

    def delete_snapshot(self, path: str, name: str) -> None:
        self._call("delete_snapshot", path, name)

    def snapshots(self, path: str) -> list[Snapshot]:
        return self._call("snapshots", path)

    def snapshot_diff(self, path: str, old: str, new: str = "") -> list[SnapshotChange]:
        return self._call("snapshot_diff", path, old, new)

    def checksum(self, path: str) -> str:
        return self._call("checksum", path)

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]:
        return self._call("block_locations", path, start, length)

    def server_defaults(self) -> ServerDefaults:
        """The server defaults of the root's mount's NameNode."""
        backend, _ = self._target(self._mounts[-1].point)
        return backend.server_defaults()

    def fs_status(self) -> FsStatus:
        """The FsStatus of the root's mount (federated nameservices share their DataNodes)."""
        backend, _ = self._target(self._mounts[-1].point)
        return backend.fs_status()

    # -- data ----------------------------------------------------------------------------------

    def open_read(self, path: str) -> RangeReader:
        return self._call("open_read", path)

    def open_write(self, path: str, **kw: Any) -> BinaryIO:
        return self._call("open_write", path, **kw)

    def append(self, path: str) -> BinaryIO:
        return self._call("append", path)

    def close(self) -> None:
        with self._lock:
            backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            backend.close()
        super().close()


def _renamed(info: FileInfo, mount: Mount) -> FileInfo:
    """`info` named by its view path."""
    return {**info, "name": mount.to_view(info["name"])}  # type: ignore[typeddict-item]


def _directory(path: str) -> FileInfo:
    """A directory of the mount table itself (a mount point's parent)."""
    return FileInfo(
        name=path,
        size=0,
        type="directory",
        mtime=0.0,
        atime=0.0,
        permission=0o555,
        owner="",
        group="",
        replication=0,
        blocksize=0,
    )


__all__ = ["ViewFsBackend", "connect", "routes"]
