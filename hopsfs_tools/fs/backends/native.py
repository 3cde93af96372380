"""The `native` backend (the default): hdfs-native, a Rust client of HDFS's RPC protocol, no JVM."""

from __future__ import annotations

import asyncio
import errno
import io
import logging
import os
import posixpath
import re
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from hdfs_native import AclEntry, AsyncClient, Client, WriteOptions

from hopsfs_tools.config import namenode_addresses
from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import (
    DIR_MODE,
    FILE_MODE,
    AclStatus,
    BackendBase,
    ContentSummary,
    FileInfo,
)
from hopsfs_tools.fs.backends.watched import WatchedCall, stuck_calls
from hopsfs_tools.fs.readahead import ReadAhead
from hopsfs_tools.hadoop import identity, tokens

if TYPE_CHECKING:
    from hdfs_native import FileStatus

    from hopsfs_tools.config import ClusterConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

_RPC_ERROR = re.compile(r'RPCError\("([^"]+)", "(.*)', re.DOTALL)
# GSSAPIError(GssMajorCodes { .. routine_error: "GSS_S_NO_CRED" .. }, 2529639053, "why")
_GSS_ERROR = re.compile(r'GSSAPIError\(.*, "(.*)"\)', re.DOTALL)
_NETWORK = re.compile(r"Connection (refused|reset)|timed out|os error (104|110|111|113)\b")
_SILENT = re.compile(r"No data received for \d+ms")  # hdfs-native's socket timeout
_RETRY_KEYS = (
    "dfs.client.failover.max.attempts",
    "dfs.client.failover.sleep.base.millis",
    "dfs.client.failover.sleep.max.millis",
)

# A write or close that has not returned after this many times the timeout is given up: when a
# DataNode dies, hdfs-native's pipeline recovery can wait for an ack forever.
WRITE_STALL_TIMEOUTS = 3
# A given-up call keeps a daemon thread blocked until the DataNode answers (hdfs-native cannot
# cancel it); past this many, new writes are refused instead of piling up more threads.
MAX_STUCK_CALLS = 8
# hdfs-native keeps idle DataNode connections in a process-wide pool for this many seconds; a
# forked child that takes one of the parent's shares its socket and hangs for good.
POOL_IDLE = 3.0
MODE_TTL = 2.0  # seconds the asyncio face reuses a directory's "new files inherit a default ACL"

_last_datanode_io = 0.0  # time.monotonic() of this process's last DataNode read or write
_pool_inherited_until = 0.0  # in a forked child: when the parent's pooled connections expire


def _note_datanode_io() -> None:
    global _last_datanode_io
    _last_datanode_io = time.monotonic()


def _after_fork_in_child() -> None:
    global _pool_inherited_until
    if _last_datanode_io:
        _pool_inherited_until = _last_datanode_io + POOL_IDLE + 0.5


def _wait_for_inherited_pool() -> None:
    """In a child forked within POOL_IDLE of the parent's DataNode I/O, wait until the pooled
    connections it inherited have expired (a new client would take one and hang)."""
    delay = _pool_inherited_until - time.monotonic()
    if delay > 0:
        log.info("forked child: waiting %.1fs for inherited DataNode connections to expire", delay)
        time.sleep(delay)


os.register_at_fork(after_in_child=_after_fork_in_child)


def connect(config: ClusterConfig) -> NativeBackend:
    """A native backend for the cluster described by `config` (checks the namenode is reachable)."""
    return NativeBackend(config)


def retry_properties(timeout: float) -> dict[str, str]:
    """hdfs-native failover/retry settings whose exponential backoff gives up within `timeout`."""
    base = max(50, min(500, int(timeout * 1000 / 10)))
    cap = max(base, min(15000, int(timeout * 1000 / 4)))
    attempts, waited = 0, 0.0
    while True:  # Hadoop-style backoff: base * 2**n capped, times a random factor up to 1.5
        step = 1.5 * min(cap, base * 2**attempts) / 1000
        if waited + step > timeout:
            break
        waited, attempts = waited + step, attempts + 1
    return dict(zip(_RETRY_KEYS, (str(attempts), str(base), str(cap)), strict=True))


