"""The small protocol every backend implements, so filesystem logic exists once (in `fs`).

Paths handed to a backend are always absolute HDFS paths without scheme or authority
("/Projects/P/Resources/x.csv"); resolution of project-relative paths and URIs happens
above, in `hopsfs_tools.config.project` / `hopsfs_tools.fs.filesystem`.

Every method raises Python builtins carrying the path (see `hopsfs_tools.fs.errors`):
FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError,
NotADirectoryError, ConnectionError (namenode unreachable), OSError otherwise.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypedDict, runtime_checkable

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig

# The modes new files and directories ask for when the caller gives none (Hadoop's
# FsPermission.getFileDefault/getDirDefault): the umask, or the parent's default ACL, trims them.
FILE_MODE = 0o666
DIR_MODE = 0o777


class FileInfo(TypedDict, total=False):
    """An fsspec info dict. `name`, `size`, `type` are always present."""

    name: str  # absolute HDFS path, no scheme, no trailing slash (except "/")
    size: int
    type: str  # "file" | "directory"
    mtime: float  # seconds since the epoch (pyarrow's FSSpecHandler reads it)
    atime: float
    permission: int  # e.g. 0o644
    owner: str
    group: str
    replication: int  # 0 for directories
    blocksize: int  # 0 for directories


class BlockLocation(TypedDict):
    offset: int
    length: int
    hosts: list[str]  # datanode hostnames (or IPs) holding a replica
    names: list[str]  # the same datanodes as "host:xferport" (tells apart datanodes on one host)


class ContentSummary(TypedDict):
    length: int
    file_count: int
    directory_count: int
    space_consumed: int
    quota: int  # -1 when unset
    space_quota: int  # -1 when unset


class FsStatus(TypedDict):
    capacity: int  # raw bytes of all DataNodes
    used: int  # bytes used by HDFS (all replicas)


class ServerDefaults(TypedDict):
    """What the NameNode tells clients to use (its FsServerDefaults), as far as needed here."""

    trash_interval: int  # minutes a deleted path stays in the trash (fs.trash.interval); 0: off
    blocksize: int
    replication: int


class AclStatus(TypedDict):
    owner: str
    group: str
    permission: int  # mode bits; with an ACL the group bits are its mask
    entries: list[str]  # extended access entries, then default ones ("default:user::rwx")


class Snapshot(TypedDict):
    name: str
    path: str  # <dir>/.snapshot/<name>
    mtime: float  # the directory's modification time in the snapshot (seconds since the epoch)


class SnapshotChange(TypedDict):
    type: str  # "CREATE" | "DELETE" | "MODIFY" | "RENAME" (HDFS's SnapshotDiffReport)
    path: str  # relative to the snapshottable directory ("" for itself)
    target: str | None  # a RENAME's new relative path


class RangeReader(Protocol):
    """A random-access reader of one HDFS file."""

    size: int

    def read_range(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`: fewer when a stream broke midway (callers ask
        again from where it stopped, see fs.client.read_exactly), nothing only at end of file."""

    def close(self) -> None: ...


