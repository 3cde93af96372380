"""The small protocol every backend implements, so filesystem logic exists once (in fs.core).

Paths handed to a backend are always absolute HDFS paths without scheme or authority
("/Projects/P/Resources/x.csv"); resolution of project-relative paths and URIs happens
above, in `hopsfs_tools.project` / `hopsfs_tools.fs.core`.

Every method raises Python builtins carrying the path (see `hopsfs_tools.fs.errors`):
FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError,
NotADirectoryError, ConnectionError (namenode unreachable), OSError otherwise.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol, TypedDict, runtime_checkable

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


class RangeReader(Protocol):
    """A random-access reader of one HDFS file."""

    size: int

    def read_range(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`: fewer when a stream broke midway (callers ask
        again from where it stopped, see fs.core._read), nothing only at end of file."""

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """What fs.core needs from a client library. Implementations: native, arrow, webhdfs."""

    name: str
    # True when the client itself carries a write past a lost DataNode (the Java client's
    # pipeline recovery); otherwise fs.core spools what is written and restarts the upload.
    recovers_writes: bool

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

    def set_permission(self, path: str, mode: int) -> None: ...

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None: ...

    def set_replication(self, path: str, replication: int) -> None: ...

    def set_times(self, path: str, mtime: float | None = None, atime: float | None = None) -> None: ...

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        """Add or update ACL entries given as Hadoop aclspec text ("user:u:rwx", "default:...")."""

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        """Remove the ACL entries named in aclspec text ("user:u", "default:user:u")."""

    def acl_entries(self, path: str) -> list[str]:
        """The extended access ACL entries of `path` as aclspec text ("user:u:rwx")."""

    def content_summary(self, path: str) -> ContentSummary: ...

    def checksum(self, path: str) -> str:
        """HDFS's file checksum (MD5-of-MD5-of-CRC32C), as a hex string; equal across backends."""

    def block_locations(self, path: str, start: int = 0, length: int | None = None) -> list[BlockLocation]: ...

    def close(self) -> None: ...


BackendOptions = dict[str, Any]
