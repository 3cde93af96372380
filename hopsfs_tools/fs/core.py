"""HopsFileSystem: the fsspec filesystem (protocol "hopsfs") over a pluggable HDFS backend.

Paths are resolved once, here, through `hopsfs_tools.project`: "hopsfs://rel" and plain
relative paths are project-relative, "hopsfs:///abs", "/abs" and "hdfs://host:port/abs" absolute.
Names in info dicts are absolute HDFS paths without scheme. Writes go to a hidden temporary file
next to the target and are renamed over it on close, so readers never see partial files.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import posixpath
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

from fsspec import spec as fsspec_spec
from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem, _Cached

from hopsfs_tools.config import ClusterConfig, load_config
from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs.backends.base import Backend, BlockLocation, ContentSummary, RangeReader
from hopsfs_tools.fs.malloc import tune_for_large_reads
from hopsfs_tools.fs.retry import RetryingReader, RetryPolicy
from hopsfs_tools.project import Project, current_project, resolve

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BLOCK_SIZE = 8 * 2**20  # readahead / write buffer: 8 MiB, as HopsFS's TF readers use
DEFAULT_BATCH_SIZE = 64  # concurrent operations in cat/pipe/put/get/copy of many files
_MODES = [sorted(m + t) for m in "rwxa" for t in ("", "b", "t")]  # open() modes (any order)
TEMP_MARKER = commit.TEMP_MARKER
TOUCH_INTERVAL = 60.0  # seconds between mtime updates of a temporary file being written
SPOOL_MEMORY = 8 * 2**20  # a restartable write keeps this much in memory, the rest in $TMPDIR
SPOOL_LIMIT = 2 * 2**30  # ... and stops keeping a copy (no more restarts) beyond this size
# Environment read at construction: instances built under different values must differ.
_ENV_KEYS = (
    "HOPSFS_NAMENODE_URI",
    "HOPSFS_WEBHDFS_URL",
    "HOPSFS_BACKEND",
    "HOPSFS_PROJECT",
    "HOPSWORKS_PROJECT_NAME",
    "HOPSFS_TIMEOUT",
    "HOPSFS_CA_CERT",
    "KRB5CCNAME",  # another ticket cache may hold another principal
    "HOPSFS_RETRIES",
    "HOPSFS_RETRY_BACKOFF",
    "HADOOP_CONF_DIR",
    "HADOOP_USER_NAME",
)


class _EnvCached(_Cached):
    """fsspec's instance cache, also keyed by the environment that configures a filesystem."""

    @property
    def _env_token(cls) -> tuple[str | None, ...]:
        return tuple(os.environ.get(k) for k in _ENV_KEYS)