class NativeBackend(BackendBase):
    """The Backend protocol over `hdfs_native.Client` (its calls release the GIL)."""

    name = "native"
    # hdfs-native recovers the block being written, but fails when a new block's pipeline
    # starts at a DataNode that has just died (it does not exclude it and ask again).
    recovers_writes = False

    def __init__(self, config: ClusterConfig) -> None:
        super().__init__(config)
        tokens.require_environment(config.token_file, self.name)  # hdfs-native reads it there
        # Kerberos: the ticket's principal is the user (hdfs-native ignores HADOOP_USER_NAME then)
        self.user = None if config.kerberos else identity.bind_native(config.user)
        # released on close(), or when a filesystem nobody closed is garbage-collected
        self._unbind = (
            None
            if self.user is None
            else weakref.finalize(self, identity.release_native, self.user)
        )
        props = {**retry_properties(config.timeout), **config.properties}
        if "dfs.client.socket-timeout" not in props:
            props["dfs.client.socket-timeout"] = str(int(config.timeout * 1000))
        # hdfs-native treats every block written to as an append when a DataNode fails, so the
        # DEFAULT policy demands a replacement DataNode; a cluster with no spare one (3 DataNodes,
        # replication 3) would fail the write. Best effort continues on the survivors, as the
        # Java client does for a create; the NameNode re-replicates the block afterwards.
        props.setdefault("dfs.client.block.write.replace-datanode-on-failure.best-effort", "true")
        self._closed = False
        self._props = props
        self._aio: NativeAsync | None = None
        try:
            self._check_reachable()
            self.client = Client(config.namenode_uri, config=props)
        except BaseException:
            self._release_user()
            raise

    # -- connection and errors -----------------------------------------------------------------

    @property
    def aio(self) -> NativeAsync:  # type: ignore[override]
        """The asyncio face: hdfs-native's AsyncClient with this client's settings and user (made
        on first use; dropped with this backend, e.g. in a forked child)."""
        if self._aio is None:
            self._aio = NativeAsync(self)
        return self._aio

    def _release_user(self) -> None:
        """Unbind this client's user, once (a Kerberos client is bound to none)."""
        if self._unbind is not None:
            self._unbind()

    def _namenode_addresses(self) -> list[tuple[str, int]]:
        """The RPC host:port of each namenode (all of an HA nameservice or a viewfs table)."""
        return namenode_addresses(self.config.properties, self.config.namenode_uri)

    def _check_reachable(self, timeout: float | None = None) -> None:
        """ConnectionError within `timeout` (config.timeout) unless some namenode accepts TCP."""
        problems = []
        for host, port in self._namenode_addresses():
            try:
                with socket.create_connection((host, port), timeout=timeout or self.config.timeout):
                    return
            except OSError as e:
                problems.append(f"{host}:{port}: {e.strerror or e}")
        raise ConnectionError(self._unreachable("; ".join(problems)))

    def _unreachable(self, why: str) -> str:
        return (
            f"cannot reach the HDFS namenode {self.config.namenode_uri} ({why}); check that the "
            "namenode is up and the address is right (namenode= / HOPSFS_NAMENODE_URI / "
            "HADOOP_CONF_DIR), or start a local cluster with `hopsfs-tools cluster up`"
        )

    def _lost(self, path: str, why: str) -> OSError:
        """What a network failure means: the namenode is unreachable, or a datanode was lost."""
        try:
            self._check_reachable(min(2.0, self.config.timeout))
        except ConnectionError as e:
            return errors.make(ConnectionError, path, self._unreachable(why) if why else str(e))
        return errors.make(
            errors.DataNodeLostError,
            path,
            f"lost the connection to an HDFS datanode ({why}) while the namenode "
            f"{self.config.namenode_uri} is up; the call is safe to retry (a datanode may have "
            "died: it is avoided once the namenode sees it stale)",
        )

    def _error(self, exc: BaseException, path: str) -> OSError:
        """Our typed, path-naming error for an exception raised by hdfs-native on `path`."""
        text = str(exc)
        gss = _GSS_ERROR.search(text)
        if gss:  # no (valid) Kerberos ticket: fails at once, never a connection error
            return errors.kerberos(path, gss.group(1), self.config.properties)
        rpc = _RPC_ERROR.match(text)
        if rpc:  # RuntimeError('RPCError("org.apache...Exception", "message\\n\\tat ...")')
            java, text = rpc.group(1), rpc.group(2).split("\\n")[0].removesuffix('")')
            text = text.replace('\\"', '"')
            return errors.translate(errors.java_class_name(java) or java, text, path)
        if isinstance(exc, (FileNotFoundError, FileExistsError)):
            return errors.translate(errors.java_class_name(text), text, path, default=type(exc))
        if (
            isinstance(exc, ConnectionError)
            or (isinstance(exc, OSError) and _NETWORK.search(text))
            or text.startswith("DataTransferError")  # hdfs-native lost its DataNodes
        ):
            return self._lost(path, text)
        if isinstance(exc, OSError) and _SILENT.search(text):  # a DataNode stopped answering
            return errors.make(TimeoutError, path, text, code=errno.ETIMEDOUT)
        if isinstance(exc, OSError) and exc.errno:
            return errors.make(type(exc), path, text, code=exc.errno)
        return errors.translate(errors.java_class_name(text), f"{type(exc).__name__}: {text}", path)

    @contextmanager
    def _errors(self, path: str) -> Iterator[None]:
        """Translate hdfs-native exceptions raised inside the block (for `path`)."""
        try:
            yield
        except (OSError, RuntimeError, ValueError) as e:
            raise self._error(e, path) from e

    def _call(self, path: str, func: Callable[..., T], *args: Any) -> T:
        """`func(path, *args)` with errors translated."""
        with self._errors(path):
            return func(path, *args)

    # -- metadata ------------------------------------------------------------------------------

    def info(self, path: str) -> FileInfo:
        return file_info(self._call(path, self.client.get_file_info), path)

    def ls(self, path: str) -> list[FileInfo]:
        with self._errors(path):
            return [file_info(st) for st in self.client.list_status(path)]

    def mkdir(self, path: str, *, parents: bool = True, permission: int | None = None) -> None:
        mode = self._create_mode(path, permission, DIR_MODE)
        self._call(path, self.client.mkdirs, mode, parents)

    def _create_mode(self, path: str, requested: int | None, default: int) -> int:
        """The mode hdfs-native sends for a new inode at `path`: `requested`, else `default`
        unmasked under a default ACL and trimmed by the umask elsewhere.

        Hadoop's Java client sends the mode with the umask applied and, separately, without it;
        the namenode takes the unmasked one when the parent has a default ACL, so that ACL (not
        the umask) decides and project members can write each other's files. hdfs-native sends
        a single mode, so the choice is made here (one ACL-status call on the parent).
        """
        if requested is not None:
            return requested
        return default if self._inherits_default_acl(path) else default & ~self.config.umask

    def _inherits_default_acl(self, path: str) -> bool:
        """Whether the nearest existing ancestor of `path` has a default ACL (new inodes below
        it inherit that ACL); False when that cannot be read (e.g. ACLs disabled)."""
        parent = posixpath.dirname(path)
        while True:
            try:
                with self._errors(parent):
                    entries = self.client.get_acl_status(parent).entries
            except FileNotFoundError:
                if parent == "/":
                    return False
                parent = posixpath.dirname(parent)
                continue
            except OSError as e:
                log.debug("no ACL status for %s (%s): creating below it with the umask", parent, e)
                return False
            return any(e.scope == "default" for e in entries)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        if not self._call(path, self.client.delete, recursive):
            raise _not_deleted(path)

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        with self._rename_errors(src, dst):
            self.client.rename(src, dst, overwrite)

    @contextmanager
    def _rename_errors(self, src: str, dst: str) -> Iterator[None]:
        """Translate a rename's errors: an existing target names `dst`, the rest `src`."""
        try:
            yield
        except FileExistsError as e:
            raise self._error(e, dst) from e
        except (OSError, RuntimeError, ValueError) as e:
            raise self._error(e, src) from e

    def set_permission(self, path: str, mode: int) -> None:
        self._call(path, self.client.set_permission, mode)

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        self._call(path, self.client.set_owner, owner, group)

    def set_replication(self, path: str, replication: int) -> None:
        if not self._call(path, self.client.set_replication, replication):
            kind = self.info(path)["type"]  # FileNotFoundError when missing
            raise errors.make(
                IsADirectoryError, path, f"cannot set the replication of {kind} {path}"
            )

    def set_times(self, path: str, mtime: float | None = None, atime: float | None = None) -> None:
        if mtime is None or atime is None:
            current = self.info(path)
            mtime = current["mtime"] if mtime is None else mtime
            atime = current.get("atime", mtime) if atime is None else atime
        self._call(path, self.client.set_times, int(mtime * 1000), int(atime * 1000))

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        self._call(path, self.client.modify_acl_entries, [_acl_entry(text) for text in spec])

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        self._call(path, self.client.remove_acl_entries, [_acl_entry(text) for text in spec])

    def acl_entries(self, path: str) -> list[str]:
        return [e for e in self.acl_status(path)["entries"] if not e.startswith("default:")]

    def acl_status(self, path: str) -> AclStatus:
        with self._errors(path):
            status = self.client.get_acl_status(path)
        entries = sorted(status.entries, key=lambda e: e.scope == "default")  # access first
        return AclStatus(
            owner=status.owner,
            group=status.group,
            permission=status.permission,
            entries=[f"{_scope(e)}{e.type}:{e.name or ''}:{e.permissions}" for e in entries],
        )

    def set_acl(self, path: str, spec: list[str]) -> None:
        self._call(path, self.client.set_acl, [_acl_entry(text) for text in spec])

    def remove_acl(self, path: str) -> None:
        self._call(path, self.client.remove_acl)

    def remove_default_acl(self, path: str) -> None:
        self._call(path, self.client.remove_default_acl)

    def content_summary(self, path: str) -> ContentSummary:
        cs = self._call(path, self.client.get_content_summary)
        return ContentSummary(
            length=cs.length,
            file_count=cs.file_count,
            directory_count=cs.directory_count,
            space_consumed=cs.space_consumed,
            quota=_quota(cs.quota),
            space_quota=_quota(cs.space_quota),
        )

    # -- data ----------------------------------------------------------------------------------

    def open_read(self, path: str) -> ReadAhead:
        _wait_for_inherited_pool()
        with self._errors(path):
            return ReadAhead(NativeReader(self, path, self.client.read(path)))

    def open_write(
        self,
        path: str,
        *,
        overwrite: bool = False,
        replication: int | None = None,
        blocksize: int | None = None,
        permission: int | None = None,
    ) -> NativeWriter:
        options = WriteOptions(
            block_size=blocksize,
            replication=replication,
            permission=self._create_mode(path, permission, FILE_MODE),
            overwrite=overwrite,
            create_parent=True,
        )
        _wait_for_inherited_pool()
        with self._errors(path):
            return NativeWriter(self, path, self.client.create(path, options))

    def append(self, path: str) -> NativeWriter:
        """A writer appending to the existing file `path`."""
        _wait_for_inherited_pool()
        with self._errors(path):
            return NativeWriter(self, path, self.client.append(path))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release_user()
            super().close()


