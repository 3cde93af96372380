"""The `arrow` backend: pyarrow.fs.HadoopFileSystem over libhdfs (JNI into the Hadoop Java client).

Data moves through pyarrow (ranged reads with `read_at`, output streams). Metadata calls that
pyarrow does not expose (full file status, chmod/chown/utime/setrep, rename without clobber)
go through the very same libhdfs.so with ctypes, sharing pyarrow's JVM.
"""

from __future__ import annotations

import ctypes
import errno
import getpass
import os
import posixpath
import re
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TypeVar, cast
from urllib.parse import urlsplit

from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import (
    BackendBase,
    ContentSummary,
    FileInfo,
    FsStatus,
    norm_path,
)
from hopsfs_tools.hadoop import libhdfs_api, tokens
from hopsfs_tools.hadoop.identity import ticket_cache_file
from hopsfs_tools.hadoop.jvm import jvm_environment
from hopsfs_tools.hadoop.libhdfs_api import EINTERNAL, FileInfoStruct, encode

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from hopsfs_tools.config import ClusterConfig

T = TypeVar("T")
_ERRNO_PREFIX = re.compile(r"^\[Errno \d+\] ")  # pyarrow repeats the errno in its message


def connect(config: ClusterConfig) -> ArrowBackend:
    """An arrow backend for `config`; ConnectionError if the namenode does not answer in time."""
    return ArrowBackend(config)