class _ClassOrInstanceMethod:
    """Bind to the instance when called on one, else to the class (fsspec calls both ways)."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def __get__(self, obj: object, cls: type) -> Callable[..., Any]:
        return self.func.__get__(cls if obj is None else obj)


def _strip_protocol(self_or_cls: HopsFileSystem | type[HopsFileSystem], path: Any) -> Any:
    """The absolute HDFS path of `path`: against the instance's project, or on the class (as
    fsspec.open / pandas URLs are parsed) against the environment's project.

    So a relative "hopsfs://rel" URL with storage_options={"project": other} resolves against
    the environment's project: give such URLs absolute ("hopsfs:///Projects/other/rel").
    """
    if isinstance(path, (list, tuple)):
        return [_strip_protocol(self_or_cls, p) for p in path]
    text = os.fspath(path)
    if isinstance(self_or_cls, HopsFileSystem):
        return self_or_cls.resolve(text)
    project = current_project()
    return project.resolve(text) if project else resolve(text)


class HopsFileSystem(AbstractFileSystem, metaclass=_EnvCached):
    """fsspec filesystem for HDFS/HopsFS: `fsspec.filesystem("hopsfs")`, "hopsfs://..." URLs."""

    protocol = ("hopsfs",)
    root_marker = "/"
    blocksize = DEFAULT_BLOCK_SIZE
    _extra_tokenize_attributes = ("_env_token",)
    _strip_protocol = _ClassOrInstanceMethod(_strip_protocol)  # type: ignore[assignment]

    def __init__(
        self,
        backend: str | None = None,
        project: str | Project | None = None,
        user: str | None = None,
        namenode: str | None = None,
        webhdfs_url: str | None = None,
        conf_dir: str | None = None,
        timeout: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        ca_cert: str | None = None,
        retries: int | None = None,
        retry_backoff: float | None = None,
        **kwargs: Any,
    ) -> None:
        """`backend`: "native" (default, or $HOPSFS_BACKEND), "arrow" or "webhdfs";
        `ca_cert`: PEM CA bundle to verify HTTPS (WebHDFS) servers with (or $HOPSFS_CA_CERT).

        `retries` / `retry_backoff` ($HOPSFS_RETRIES / $HOPSFS_RETRY_BACKOFF): how often calls
        that are safe to repeat are retried after a lost connection, and the first wait."""
        super().__init__(**kwargs)
        self.config: ClusterConfig = load_config(
            namenode=namenode,
            webhdfs_url=webhdfs_url,
            backend=backend,
            conf_dir=conf_dir,
            user=user,
            timeout=timeout,
            ca_cert=ca_cert,
            retries=retries,
            retry_backoff=retry_backoff,
        )
        self.retry_policy = RetryPolicy.from_config(self.config)
        self.project: Project | None = (
            project if isinstance(project, Project) else current_project(project, user)
        )
        self.batch_size = batch_size
        self._backend: Backend | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    @classmethod
    def _get_kwargs_from_urls(cls, path: str) -> dict[str, Any]:
        return {}  # "hopsfs://" URLs carry no authority: the cluster comes from the configuration

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The connected backend (connects on first use: ConnectionError if unreachable)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    from hopsfs_tools.fs.backends import connect

                    tune_for_large_reads()
                    self._backend = connect(self.config)
        return self._backend

    def close(self) -> None:
        """Release the backend's connections (a later call reconnects)."""
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def to_pyarrow(self) -> Any:
        """A pyarrow.fs.FileSystem over this one that also resolves project-relative paths.

        (pyarrow's own wrapper of an fsspec filesystem, used for `filesystem=fs`, leaves paths
        as given, so its dataset discovery needs absolute paths.)
        """
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        class _Handler(FSSpecHandler):  # type: ignore[misc]
            def normalize_path(self, path: str) -> str:
                return self.fs.resolve(path)

        return PyFileSystem(_Handler(self))

    def resolve(self, path: str) -> str:
        """The absolute HDFS path of a project-relative path, absolute path or URI."""
        return self.project.resolve(path) if self.project else resolve(path)

    def _do(self, op: str, path: str, *args: Any, **kwargs: Any) -> Any:
        """backend.<op>(path, ...) for an operation that is safe to repeat, with retries."""
        return self.retry_policy.call(
            lambda: getattr(self.backend, op)(path, *args, **kwargs), f"{op} {path}"
        )

    def _open_reader(self, path: str) -> RetryingReader:
        """A reader of `path` that survives lost connections (reopens, resumes at the range)."""
        return RetryingReader(lambda: self.backend.open_read(path), self.retry_policy, path)

    def _remove(self, path: str, recursive: bool = False) -> None:
        """backend.rm with retries; after a lost answer, a path that is gone counts as deleted."""
        retried = False

        def attempt() -> None:
            nonlocal retried
            try:
                self.backend.rm(path, recursive=recursive)
            except FileNotFoundError:
                if not retried:
                    raise
            except Exception as e:
                retried = retried or errors.transient(e)
                raise

        self.retry_policy.call(attempt, f"deleting {path}")

    def _rename(self, src: str, dst: str, overwrite: bool) -> None:
        """backend.rename with retries; after a lost answer, `src` gone and `dst` present means
        the lost attempt did it."""
        retried = False

        def attempt() -> None:
            nonlocal retried
            try:
                self.backend.rename(src, dst, overwrite=overwrite)
            except FileNotFoundError:
                if not (retried and self.exists(dst) and not self.exists(src)):
                    raise
            except Exception as e:
                retried = retried or errors.transient(e)
                raise

        self.retry_policy.call(attempt, f"renaming {src} to {dst}")

    def _pool_map(
        self, func: Callable[[T], Any], items: Iterable[T], batch_size: int | None = None
    ) -> list[tuple[T, Any, BaseException | None]]:
        """(item, result, error) for func over items, run `batch_size` at a time in threads."""
        items = list(items)
        workers = max(1, min(batch_size or self.batch_size, len(items)))
        if workers == 1:
            return [_attempt(func, item) for item in items]
        with ThreadPoolExecutor(workers, thread_name_prefix="hopsfs") as pool:
            return list(pool.map(lambda item: _attempt(func, item), items))

    @contextmanager
    def _deferred(self, batch_size: int | None = None) -> Iterator[None]:
        """Within the block, this thread's put/get/cp/pipe_file calls run in a thread pool."""
        if getattr(self._local, "pool", None) is not None:  # nested: the outer block waits
            yield
            return
        pending: list[Future[Any]] = []
        with ThreadPoolExecutor(batch_size or self.batch_size, thread_name_prefix="hopsfs") as pool:
            self._local.pool, self._local.pending = pool, pending
            try:
                yield
            finally:
                self._local.pool = self._local.pending = None
                for future in pending:  # wait for all, then raise the first failure
                    future.exception()
        for future in pending:
            future.result()

    def _maybe_defer(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run func now, or queue it in the current _deferred() pool."""
        pool = getattr(self._local, "pool", None)
        if pool is None:
            return func(*args, **kwargs)
        self._local.pending.append(pool.submit(func, *args, **kwargs))
        return None

    # -- metadata ------------------------------------------------------------------------------

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return dict(self._do("info", self._strip_protocol(path)))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Entries of a directory, without in-progress writes' hidden temporary names."""
        path = self._strip_protocol(path)
        entries = [
            e
            for e in self._do("ls", path)
            if e["name"] == path or not commit.is_leftover(e["name"])
        ]
        return [dict(e) for e in entries] if detail else [e["name"] for e in entries]

    def exists(self, path: str, **kwargs: Any) -> bool:
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True

    def modified(self, path: str) -> datetime:
        return datetime.fromtimestamp(self.info(path)["mtime"], tz=UTC)

    def checksum(self, path: str) -> str:  # type: ignore[override]
        """HDFS's MD5-of-MD5-of-CRC32C file checksum (hex): equal files give equal checksums."""
        return self._do("checksum", self._strip_protocol(path))

    def content_summary(self, path: str) -> ContentSummary:
        """Length, file/directory counts, space consumed and quotas of a directory tree."""
        return self._do("content_summary", self._strip_protocol(path))

    def du(
        self,
        path: str,
        total: bool = True,
        maxdepth: int | None = None,
        withdirs: bool = False,
        **kwargs: Any,
    ) -> Any:
        if total and maxdepth is None:  # one namenode call instead of a walk
            return self.content_summary(path)["length"]
        return super().du(path, total=total, maxdepth=maxdepth, withdirs=withdirs, **kwargs)

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]:
        """The blocks of a file: [{offset, length, hosts}] (for placing work near the data)."""
        return self._do("block_locations", self._strip_protocol(path), start, length)

    def chmod(self, path: str, mode: int) -> None:
        """Set the permission bits of `path` (e.g. 0o750)."""
        self._do("set_permission", self._strip_protocol(path), mode)

    def chown(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        """Set the owner and/or group of `path` (changing the owner needs the HDFS superuser)."""
        self._do("set_owner", self._strip_protocol(path), owner, group)

    def set_replication(self, path: str, replication: int) -> None:
        """Set the replication factor of a file."""
        path = self._strip_protocol(path)
        _check_positive(path, "replication", replication)
        self._do("set_replication", path, replication)

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        """Add or update HDFS ACL entries of `path` ("user:u:rwx", "default:user:u:rwx")."""
        self._do("modify_acl_entries", self._strip_protocol(path), spec)

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        """Remove the HDFS ACL entries named in `spec` ("user:u", "default:user:u")."""
        self.backend.remove_acl_entries(self._strip_protocol(path), spec)

    def acl_entries(self, path: str) -> list[str]:
        """The extended access ACL entries of `path` ("user:u:rwx", "group::r-x")."""
        return self._do("acl_entries", self._strip_protocol(path))

    # -- namespace -----------------------------------------------------------------------------

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if self.exists(path):
            raise _exists_error(path)
        self._do("mkdir", path, parents=create_parents, permission=kwargs.get("permission"))

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        path = self._strip_protocol(path)
        if not exist_ok and self.exists(path):
            raise _exists_error(path)
        self._do("mkdir", path, parents=True)

    mkdirs = makedirs  # type: ignore[assignment]

    def rm_file(self, path: str) -> None:
        path = self._strip_protocol(path)
        if self.info(path)["type"] == "directory":
            raise errors.make(
                IsADirectoryError, path, f"rm_file: {path} is a directory (use rmdir or rm)"
            )
        self._remove(path)

    _rm = rm_file  # type: ignore[assignment]

    def rmdir(self, path: str) -> None:
        path = self._strip_protocol(path)
        if self.info(path)["type"] != "directory":
            raise errors.make(NotADirectoryError, path, f"rmdir: {path} is not a directory")
        self._delete(path, recursive=False)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        if maxdepth is None:  # whole trees: one namenode call per top-level path
            for p in self.expand_path(path, recursive=False):
                self._delete(p, recursive)
            return
        for p in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            try:
                self._remove(p)
            except OSError as e:  # a directory below maxdepth keeps its deeper content
                if e.errno != errno.ENOTEMPTY:
                    raise

    def _delete(self, path: str, recursive: bool) -> None:
        """Delete one path; a non-empty directory without `recursive` says to pass it."""
        try:
            self._remove(path, recursive)
        except OSError as e:
            if e.errno == errno.ENOTEMPTY:
                raise OSError(
                    e.errno,
                    f"directory {path} is not empty (pass recursive=True to delete it)",
                    path,
                ) from e
            raise

    def mv(
        self,
        path1: Any,
        path2: Any,
        recursive: bool = False,
        maxdepth: int | None = None,
        overwrite: bool = True,
        **kwargs: Any,
    ) -> None:
        """Rename on the namenode (atomic per path); into `path2` when it is a directory."""
        if (
            isinstance(path1, str)
            and not isinstance(path2, (list, tuple))
            and not _has_magic(path1)
        ):
            src, dst = self._strip_protocol(path1), self._strip_protocol(path2)
            if src == dst:
                return
            if self.isdir(dst) and not dst.startswith(src.rstrip("/") + "/"):
                dst = posixpath.join(dst, posixpath.basename(src))
            self._rename(src, dst, overwrite and not self.isdir(dst))
            return
        sources = self.expand_path(path1, recursive=False)
        if isinstance(path2, (list, tuple)):
            targets = [self._strip_protocol(p) for p in path2]
        else:
            self.makedirs(path2, exist_ok=True)
            targets = [
                posixpath.join(self._strip_protocol(path2), posixpath.basename(s)) for s in sources
            ]
        for src, dst in zip(sources, targets, strict=True):
            self.mv(src, dst, overwrite=overwrite)

    @contextmanager
    def staged_dir(self, path: str) -> Iterator[str]:
        """A hidden temporary path next to `path` to write a tree into inside the block; then
        it replaces `path` (see commit.replace_tree), or is deleted if the block raised."""
        target = self._strip_protocol(path)
        staging = commit.temp_path(target)
        try:
            yield staging
            if not self.exists(staging):  # an empty tree writes no files
                self.makedirs(staging)
            commit.replace_tree(self.backend, staging, target)
        finally:
            if self.exists(staging):
                self.rm(staging, recursive=True)

    def clean_tmp(
        self,
        path: str = "",
        older_than: float = commit.DEFAULT_OLDER_THAN,
        recursive: bool = False,
        dry_run: bool = False,
    ) -> list[str]:
        """Delete hidden temporary files that crashed writers left in directory `path` (and below
        with `recursive`), older than `older_than` seconds; the paths deleted (see commit)."""
        return commit.clean_tmp(
            self.backend,
            self._strip_protocol(path),
            older_than=older_than,
            recursive=recursive,
            dry_run=dry_run,
        )

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if truncate or not self.exists(path):
            self.pipe_file(path, b"", **kwargs)
        else:
            now = time.time()
            self._do("set_times", path, mtime=now, atime=now)

    # -- data ----------------------------------------------------------------------------------

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> HopsFile:
        return HopsFile(
            self,
            self._strip_protocol(path),
            mode,
            block_size=block_size or self.blocksize,
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:  # type: ignore[override]
        if sorted(mode) not in _MODES:
            raise ValueError(
                f"Unsupported mode {mode!r} for {self._strip_protocol(path)}: use 'r', 'w', 'x' "
                "or 'a', optionally with 'b' (binary) or 't' (text)"
            )
        if "b" in mode:
            return super().open(path, mode, **kwargs)
        text = {k: kwargs.pop(k) for k in ("encoding", "errors", "newline") if k in kwargs}
        binary = super().open(path, mode.replace("t", "") + "b", **kwargs)
        return _TextFile(binary, **text)

    def open_file(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        """pydoop-style open, as in Hopsworks notebooks (`h.open_file(path, "r")`): modes
        "r"/"w"/"a" are binary unless "t" is given (pandas reads either)."""
        return self.open(path, mode if "b" in mode or "t" in mode else mode + "b", **kwargs)

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        path = self._strip_protocol(path)
        reader = self._open_reader(path)
        try:
            start, end = _span(start, end, reader.size)
            return _read(reader, start, end - start)
        finally:
            reader.close()

    def cat(
        self, path: Any, recursive: bool = False, on_error: str = "raise", **kwargs: Any
    ) -> Any:
        batch_size = kwargs.pop("batch_size", None)
        paths = self.expand_path(path, recursive=recursive)
        if (
            len(paths) == 1
            and not isinstance(path, list)
            and paths[0] == self._strip_protocol(path)
        ):
            return self.cat_file(paths[0], **kwargs)
        results = self._pool_map(lambda p: self.cat_file(p, **kwargs), paths, batch_size)
        out: dict[str, Any] = {}
        for p, data, error in results:
            if recursive and isinstance(error, IsADirectoryError):
                continue  # directories of a recursive expansion have no content
            if error is None:
                out[p] = data
            elif on_error == "raise":
                raise error
            elif on_error == "return":
                out[p] = error
        return out

    def cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: Any = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        starts = [starts] * len(paths) if isinstance(starts, int) or starts is None else starts
        ends = [ends] * len(paths) if isinstance(ends, int) or ends is None else ends
        if not len(paths) == len(starts) == len(ends):
            raise ValueError("cat_ranges: paths, starts and ends must have the same length")
        jobs = list(zip(paths, starts, ends, strict=True))
        results = self._pool_map(
            lambda j: self.cat_file(j[0], j[1], j[2]), jobs, kwargs.get("batch_size")
        )
        out = []
        for _, data, error in results:
            if error is not None and on_error == "raise":
                raise error
            out.append(error if error is not None else data)
        return out

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """Write `value` to `path` atomically (mode "create": fail if it exists)."""
        self._maybe_defer(self._pipe_file, path, value, mode, **kwargs)

    def _pipe_file(self, path: str, value: bytes, mode: str, **kwargs: Any) -> None:
        with self.open(path, "xb" if mode == "create" else "wb", **kwargs) as f:
            f.write(value)

    def pipe(self, path: Any, value: bytes | None = None, **kwargs: Any) -> None:
        with self._deferred(kwargs.pop("batch_size", None)):
            super().pipe(path, value, **kwargs)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy one file by streaming it through this client (HDFS has no server-side copy)."""
        self._maybe_defer(self._cp_file, path1, path2, **kwargs)

    def _cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        src = self._strip_protocol(path1)
        if self.isdir(src):
            self.makedirs(path2, exist_ok=True)
            return
        reader = self._open_reader(src)
        try:
            with self.open(path2, "wb", **kwargs) as out:
                for offset in range(0, reader.size, self.blocksize):
                    out.write(_read(reader, offset, min(self.blocksize, reader.size - offset)))
        finally:
            reader.close()

    def copy(self, path1: Any, path2: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._deferred(kwargs.pop("batch_size", None)):
            super().copy(path1, path2, recursive=recursive, **kwargs)

    def put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        self._maybe_defer(self._put_file, lpath, rpath, callback, mode, **kwargs)

    def _put_file(self, lpath: str, rpath: str, callback: Any, mode: str, **kwargs: Any) -> None:
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        with (
            open(lpath, "rb") as src,
            self.open(rpath, "xb" if mode == "create" else "wb", **kwargs) as out,
        ):
            callback.set_size(os.fstat(src.fileno()).st_size)
            while chunk := src.read(self.blocksize):
                out.write(chunk)
                callback.relative_update(len(chunk))

    def put(self, lpath: Any, rpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._deferred(kwargs.pop("batch_size", None)):
            super().put(lpath, rpath, recursive=recursive, **kwargs)

    def get_file(
        self,
        rpath: str,
        lpath: Any,
        callback: Any = DEFAULT_CALLBACK,
        outfile: Any = None,
        **kwargs: Any,
    ) -> None:
        self._maybe_defer(self._get_file, rpath, lpath, callback, outfile, **kwargs)

    def _get_file(self, rpath: str, lpath: Any, callback: Any, outfile: Any, **kwargs: Any) -> None:
        rpath = self._strip_protocol(rpath)
        if outfile is None and hasattr(lpath, "write"):
            outfile = lpath
        if outfile is None and self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        reader = self._open_reader(rpath)
        try:
            callback.set_size(reader.size)
            if outfile is None:
                os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
            with open(lpath, "wb") if outfile is None else nullcontext(outfile) as out:
                for offset in range(0, reader.size, self.blocksize):
                    chunk = _read(reader, offset, min(self.blocksize, reader.size - offset))
                    out.write(chunk)
                    callback.relative_update(len(chunk))
        finally:
            reader.close()

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._deferred(kwargs.pop("batch_size", None)):
            super().get(rpath, lpath, recursive=recursive, **kwargs)


class HopsFile(AbstractBufferedFile):
    """A buffered HDFS file: ranged reads with readahead; writes committed atomically on close.

    Writing goes to "<dir>/.<name>.hopsfs-tmp-<uuid>", renamed over the target on close; an
    exception inside `with` deletes the temporary file and leaves the target untouched.

    With a backend whose client cannot recover a write from a lost DataNode (native, webhdfs),
    what was written is also kept in a local spool, and after a transient failure the upload
    restarts into a fresh temporary file (the old one is deleted): bounded by the filesystem's
    retries, up to SPOOL_LIMIT bytes. Appends are never restarted.
    """

    DEFAULT_BLOCK_SIZE = DEFAULT_BLOCK_SIZE
    fs: HopsFileSystem

    def __init__(self, fs: HopsFileSystem, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._reader: RangeReader | None = None
        self._raw: Any = None
        self._spool: tempfile.SpooledTemporaryFile[bytes] | None = None
        self.temp_path: str | None = None
        self._touched = time.monotonic()
        self._write_options = {
            k: kwargs.pop(k) for k in ("replication", "permission") if k in kwargs
        }
        if kwargs.get("block_size", "default") != "default":
            _check_positive(path, "block_size", kwargs["block_size"])
        if self._write_options.get("replication") is not None:
            _check_positive(path, "replication", self._write_options["replication"])
        if mode == "rb":
            self._reader = fs._open_reader(path)
            kwargs.setdefault("size", self._reader.size)
        elif mode not in ("wb", "xb", "ab"):
            raise ValueError(f"Unsupported mode {mode!r} for {path}: use rb, wb, xb or ab")
        super().__init__(fs, path, mode, **kwargs)
        if mode != "rb":  # open the temporary file now: permission errors show up at open()
            try:
                self._initiate_upload()
            except BaseException:
                self.closed = True
                raise
            self.offset = 0

    def _fetch_range(self, start: int, end: int) -> bytes:
        assert self._reader is not None
        return _read(self._reader, start, min(end, self.size) - start)

    def _initiate_upload(self) -> None:
        path = self.path
        try:
            current = self.fs._do("info", path)
        except FileNotFoundError:
            current = None
        backend = self.fs.backend
        if current and current["type"] == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot write to {path}: it is a directory")
        if current and self.mode == "xb":
            raise errors.make(FileExistsError, path, f"cannot create {path}: it exists (mode 'xb')")
        if self.mode == "ab" and current:
            append = getattr(backend, "append", None)
            if append is None:
                raise NotImplementedError(
                    f"the {backend.name} backend cannot append to {path}: use backend='native', or "
                    "rewrite the file (mode 'wb')"
                )
            self._raw = append(path)
            return
        if self.fs.config.retries and not backend.recovers_writes:
            self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by _drop_spool
                SPOOL_MEMORY, prefix="hopsfs-spool-"
            )
        with self._writing():
            self._restarting(self._open_temp, redo=False)  # a restart opens a new temporary file

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """On an error inside, close the file and drop the temporary file (the target stays as
        it was); raise the error about the target, the path the caller knows."""
        try:
            yield
        except BaseException as e:
            temp = self.temp_path
            self.closed = True
            self.discard()
            if isinstance(e, OSError) and temp is not None:
                raise errors.retarget(e, temp, self.path) from e
            raise

    def _open_temp(self) -> None:
        """Start writing a new temporary file beside the target."""
        self.temp_path = commit.temp_path(self.path)
        self._raw = self.fs.backend.open_write(
            self.temp_path, overwrite=False, **self._write_options
        )

    def _upload_chunk(self, final: bool = False) -> bool:
        with self._writing():
            data = self.buffer.getbuffer()
            if data.nbytes:
                self._write(data)
            del data
            if final:
                self._restarting(lambda: self._raw.close(), redo=True)
                self._drop_spool()
        if final and self.autocommit:
            self.commit()
        elif not final:
            self._touch_temp()
        return True

    def _touch_temp(self) -> None:
        """Move the temporary file's mtime to now, at most every TOUCH_INTERVAL: HDFS leaves
        it at creation until close, and `clean_tmp` must tell live writes from dead ones."""
        if self.temp_path is None or time.monotonic() - self._touched < TOUCH_INTERVAL:
            return
        self._touched, now = time.monotonic(), time.time()
        try:
            self.fs.backend.set_times(self.temp_path, mtime=now, atime=now)
        except OSError as e:  # only a hint for clean_tmp: never fail the write for it
            log.debug("could not touch %s: %s", self.temp_path, e)

    def _write(self, data: memoryview) -> None:
        """Send `data` (kept in the spool first: a restart replays it)."""
        self._keep(data)
        self._restarting(lambda: self._raw.write(data), redo=False)

    def _keep(self, data: memoryview) -> None:
        """Add `data` to the spool; past SPOOL_LIMIT (or a full local disk) stop keeping it."""
        if self._spool is None:
            return
        try:
            if self._spool.tell() + data.nbytes <= SPOOL_LIMIT:
                self._spool.write(data)
                return
            log.info("%s: over %d bytes, the write can no longer restart", self.path, SPOOL_LIMIT)
        except OSError as e:
            log.warning("%s: cannot spool locally (%s): the write cannot restart", self.path, e)
        self._drop_spool()

    def _drop_spool(self) -> None:
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()

    def _restarting(self, step: Callable[[], Any], *, redo: bool) -> None:
        """step(); after a transient failure (and while the spool holds everything written so
        far) restart the upload into a fresh temporary file, replay the spool, and re-run
        step() if `redo` (a write's data is already in the replayed spool)."""
        policy, failures = self.fs.retry_policy, 0
        pending = step
        while True:
            try:
                pending()
                return
            except Exception as e:
                first_open = self._raw is None
                if not errors.transient(e) or (self._spool is None and not first_open):
                    raise
                if failures >= policy.retries:
                    raise
                delay = policy.delay(failures)
                failures += 1
                log.warning("writing %s failed (%s); restarting the upload in %.1fs",
                            self.path, e, delay)
                time.sleep(delay)
                pending = self._replay_then(step if redo else None)

    def _replay_then(self, step: Callable[[], Any] | None) -> Callable[[], None]:
        """A step that drops the failed temporary file, opens a new one, replays the spool and
        then runs `step`."""

        def restart() -> None:
            self._abandon()
            self._open_temp()
            if self._spool is not None:
                self._spool.seek(0)
                while chunk := self._spool.read(DEFAULT_BLOCK_SIZE):
                    self._raw.write(chunk)
            if step is not None:
                step()

        return restart

    def _abandon(self) -> None:
        """Forget the current raw stream and delete its temporary file (best effort)."""
        raw, self._raw = self._raw, None
        if raw is not None and not raw.closed:
            try:
                raw.close()
            except Exception as e:  # noqa: BLE001 - it failed already; the file is dropped
                log.debug("closing the abandoned write of %s: %s", self.path, e)
        temp, self.temp_path = self.temp_path, None
        if temp is not None:
            try:
                self.fs.backend.rm(temp)
            except Exception as e:  # noqa: BLE001 - a leftover hidden temp file is harmless
                log.debug("could not delete %s: %s", temp, e)

    def commit(self) -> None:
        """Move the finished temporary file over the target (atomic on the namenode)."""
        if self.temp_path is None:
            return
        with self._writing():
            self.fs._rename(self.temp_path, self.path, overwrite=self.mode != "xb")
        self.temp_path = None

    def discard(self) -> None:
        """Drop what was written: the target stays as it was."""
        self._drop_spool()
        raw, self._raw = self._raw, None
        if raw is not None and not raw.closed:
            try:
                raw.close()
            except OSError as e:
                log.debug("closing the abandoned write of %s: %s", self.path, e)
        if self.temp_path is not None:
            try:
                self.fs._remove(self.temp_path)
            except FileNotFoundError:
                pass
            except OSError as e:  # e.g. the namenode went away: `clean-tmp` removes it later
                log.warning("could not delete the temporary file %s: %s", self.temp_path, e)
            self.temp_path = None

    def read(self, length: int = -1) -> bytes:
        if self.mode != "rb" and not self.closed:
            raise io.UnsupportedOperation(
                f"{self.path} is open for writing: open it with 'rb' to read it"
            )
        return super().read(length)

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError(f"I/O operation on closed file {self.path}: open it again")
        if self.mode == "rb":
            raise io.UnsupportedOperation(
                f"{self.path} is open for reading: open it with 'wb' (replace) or 'ab' (append) "
                "to write"
            )
        return super().write(data)

    def seek(self, loc: int, whence: int = 0) -> int:
        try:
            return super().seek(loc, whence)
        except ValueError as e:
            raise ValueError(f"{self.path}: cannot seek to {loc} (whence {whence}): {e}") from None

    def abort(self) -> None:
        """Close without committing (used when the writer's `with` block raised)."""
        if not self.closed:
            self.closed = True
            self.buffer = io.BytesIO()
            self.discard()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __exit__(self, exc_type: Any, *args: Any) -> None:
        if exc_type is not None and self.mode != "rb":
            self.abort()
        else:
            self.close()


class _TextFile(io.TextIOWrapper):
    """A text-mode HopsFile: decoding errors name the file; a writer's `with` block discards
    the file on an exception."""

    def read(self, size: int | None = -1) -> str:
        with self._decoding():
            return super().read(size)

    def readline(self, size: int | None = -1) -> str:
        with self._decoding():
            return super().readline(size)

    def __next__(self) -> str:
        with self._decoding():
            return super().__next__()

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as e:
            path = getattr(self.buffer, "path", "")
            raise UnicodeDecodeError(
                e.encoding,
                e.object,
                e.start,
                e.end,
                f"{e.reason}, reading {path} as {e.encoding} (pass the file's encoding=, e.g. "
                "'latin-1', or open it in binary mode 'rb')",
            ) from None

    def __exit__(self, exc_type: Any, *args: Any) -> None:
        if exc_type is not None and isinstance(self.buffer, HopsFile):
            self.buffer.abort()
        super().__exit__(exc_type, *args)


def _exists_error(path: str) -> OSError:
    return errors.make(
        FileExistsError,
        path,
        f"cannot create directory {path}: it exists",
        hint="pick another name, remove it first, or for a directory pass exist_ok=True",
    )


def _check_positive(path: str, name: str, value: Any) -> None:
    """ValueError unless `value` is a positive int (an argument about `path`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r} (for {path})")


def _span(start: int | None, end: int | None, size: int) -> tuple[int, int]:
    """Python-slice-like [start, end) clamped to a file of `size` bytes."""
    start = 0 if start is None else (max(0, size + start) if start < 0 else min(start, size))
    end = size if end is None else (max(0, size + end) if end < 0 else min(end, size))
    return start, max(start, end)


def _read(reader: RangeReader, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset` (looping over short reads), fewer only at end of file."""
    if length <= 0:
        return b""
    data = reader.read_range(offset, length)
    if len(data) >= length or not data:
        return data
    parts = [data]
    got = len(data)
    while got < length:
        more = reader.read_range(offset + got, length - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _attempt(func: Callable[[T], Any], item: T) -> tuple[T, Any, BaseException | None]:
    """(item, func(item), None) or (item, None, the exception)."""
    try:
        return item, func(item), None
    except Exception as e:  # noqa: BLE001 - reported to the caller by _pool_map's users
        return item, None, e


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


# fsspec's after-fork hook clears the instance caches of every fsspec class in the child; a
# filesystem held only by such a cache is then freed there, and freeing an hdfs-native client in a
# forked child blocks forever (its runtime waits for threads that were not forked). That covers
# HopsFileSystem and hdfs-native's own fsspec classes (e.g. made by pandas for an hdfs:// URL), so
# all cached instances are held across the fork: alive (unused) in the child, released in the
# parent. Forked workers (DataLoader, multiprocessing, subprocess with preexec_fn) are then safe.
_FORK_SURVIVORS: list[AbstractFileSystem] = []


def _hold_cached_filesystems() -> None:
    classes = getattr(fsspec_spec, "_registered_classes", None) or (HopsFileSystem,)
    for cls in list(classes):
        _FORK_SURVIVORS.extend(getattr(cls, "_cache", {}).values())


os.register_at_fork(before=_hold_cached_filesystems, after_in_parent=_FORK_SURVIVORS.clear)

__all__ = ["HopsFile", "HopsFileSystem"]