class NativeReader:
    """Random access to one file; reads past the end are clamped (hdfs-native panics on them)."""

    def __init__(self, backend: NativeBackend, path: str, reader: Any) -> None:
        self._backend, self.path, self._reader = backend, path, reader
        self.size: int = len(reader)

    def read_range(self, offset: int, length: int) -> bytes:
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        with self._backend._errors(self.path):
            data = self._reader.read_range(offset, length)
        _note_datanode_io()
        return data

    def close(self) -> None:
        self._reader.close()


class NativeWriter(io.RawIOBase):
    """A raw write stream; its data is complete on the cluster once close() returns.

    A write or close that makes no progress for WRITE_STALL_TIMEOUTS x the timeout raises
    TimeoutError (transient: HopsFile restarts the upload) and the stream is given up.
    """

    def __init__(self, backend: NativeBackend, path: str, writer: Any) -> None:
        super().__init__()
        self._backend, self.path, self._writer = backend, path, writer
        self._stall_after = WRITE_STALL_TIMEOUTS * backend.config.timeout
        self._stalled = False

    def writable(self) -> bool:
        return True

    def _watched(self, call: Callable[..., Any], *args: Any) -> None:
        """call(*args) with errors translated, given up if it stalls."""
        if self._stalled:
            raise _stall_error(self.path, self._stall_after)
        if stuck_calls() >= MAX_STUCK_CALLS:
            raise errors.make(
                OSError,
                self.path,
                f"refusing to write {self.path}: {MAX_STUCK_CALLS} earlier hdfs-native write calls "
                "of this process are still blocked on DataNodes that stopped answering (each holds "
                "a thread); retry once they answer, or use backend='webhdfs'",
                code=errno.EBUSY,
            )
        watched = WatchedCall(call, *args)
        if not wait([watched.future], timeout=self._stall_after).done:
            watched.give_up()
            self._stalled = True
            log.warning("%s: hdfs-native write stalled; giving the stream up", self.path)
            raise _stall_error(self.path, self._stall_after)
        with self._backend._errors(self.path):
            watched.future.result()
        _note_datanode_io()

    def write(self, data: Any) -> int:
        # hdfs-native takes bytes ~3x faster than other buffers (memoryview): one copy pays off.
        chunk = data if isinstance(data, bytes) else bytes(data)
        self._watched(self._writer.write, chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            try:
                self._watched(self._writer.close)
            finally:
                super().close()


class NativeAsync:
    """The asyncio face of a NativeBackend (its `aio`): hdfs-native's AsyncClient, errors
    translated as the backend's."""

    def __init__(self, backend: NativeBackend) -> None:
        _wait_for_inherited_pool()
        self._backend = backend
        self.client = AsyncClient(backend.config.namenode_uri, config=backend._props)
        self._modes: dict[str, tuple[float, int]] = {}

    async def info(self, path: str) -> FileInfo:
        with self._backend._errors(path):
            return file_info(await self.client.get_file_info(path), path)

    async def ls(self, path: str) -> list[FileInfo]:
        with self._backend._errors(path):
            return [file_info(st) async for st in self.client.list_status(path)]

    async def open_read(self, path: str) -> AsyncNativeReader:
        with self._backend._errors(path):
            return AsyncNativeReader(self._backend, path, await self.client.read(path))

    async def open_write(self, path: str) -> AsyncNativeWriter:
        options = WriteOptions(permission=await self._create_mode(path), create_parent=True)
        with self._backend._errors(path):
            return AsyncNativeWriter(self._backend, path, await self.client.create(path, options))

    async def _create_mode(self, path: str) -> int:
        """The mode of a new file at `path` (see NativeBackend._create_mode), the parent's
        answer reused for MODE_TTL seconds: one ACL-status call per directory, not per file."""
        parent = posixpath.dirname(path)
        now = time.monotonic()
        known = self._modes.get(parent)
        if known is None or now - known[0] > MODE_TTL:
            mode = await asyncio.to_thread(self._backend._create_mode, path, None, FILE_MODE)
            known = self._modes[parent] = (now, mode)
        return known[1]

    async def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        with self._backend._rename_errors(src, dst):
            await self.client.rename(src, dst, overwrite)

    async def rm(self, path: str, *, recursive: bool = False) -> None:
        with self._backend._errors(path):
            deleted = await self.client.delete(path, recursive)
        if not deleted:
            raise _not_deleted(path)


class AsyncNativeReader:
    """NativeReader on the asyncio client: reads past the end are clamped."""

    def __init__(self, backend: NativeBackend, path: str, reader: Any) -> None:
        self._backend, self.path, self._reader = backend, path, reader
        self.size: int = len(reader)

    async def read_range(self, offset: int, length: int) -> bytes:
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        with self._backend._errors(self.path):
            return await self._reader.read_range(offset, length)


class AsyncNativeWriter:
    """NativeWriter on the asyncio client: a write or close that makes no progress for
    WRITE_STALL_TIMEOUTS x the timeout is given up (TimeoutError: the upload restarts)."""

    def __init__(self, backend: NativeBackend, path: str, writer: Any) -> None:
        self._backend, self.path, self._writer = backend, path, writer
        self._stall_after = WRITE_STALL_TIMEOUTS * backend.config.timeout

    async def _watched(self, call: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(call, self._stall_after)
        except TimeoutError:
            raise _stall_error(self.path, self._stall_after) from None
        except (OSError, RuntimeError, ValueError) as e:
            raise self._backend._error(e, self.path) from e

    async def write(self, data: bytes) -> None:
        await self._watched(self._writer.write(data))

    async def close(self) -> None:
        await self._watched(self._writer.close())


def _not_deleted(path: str) -> FileNotFoundError:
    return errors.make(FileNotFoundError, path, f"cannot delete {path}: no such file or directory")


def _stall_error(path: str, after: float) -> TimeoutError:
    return TimeoutError(
        errno.ETIMEDOUT,
        f"writing {path}: no progress for {after:g}s (a DataNode pipeline stalled); the upload "
        "restarts if it can",
    )


def file_info(st: FileStatus, path: str | None = None) -> FileInfo:
    """An fsspec info dict from an hdfs-native FileStatus."""
    return FileInfo(
        name=path or st.path or "/",
        size=0 if st.isdir else st.length,
        type="directory" if st.isdir else "file",
        mtime=st.modification_time / 1000,
        atime=st.access_time / 1000,
        permission=st.permission,
        owner=st.owner,
        group=st.group,
        replication=st.replication or 0,
        blocksize=st.blocksize or 0,
    )


def _scope(entry: AclEntry) -> str:
    return "default:" if entry.scope == "default" else ""


def _acl_entry(text: str) -> AclEntry:
    """An hdfs-native AclEntry from aclspec text ("default:user:u:rwx"; "user:u" to remove)."""
    scope = "default" if text.startswith("default:") else "access"
    kind, name, *perms = text.removeprefix("default:").split(":")
    return AclEntry(kind, scope, perms[0] if perms else "---", name or None)


def _quota(value: int) -> int:
    """-1 for an unset quota (HDFS sends -1, which hdfs-native reads as unsigned 2**64-1)."""
    return -1 if value >= 2**63 else value