class ArrowBackend(BackendBase):
    """The Backend protocol over pyarrow.fs.HadoopFileSystem (+ ctypes into the same libhdfs)."""

    name = "arrow"
    recovers_writes = True  # the Java client's pipeline recovery
    renames_over = False  # libhdfs has no rename-with-overwrite

    def __init__(self, config: ClusterConfig) -> None:
        super().__init__(config)
        # On a Kerberos cluster the identity is the ticket cache's principal, not a user name.
        self.user = None if config.kerberos else config.user
        # A delegation token (HADOOP_TOKEN_FILE_LOCATION, read by the JVM's login) needs no
        # ticket: then libhdfs must not log in from a ticket cache, which would fail.
        tokens.require_environment(config.token_file, self.name)
        login_from_cache = config.kerberos and not config.token_file
        self.ticket_cache = ticket_cache_file(config.ticket_cache) if login_from_cache else None
        # Fail fast on an unreachable namenode (the Java default retries for minutes).
        connect_ms = str(max(int(config.timeout * 1000 / 3), 1000))
        self.conf = {
            "ipc.client.rpc-timeout.ms": str(int(config.timeout * 1000)),
            "ipc.client.connect.max.retries": "1",
            "ipc.client.connect.retry.interval": "500",
            "ipc.client.connect.timeout": connect_ms,
            "ipc.client.connect.max.retries.on.timeouts": "1",
            **config.properties,
        }
        self._filesystems: dict[tuple[int, int | None], pafs.HadoopFileSystem] = {}
        self._fs_lock = threading.Lock()
        self._handle: int | None = None
        with jvm_environment(config.conf_dir) as env:  # the JVM starts at the first connect
            self._lib = libhdfs_api.load(env["ARROW_LIBHDFS_DIR"])
            self._within_timeout(self._connect, "connect")

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> None:
        """Connect pyarrow and our libhdfs handle, and prove the namenode answers."""
        self.pyarrow_fs = self._filesystem(0, None)
        keep: list[bytes | None] = []  # the builder keeps pointers, not copies, until connect

        def c(text: str | None) -> bytes | None:
            keep.append(encode(text))
            return keep[-1]

        builder = self._lib.hdfsNewBuilder()
        self._lib.hdfsBuilderSetNameNode(builder, c(self.config.namenode_uri))
        if self.user:
            self._lib.hdfsBuilderSetUserName(builder, c(self.user))
        if self.ticket_cache:
            self._lib.hdfsBuilderSetKerbTicketCachePath(builder, c(self.ticket_cache))
        self._lib.hdfsBuilderSetForceNewInstance(builder)
        for key, value in self.conf.items():
            self._lib.hdfsBuilderConfSetStr(builder, c(key), c(value))
        handle = self._lib.hdfsBuilderConnect(builder)
        if not handle:
            raise self._unreachable(f"libhdfs could not connect (errno {ctypes.get_errno()})")
        self._handle = handle
        ptr = self._lib.hdfsGetPathInfo(handle, b"/")
        if not ptr:
            # The status of "/" is never denied: a reachable secure NameNode refused the login.
            refused = ctypes.get_errno() in (errno.EACCES, EINTERNAL) and not self._namenode_down()
            if self.config.kerberos and refused:
                raise errors.kerberos(
                    "/",
                    "the NameNode is reachable but refused the libhdfs client's login (the "
                    "Java stack trace is on stderr)",
                    self.config.properties,
                )
            raise self._unreachable("the namenode did not answer a status call on /")
        self._lib.hdfsFreeFileInfo(ptr, 1)

    def _filesystem(self, replication: int, blocksize: int | None) -> pafs.HadoopFileSystem:
        """A pyarrow HadoopFileSystem writing with `replication` (0: default) and `blocksize`."""
        import pyarrow.fs as pafs

        key = (replication, blocksize)
        with self._fs_lock:
            if key not in self._filesystems:
                self._filesystems[key] = pafs.HadoopFileSystem(
                    self.config.namenode_uri,
                    0,
                    user=self.user,
                    kerb_ticket=self.ticket_cache,
                    replication=replication,
                    default_block_size=blocksize,
                    extra_conf=self.conf,
                )
            return self._filesystems[key]

    def _within_timeout(self, func: Callable[[], T], what: str) -> T:
        """Run `func` in a helper thread; ConnectionError if it takes over config.timeout."""
        result: list[Any] = []

        def run() -> None:
            try:
                result.append((True, func()))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                result.append((False, e))

        worker = threading.Thread(target=run, name=f"hopsfs-arrow-{what}", daemon=True)
        worker.start()
        worker.join(self.config.timeout)
        if not result:
            raise self._unreachable(f"no answer within {self.config.timeout:g}s")
        ok, value = result[0]
        if not ok:
            raise value
        return cast(T, value)

    def _unreachable(self, why: str) -> ConnectionError:
        return ConnectionError(
            f"cannot reach the HDFS namenode {self.config.namenode_uri} through libhdfs ({why}); "
            "check that the namenode is up, the address/HADOOP_CONF_DIR is right and, on a secure "
            "cluster, that you have Kerberos credentials (the Java stack trace is on stderr)"
        )

    def _fs(self) -> int:
        """Our libhdfs handle (never NULL: libhdfs would crash the process on it)."""
        if not self._handle:
            raise ValueError(f"the arrow backend for {self.config.namenode_uri} is closed")
        return self._handle

    def _namenode_down(self) -> bool:
        """Whether the namenode's RPC port refuses TCP (only checkable for hdfs://host:port)."""
        parts = urlsplit(self.config.namenode_uri)
        if not parts.hostname or not parts.port:
            return False
        try:
            with socket.create_connection(
                (parts.hostname, parts.port), timeout=self.config.timeout
            ):
                return False
        except OSError:
            return True

    # -- errors --------------------------------------------------------------------------------

    def _error(self, path: str, code: int | None, detail: str) -> OSError:
        """The typed error for libhdfs/pyarrow failure `code` (an errno) on `path`."""
        java = errors.java_class_name(detail)
        if java:
            return errors.translate(java, detail, path)
        if code == EINTERNAL or not code:
            if self._namenode_down():
                return errors.make(
                    ConnectionError, path, self._unreachable("connection refused").args[0]
                )
            return errors.make(OSError, path, f"{detail} (the Java stack trace is on stderr)")
        exc_type = type(OSError(code, ""))  # Python's own errno -> subclass mapping
        if exc_type is PermissionError:  # HDFS also says AccessControlException for "a/file/x"
            blocker = self._file_ancestor(path)
            if blocker:
                return errors.make(
                    NotADirectoryError, path, f"{blocker} is a file, not a directory"
                )
            detail = f"{detail}: user={self.user or getpass.getuser()}"  # libhdfs names no user
        return errors.make(exc_type, path, detail, code=code)

    def _file_ancestor(self, path: str) -> str | None:
        """The nearest readable ancestor of `path` if it is a file (else None)."""
        parent = posixpath.dirname(path)
        while parent != "/":
            ptr = self._lib.hdfsGetPathInfo(self._fs(), encode(parent))
            if ptr:
                is_file = ptr[0].kind == ord("F")
                self._lib.hdfsFreeFileInfo(ptr, 1)
                return parent if is_file else None
            parent = posixpath.dirname(parent)
        return None

    def _check(self, path: str, ok: object, op: str) -> None:
        """Raise the typed error for a failed libhdfs call (`ok` falsy) on `path`."""
        if not ok:
            code = ctypes.get_errno()
            raise self._error(path, code, f"{op} failed: {os.strerror(code)}")

    def _arrow(self, path: str, func: Callable[[], T]) -> T:
        """Call pyarrow, turning its OSError into our typed, path-naming error."""
        try:
            return func()
        except OSError as e:
            raise self._error(path, e.errno, _ERRNO_PREFIX.sub("", str(e))) from e

    # -- metadata ------------------------------------------------------------------------------

    def _info(self, raw: FileInfoStruct) -> FileInfo:
        is_dir = raw.kind == ord("D")
        name = urlsplit((raw.name or b"").decode()).path or "/"
        return FileInfo(
            name=name.rstrip("/") or "/",
            size=0 if is_dir else int(raw.size),
            type="directory" if is_dir else "file",
            mtime=float(raw.mtime),
            atime=float(raw.atime),
            permission=raw.permissions & 0o7777,
            owner=(raw.owner or b"").decode(),
            group=(raw.group or b"").decode(),
            replication=0 if is_dir else int(raw.replication),
            blocksize=0 if is_dir else int(raw.blocksize),
        )

    def info(self, path: str) -> FileInfo:
        path = norm_path(path)
        ptr = self._lib.hdfsGetPathInfo(self._fs(), encode(path))
        self._check(path, ptr, "get status")
        try:
            return self._info(ptr[0])
        finally:
            self._lib.hdfsFreeFileInfo(ptr, 1)

    def ls(self, path: str) -> list[FileInfo]:
        path = norm_path(path)
        count = ctypes.c_int(0)
        ptr = self._lib.hdfsListDirectory(self._fs(), encode(path), ctypes.byref(count))
        if not ptr:
            self._check(path, ctypes.get_errno() == 0, "list")  # NULL with errno 0: empty directory
            return []
        try:
            return [self._info(ptr[i]) for i in range(count.value)]
        finally:
            self._lib.hdfsFreeFileInfo(ptr, count.value)

    def mkdir(self, path: str, *, parents: bool = True, permission: int | None = None) -> None:
        path = norm_path(path)
        if not parents:
            parent = posixpath.dirname(path)
            if self._kind(parent) is None:
                raise errors.make(FileNotFoundError, path, f"parent {parent} does not exist")
        if self._kind(path) == "file":
            raise errors.make(FileExistsError, path, f"cannot make directory: {path} is a file")
        self._arrow(path, lambda: self.pyarrow_fs.create_dir(path, recursive=True))
        if permission is not None:
            self.set_permission(path, permission)

    def _kind(self, path: str) -> str | None:
        """The type of `path` ("file" or "directory"), None when it does not exist."""
        try:
            return self.info(path)["type"]
        except FileNotFoundError:
            return None

    def rm(self, path: str, *, recursive: bool = False) -> None:
        path = norm_path(path)
        if self.info(path)["type"] == "file":
            self._arrow(path, lambda: self.pyarrow_fs.delete_file(path))
            return
        if path == "/":
            raise errors.make(PermissionError, path, "refusing to delete the root directory")
        if not recursive and self.ls(path):
            raise errors.make(
                OSError,
                path,
                f"directory {path} is not empty (pass recursive=True)",
                code=errno.ENOTEMPTY,
            )
        self._arrow(path, lambda: self.pyarrow_fs.delete_dir(path))

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """HDFS rename, never *into* an existing directory and never a silent `false`. libhdfs
        cannot rename over an existing `dst` (renames_over is False): NotImplementedError then,
        and the caller moves `dst` aside first (see fs.commit.replace)."""
        src, dst = norm_path(src), norm_path(dst)
        if self._kind(dst) is None:
            if self._lib.hdfsRename(self._fs(), encode(src), encode(dst)) == 0:
                return
            self._rename_failed(src, dst, ctypes.get_errno())
        self.info(src)  # FileNotFoundError for a missing source
        if overwrite:
            raise NotImplementedError(
                f"libhdfs cannot rename {src} over the existing {dst}: move {dst} aside first"
            )
        raise errors.make(FileExistsError, dst, f"cannot rename {src}: {dst} exists")

    def _rename_failed(self, src: str, dst: str, code: int) -> NoReturn:
        """Raise why hdfsRename(src, dst) failed (HDFS often says only `false`)."""
        self.info(src)  # FileNotFoundError for a missing source
        parent = posixpath.dirname(dst)
        parent_kind = self._kind(parent)
        if parent_kind is None:
            raise errors.make(FileNotFoundError, dst, f"parent directory {parent} does not exist")
        if parent_kind != "directory":
            raise errors.make(NotADirectoryError, dst, f"parent {parent} is a file")
        if self._kind(dst) is not None:  # created concurrently
            raise errors.make(FileExistsError, dst, f"cannot rename {src}: {dst} exists")
        raise self._error(src, code, f"rename to {dst} failed: {os.strerror(code)}")

    def set_permission(self, path: str, mode: int) -> None:
        path = norm_path(path)
        self._check(
            path, self._lib.hdfsChmod(self._fs(), encode(path), mode & 0o7777) == 0, "chmod"
        )

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        if owner is None and group is None:
            return
        path = norm_path(path)
        ok = self._lib.hdfsChown(self._fs(), encode(path), encode(owner), encode(group)) == 0
        self._check(path, ok, "chown")

    def set_replication(self, path: str, replication: int) -> None:
        path = norm_path(path)
        if self.info(path)["type"] == "directory":
            raise errors.make(IsADirectoryError, path, "replication applies to files only")
        ok = self._lib.hdfsSetReplication(self._fs(), encode(path), replication) == 0
        self._check(path, ok, "set replication")

    def set_times(self, path: str, mtime: float | None = None, atime: float | None = None) -> None:
        """Set modification/access times (libhdfs has whole-second resolution)."""
        if mtime is None and atime is None:
            return
        path = norm_path(path)
        ok = self._lib.hdfsUtime(self._fs(), encode(path), _secs(mtime), _secs(atime)) == 0
        self._check(path, ok, "set times")

    def content_summary(self, path: str) -> ContentSummary:
        """Exact (with quotas) through WebHDFS when configured, else summed from listings."""
        if self.config.webhdfs_url:
            return self.web.get("content summaries").content_summary(path)
        top = self.info(path)
        summary = ContentSummary(
            length=0, file_count=0, directory_count=0, space_consumed=0, quota=-1, space_quota=-1
        )
        pending = [top]
        while pending:
            entry = pending.pop()
            if entry["type"] == "directory":
                summary["directory_count"] += 1
                pending.extend(self.ls(entry["name"]))
            else:
                summary["file_count"] += 1
                summary["length"] += entry["size"]
                summary["space_consumed"] += entry["size"] * entry.get("replication", 1)
        return summary

    def fs_status(self) -> FsStatus:
        """The NameNode's raw capacity and use, through libhdfs."""
        capacity, used = self._lib.hdfsGetCapacity(self._fs()), self._lib.hdfsGetUsed(self._fs())
        self._check("/", capacity >= 0 and used >= 0, "get capacity")
        return FsStatus(capacity=int(capacity), used=int(used))

    # -- data ----------------------------------------------------------------------------------

    def open_read(self, path: str) -> ArrowReader:
        path = norm_path(path)
        # Check first: libhdfs reports a directory as ENOENT and prints Java stack traces.
        if self.info(path)["type"] == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot open directory {path} for reading")
        return ArrowReader(
            self._arrow(path, lambda: self.pyarrow_fs.open_input_file(path)), path, self
        )

    def open_write(
        self,
        path: str,
        *,
        overwrite: bool = False,
        replication: int | None = None,
        blocksize: int | None = None,
        permission: int | None = None,
    ) -> BinaryIO:
        path = norm_path(path)
        kind = self._kind(path)
        if kind == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot write: {path} is a directory")
        if kind == "file" and not overwrite:
            raise errors.make(FileExistsError, path, f"cannot write: {path} exists")
        fs = self._filesystem(replication or 0, blocksize)
        stream = self._arrow(path, lambda: fs.open_output_stream(path))
        if permission is not None:  # the file exists (under construction) once opened
            self.set_permission(path, permission)
        return cast(BinaryIO, stream)

    def append(self, path: str) -> BinaryIO:
        """A stream appending to the existing file `path`."""
        path = norm_path(path)
        if self.info(path)["type"] == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot append to directory {path}")
        return cast(BinaryIO, self._arrow(path, lambda: self.pyarrow_fs.open_append_stream(path)))

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            self._lib.hdfsDisconnect(handle)
        super().close()
        self._filesystems.clear()


class ArrowReader:
    """A RangeReader over a pyarrow HDFS random-access file (positional reads, thread-safe)."""

    def __init__(self, handle: Any, path: str, backend: ArrowBackend) -> None:
        self._handle = handle
        self._path = path
        self._backend = backend
        self.size: int = handle.size()

    def read_range(self, offset: int, length: int) -> bytes:
        if offset >= self.size or length <= 0:
            return b""
        length = min(length, self.size - offset)
        return self._backend._arrow(self._path, lambda: self._handle.read_at(length, offset))

    def close(self) -> None:
        self._handle.close()


def _secs(t: float | None) -> int:
    """Whole seconds for hdfsUtime; -1 leaves the time unchanged."""
    return -1 if t is None else int(t)