class AsyncRangeReader(Protocol):
    """A random-access reader of one HDFS file on an asyncio client."""

    size: int

    async def read_range(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (as RangeReader.read_range)."""


class AsyncWriter(Protocol):
    """A write stream on an asyncio client; the data is on the cluster once close() returns."""

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class AsyncBackend(Protocol):
    """A backend's asyncio face (`Backend.aio`): the calls `fs.asyncfs` overlaps on one event
    loop. Errors are translated as the backend's; retries are the caller's (`fs.client`)."""

    async def info(self, path: str) -> FileInfo: ...

    async def ls(self, path: str) -> list[FileInfo]: ...

    async def open_read(self, path: str) -> AsyncRangeReader: ...

    async def open_write(self, path: str) -> AsyncWriter:
        """A stream creating `path` (and its parents) with FILE_MODE trimmed as in mkdir."""

    async def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None: ...

    async def rm(self, path: str, *, recursive: bool = False) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """What `fs` needs from a client library. Implementations: native, arrow, webhdfs.

    Optional capabilities are declared here, never probed: `append` raises NotImplementedError
    where the client cannot append; `renames_over` says whether `rename(overwrite=True)` may
    replace an existing file (else the caller moves it aside first, see `fs.commit.replace`).
    """

    name: str
    # True when the client itself carries a write past a lost DataNode (the Java client's
    # pipeline recovery); otherwise `fs.upload` spools what is written and restarts the upload.
    recovers_writes: bool
    renames_over: bool
    # The asyncio face of a client that has one (see ASYNC_BACKENDS), else None.
    aio: AsyncBackend | None

    def info(self, path: str) -> FileInfo: ...

    def ls(self, path: str) -> list[FileInfo]:
        """Children of a directory; [info(path)] when `path` is a file."""

    def mkdir(self, path: str, *, parents: bool = True, permission: int | None = None) -> None:
        """Create a directory; without `permission`, DIR_MODE trimmed as Hadoop's Java client
        does: by the parent's default ACL if it has one, else by the umask."""

    def rm(self, path: str, *, recursive: bool = False) -> None:
        """Delete; a non-empty directory without recursive raises OSError(ENOTEMPTY)."""

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Atomic rename. Missing src -> FileNotFoundError; existing dst and not
        overwrite -> FileExistsError (HDFS's bare `false` is never swallowed)."""

    def open_read(self, path: str) -> RangeReader: ...

    def open_write(
        self,
        path: str,
        *,
        overwrite: bool = False,
        replication: int | None = None,
        blocksize: int | None = None,
        permission: int | None = None,
    ) -> BinaryIO:
        """A raw writable stream; the data is durable on the cluster after close(). Without
        `permission` the file gets FILE_MODE trimmed as in mkdir."""

    def append(self, path: str) -> BinaryIO:
        """A raw stream appending to the existing file `path` (NotImplementedError if the client
        cannot append)."""

    def exists(self, path: str) -> bool: ...

    def fs_status(self) -> FsStatus:
        """The filesystem's raw capacity and use (the NameNode's FsStatus)."""

    def server_defaults(self) -> ServerDefaults:
        """The NameNode's server defaults (its own fs.trash.interval, block size, replication)."""

    def set_permission(self, path: str, mode: int) -> None: ...

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None: ...

    def set_replication(self, path: str, replication: int) -> None: ...

    def set_times(
        self, path: str, mtime: float | None = None, atime: float | None = None
    ) -> None: ...

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        """Add or update ACL entries given as Hadoop aclspec text ("user:u:rwx", "default:...")."""

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        """Remove the ACL entries named in aclspec text ("user:u", "default:user:u")."""

    def acl_entries(self, path: str) -> list[str]:
        """The extended access ACL entries of `path` as aclspec text ("user:u:rwx")."""

    def acl_status(self, path: str) -> AclStatus:
        """Owner, group, mode and the ACL entries (extended access and default) of `path`."""

    def set_acl(self, path: str, spec: list[str]) -> None:
        """Replace the whole ACL (base entries user::, group::, other:: included)."""

    def remove_acl(self, path: str) -> None:
        """Remove every extended and default entry (the mode bits stay)."""

    def remove_default_acl(self, path: str) -> None: ...

    def content_summary(self, path: str) -> ContentSummary: ...

    def allow_snapshot(self, path: str) -> None:
        """Make a directory snapshottable (the HDFS superuser only)."""

    def create_snapshot(self, path: str, name: str | None = None) -> str:
        """Take a snapshot of a snapshottable directory; its path (<dir>/.snapshot/<name>)."""

    def delete_snapshot(self, path: str, name: str) -> None: ...

    def snapshots(self, path: str) -> list[Snapshot]:
        """The snapshots of a snapshottable directory."""

    def snapshot_diff(self, path: str, old: str, new: str = "") -> list[SnapshotChange]:
        """What changed in the directory from snapshot `old` to `new` ("": the live tree)."""

    def checksum(self, path: str) -> str:
        """HDFS's file checksum (MD5-of-MD5-of-CRC32C), as a hex string; equal across backends."""

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]: ...

    def close(self) -> None: ...


BackendOptions = dict[str, Any]


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
                # connect() lives in the package that imports this module: a call-time import.
                from hopsfs_tools.fs.backends import connect

                self._backend = connect(replace(self.config, backend="webhdfs"))
            return self._backend

    def close(self) -> None:
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()


class BackendBase:
    """What backends share: their config, `exists`, and the calls their client lacks, which go
    to a WebHDFS fallback (`web`, connected on first use) held as an attribute."""

    name: str
    recovers_writes: bool
    renames_over = True
    aio: AsyncBackend | None = None

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self._web: WebHdfsFallback | None = None

    @property
    def web(self) -> WebHdfsFallback:
        """The WebHDFS fallback for checksums, block locations, ACLs, FsStatus."""
        if self._web is None:
            self._web = WebHdfsFallback(self.config, self.name)
        return self._web

    def info(self, path: str) -> FileInfo:
        """Implemented by each backend."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        """Whether `path` exists."""
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True

    def append(self, path: str) -> BinaryIO:
        raise NotImplementedError(
            f"the {self.name} backend cannot append to {path}: use backend='native', or rewrite "
            "the file (mode 'wb')"
        )

    def checksum(self, path: str) -> str:
        return self.web.get("checksums").checksum(path)

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]:
        return self.web.get("block locations").block_locations(path, start, length)

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        self.web.get("ACLs").modify_acl_entries(path, spec)

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        self.web.get("ACLs").remove_acl_entries(path, spec)

    def acl_entries(self, path: str) -> list[str]:
        return self.web.get("ACLs").acl_entries(path)

    def acl_status(self, path: str) -> AclStatus:
        return self.web.get("ACLs").acl_status(path)

    def set_acl(self, path: str, spec: list[str]) -> None:
        self.web.get("ACLs").set_acl(path, spec)

    def remove_acl(self, path: str) -> None:
        self.web.get("ACLs").remove_acl(path)

    def remove_default_acl(self, path: str) -> None:
        self.web.get("ACLs").remove_default_acl(path)

    def fs_status(self) -> FsStatus:
        return self.web.get("the filesystem's capacity").fs_status()

    def allow_snapshot(self, path: str) -> None:
        self.web.get("snapshots").allow_snapshot(path)

    def create_snapshot(self, path: str, name: str | None = None) -> str:
        return self.web.get("snapshots").create_snapshot(path, name)

    def delete_snapshot(self, path: str, name: str) -> None:
        self.web.get("snapshots").delete_snapshot(path, name)

    def snapshots(self, path: str) -> list[Snapshot]:
        return self.web.get("snapshots").snapshots(path)

    def snapshot_diff(self, path: str, old: str, new: str = "") -> list[SnapshotChange]:
        return self.web.get("snapshots").snapshot_diff(path, old, new)

    def server_defaults(self) -> ServerDefaults:
        return self.web.get("the NameNode's server defaults").server_defaults()

    def close(self) -> None:
        web, self._web = self._web, None
        if web is not None:
            web.close()


def norm_path(path: str) -> str:
    """An absolute HDFS path without trailing slash (except "/"); ValueError for a relative one."""
    if not path.startswith("/"):
        raise ValueError(f"backend paths are absolute HDFS paths, got {path!r}")
    return path.rstrip("/") or "/"
