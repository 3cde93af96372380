"""HopsFileSystem: the fsspec filesystem (protocol "hopsfs") over a pluggable HDFS backend.

`_strip_protocol` only strips the scheme: "hopsfs://rel" and plain relative paths stay relative
and each instance resolves them against its own project (`resolve`, as fsspec's DirFileSystem
joins its root); "hopsfs:///abs", "/abs" and "hdfs://host:port/abs" are absolute. Names in info
dicts come back in the form asked: relative to the project for a relative path, absolute HDFS
paths without scheme for an absolute one. Every backend call goes through the filesystem's
`Client` (retries); files buffer (`file`), writes commit by rename (`upload`).
"""

from __future__ import annotations

import errno
import posixpath
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from fsspec.spec import AbstractFileSystem, _Cached

from hopsfs_tools.config import ClusterConfig, settings
from hopsfs_tools.config.project import (
    Project,
    current_project,
    relative_to,
    resolve,
    strip_scheme,
)
from hopsfs_tools.fs import checksums, commit, errors, forksafe
from hopsfs_tools.fs.acls import AclOps
from hopsfs_tools.fs.backends.base import Backend, BlockLocation, ContentSummary, FsStatus
from hopsfs_tools.fs.batch import DEFAULT_BATCH_SIZE, Batch
from hopsfs_tools.fs.client import Client
from hopsfs_tools.fs.content import ContentOps
from hopsfs_tools.fs.file import DEFAULT_BLOCK_SIZE, HopsFile, TextFile, check_positive
from hopsfs_tools.fs.snapshots import SnapshotOps
from hopsfs_tools.fs.trash import TrashOps
from hopsfs_tools.fs.walk import DEFAULT_CONCURRENCY, glob_descend, parallel_walk

_MODES = [sorted(m + t) for m in "rwxa" for t in ("", "b", "t")]  # open() modes (any order)


class SettingsCached(_Cached):
    """fsspec's instance cache, keyed by explicit settings: what the environment gives is made
    an explicit keyword argument before the key is computed (fsspec's `apply_config` pattern)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is HopsFileSystem and kwargs.get("asynchronous"):  # fsspec's async interface
            return cls.async_class(*args, **kwargs)
        return super().__call__(*args, **settings.options(**kwargs))


# A missing path outside /Projects while no project is set: maybe it was meant in a project.
NO_PROJECT_HINT = (
    "check the path; no project is set, so relative paths and hopsfs://rel resolve against /: "
    "set HOPSFS_PROJECT=<project> or HADOOP_USER_NAME=<project>__<user> to work in a project"
)


class HopsFileSystem(
    ContentOps, TrashOps, SnapshotOps, AclOps, AbstractFileSystem, metaclass=SettingsCached
):
    """fsspec filesystem for HDFS/HopsFS: `fsspec.filesystem("hopsfs")`, "hopsfs://..." URLs."""

    protocol = ("hopsfs",)
    root_marker = "/"
    blocksize = DEFAULT_BLOCK_SIZE
    # fsspec's async interface to this filesystem (`asynchronous=True`, `as_async`):
    # AsyncHopsFileSystem, which registers itself here (fs.asyncfs builds on this module).
    async_class: ClassVar[type[AbstractFileSystem]]

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
        ticket_cache: str | None = None,
        token_file: str | None = None,
        walk_concurrency: int = DEFAULT_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        """`backend`: "native" (default, or $HOPSFS_BACKEND), "arrow" or "webhdfs";
        `ca_cert`: PEM CA bundle to verify HTTPS (WebHDFS) servers with (or $HOPSFS_CA_CERT).

        `retries` / `retry_backoff` ($HOPSFS_RETRIES / $HOPSFS_RETRY_BACKOFF): how often calls
        that are safe to repeat are retried after a lost connection, and the first wait;
        `ticket_cache` ($KRB5CCNAME): the Kerberos ticket cache Java clients (arrow) read;
        `token_file` ($HADOOP_TOKEN_FILE_LOCATION): delegation tokens, instead of a ticket;
        `walk_concurrency`: directory listings in flight in find/glob/walk/du.

        Listings are cached (fsspec's listings cache) only when `use_listings_cache=True` is given:
        other clients change HDFS behind this one's back."""
        kwargs.setdefault("use_listings_cache", False)
        super().__init__(**kwargs)
        resolved = settings.resolve(
            namenode=namenode,
            webhdfs_url=webhdfs_url,
            backend=backend,
            conf_dir=conf_dir,
            user=user,
            project=project,
            timeout=timeout,
            ca_cert=ca_cert,
            retries=retries,
            retry_backoff=retry_backoff,
            ticket_cache=ticket_cache,
            token_file=token_file,
        )
        self.config: ClusterConfig = resolved.cluster
        self.project: Project | None = (
            project if isinstance(project, Project) else current_project(project, user)
        )
        self.batch_size = batch_size
        check_positive("HopsFileSystem", "walk_concurrency", walk_concurrency)
        self.walk_concurrency = walk_concurrency
        self.client = Client(self.config, missing_hint="" if self.project else NO_PROJECT_HINT)
        self._batch = Batch(batch_size)
        forksafe.register(self)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        """The path of a URL with only its scheme stripped (as fsspec.open / pandas parse URLs):
        "hopsfs://rel" and "rel" stay relative, resolved by each instance against its own project
        (`resolve`); "hopsfs:///abs" and "hdfs://host:port/abs" are "/abs"."""
        if isinstance(path, (list, tuple)):
            return [cls._strip_protocol(p) for p in path]
        return strip_scheme(path)

    @classmethod
    def _get_kwargs_from_urls(cls, path: str) -> dict[str, Any]:
        return {}  # "hopsfs://" URLs carry no authority: the cluster comes from the configuration

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The connected backend (connects on first use: ConnectionError if unreachable)."""
        return self.client.backend

    def close(self) -> None:
        """Release the backend's connections (a later call reconnects)."""
        self.client.close()

    def forget_backend(self) -> Backend | None:
        """Drop the backend without closing it (in a forked child: see `forksafe`)."""
        return self.client.forget()

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

    def as_async(self) -> Any:
        """This filesystem's AsyncHopsFileSystem twin (same settings and client), its sync
        methods run on fsspec's IO loop."""
        return self.async_class(**{**self.storage_options, "asynchronous": False})

    def resolve(self, path: str) -> str:
        """The absolute HDFS path of a project-relative path, absolute path or URI."""
        return self.project.resolve(path) if self.project else resolve(path)

    def named_like(self, asked: str, name: str) -> str:
        """`name` (absolute) in the form of the path `asked` for, as fsspec's DirFileSystem does:
        relative to the project for a relative path (so pyarrow, given "hopsfs://dir", finds the
        entries of "dir" below it), absolute for an absolute one."""
        if strip_scheme(asked).startswith("/"):
            return name
        return relative_to(name, self.resolve(""))

    # -- metadata ------------------------------------------------------------------------------

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """The info dict of `path`, named in the form asked (relative or absolute)."""
        info = dict(self.client.call("info", self.resolve(path)))
        info["name"] = self.named_like(path, info["name"])
        return info

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Entries of a directory, without in-progress writes' hidden temporary names; named in
        the form asked (relative or absolute)."""
        target = self.resolve(path)
        listing = None if kwargs.get("refresh") else self.dircache.get(target)
        if listing is None:
            listing = self.cache_listing(target, self.client.call("ls", target))
        return self.listing_as_asked(path, listing, detail)

    def cache_listing(self, target: str, entries: list[Any]) -> list[Any]:
        """The entries of directory `target` without in-progress writes' temporary names; kept
        in fsspec's listings cache (only with use_listings_cache=True)."""
        listing = [
            e
            for e in entries
            if ".hopsfs-" not in e["name"]
            or e["name"] == target
            or not commit.is_leftover(e["name"])
        ]
        self.dircache[target] = listing
        return listing

    def listing_as_asked(self, path: str, listing: list[Any], detail: bool) -> list[Any]:
        """`ls`'s answer for the `path` asked: entries named in its form."""
        if strip_scheme(path).startswith("/"):  # copies only of what the cache keeps
            entries = [dict(e) for e in listing] if self.dircache.use_listings_cache else listing
        else:
            root = self.resolve("")
            entries = [{**e, "name": relative_to(e["name"], root)} for e in listing]
        return entries if detail else [e["name"] for e in entries]

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget cached listings of `path`, below it and of its parent (all without a path)."""
        if path is None:
            self.dircache.clear()
            return
        target = self.resolve(path)
        parent = posixpath.dirname(target)
        for key in list(self.dircache):
            if key in (target, parent) or key.startswith(target.rstrip("/") + "/"):
                self.dircache.pop(key, None)

    def walk(
        self,
        path: str,
        maxdepth: int | None = None,
        topdown: bool = True,
        on_error: Any = "omit",
        **kwargs: Any,
    ) -> Any:
        """fsspec's walk (so also find, glob, du and expand_path) with `walk_concurrency`
        listings in flight; `on_error` ("omit", "raise" or a callable) applies to every
        directory, whose error names it."""
        detail = kwargs.pop("detail", False)
        descend = kwargs.pop("descend", None)
        return parallel_walk(
            lambda p: self.ls(p, detail=True, **kwargs),
            self._strip_protocol(path),
            maxdepth=maxdepth,
            topdown=topdown,
            on_error=on_error,
            detail=detail,
            descend=descend,
            concurrency=self.walk_concurrency,
        )

    def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        """fsspec's glob, listing only the directories the pattern can match below."""
        descend = glob_descend(self._strip_protocol(path))
        if descend is not None:
            kwargs["descend"] = descend
        return super().glob(path, maxdepth=maxdepth, **kwargs)

    def exists(self, path: str, **kwargs: Any) -> bool:
        return self.client.exists(self.resolve(path))

    def modified(self, path: str) -> datetime:
        return datetime.fromtimestamp(self.info(path)["mtime"], tz=UTC)

    def checksum(self, path: str) -> str:  # type: ignore[override]
        """The CRC32C of a file's content (8 hex digits, HDFS's COMPOSITE_CRC value): the same
        on every backend and for the local copy (`checksums.local_checksum`); reads the file."""
        path = self.resolve(path)
        if self.info(path)["type"] != "file":
            raise errors.make(IsADirectoryError, path, f"checksum: {path} is a directory")
        return checksums.hdfs_checksum(self.client, path)

    def ukey(self, path: str) -> str:
        """fsspec's unique key of a file's content: its checksum (equal content, equal key)."""
        return self.checksum(path)

    def fs_status(self) -> FsStatus:
        """The filesystem's raw capacity and the bytes HDFS uses (the NameNode's FsStatus)."""
        return self.client.fs_status()

    def content_summary(self, path: str) -> ContentSummary:
        """Length, file/directory counts, space consumed and quotas of a directory tree."""
        return self.client.call("content_summary", self.resolve(path))

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
        found = self.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=True, **kwargs)
        # (fsspec's du asks info() of each name again; find's infos have the sizes)
        sizes = {name: (info or self.info(name))["size"] for name, info in found.items()}
        return sum(sizes.values()) if total else sizes

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]:
        """The blocks of a file: [{offset, length, hosts}] (for placing work near the data)."""
        return self.client.call("block_locations", self.resolve(path), start, length)

    def chmod(self, path: str, mode: int) -> None:
        """Set the permission bits of `path` (e.g. 0o750)."""
        self.client.call("set_permission", self.resolve(path), mode)

    def chown(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        """Set the owner and/or group of `path` (changing the owner needs the HDFS superuser)."""
        self.client.call("set_owner", self.resolve(path), owner, group)

    def set_replication(self, path: str, replication: int) -> None:
        """Set the replication factor of a file."""
        path = self.resolve(path)
        check_positive(path, "replication", replication)
        self.client.call("set_replication", path, replication)

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        """Add or update HDFS ACL entries of `path` ("user:u:rwx", "default:user:u:rwx")."""
        self.client.call("modify_acl_entries", self.resolve(path), spec)

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        """Remove the HDFS ACL entries named in `spec` ("user:u", "default:user:u")."""
        self.client.call("remove_acl_entries", self.resolve(path), spec)

    def acl_entries(self, path: str) -> list[str]:
        """The extended access ACL entries of `path` ("user:u:rwx", "group::r-x")."""
        return self.client.call("acl_entries", self.resolve(path))

    # -- namespace -----------------------------------------------------------------------------

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        path = self.resolve(path)
        if self.exists(path):
            raise _exists_error(path)
        self.invalidate_cache(path)
        self.client.call("mkdir", path, parents=create_parents, permission=kwargs.get("permission"))

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        path = self.resolve(path)
        if not exist_ok and self.exists(path):
            raise _exists_error(path)
        self.invalidate_cache(path)
        self.client.call("mkdir", path, parents=True)

    mkdirs = makedirs  # type: ignore[assignment]

    def rm_file(self, path: str) -> None:
        path = self.resolve(path)
        if self.info(path)["type"] == "directory":
            raise errors.make(
                IsADirectoryError, path, f"rm_file: {path} is a directory (use rmdir or rm)"
            )
        self.invalidate_cache(path)
        self.client.rm(path)

    _rm = rm_file  # type: ignore[assignment]

    def rmdir(self, path: str) -> None:
        path = self.resolve(path)
        if self.info(path)["type"] != "directory":
            raise errors.make(NotADirectoryError, path, f"rmdir: {path} is not a directory")
        self._delete(path, recursive=False)

    def rm(
        self, path: Any, recursive: bool = False, maxdepth: int | None = None, trash: bool = False
    ) -> None:
        """fsspec's rm: a permanent delete. `trash=True` deletes as `hdfs dfs -rm` does: into
        the user's trash when the cluster's trash is on (paths in the trash: for good)."""
        if trash:
            for p in self.expand_path(path, recursive=False):
                self._delete(self.resolve(p), recursive, trash=True)
            return
        if maxdepth is None:  # whole trees: one namenode call per top-level path
            for p in self.expand_path(path, recursive=False):
                self._delete(self.resolve(p), recursive)
            return
        for p in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            try:
                self.invalidate_cache(p)
                self.client.rm(self.resolve(p))
            except OSError as e:  # a directory below maxdepth keeps its deeper content
                if e.errno != errno.ENOTEMPTY:
                    raise

    def _delete(self, path: str, recursive: bool, trash: bool = False) -> None:
        """Delete one path (`trash`: into the trash when it is on); a non-empty directory
        without `recursive` says to pass it."""
        self.invalidate_cache(path)
        try:
            can = self.trash_can if trash else None
            if can and can.enabled and not can.holds(path):
                if not recursive and self.isdir(path) and self.ls(path, detail=False):
                    raise OSError(errno.ENOTEMPTY, f"directory {path} is not empty", path)
                can.move(path)
            else:
                self.client.rm(path, recursive=recursive)
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
            src, dst = self.resolve(path1), self.resolve(path2)
            if src == dst:
                return
            if self.isdir(dst) and not dst.startswith(src.rstrip("/") + "/"):
                dst = posixpath.join(dst, posixpath.basename(src))
            self.invalidate_cache(src)
            self.invalidate_cache(dst)
            self.client.rename(src, dst, overwrite=overwrite and not self.isdir(dst))
            return
        sources = self.expand_path(path1, recursive=False)
        if isinstance(path2, (list, tuple)):
            targets = [self.resolve(p) for p in path2]
        else:
            self.makedirs(path2, exist_ok=True)
            targets = [posixpath.join(self.resolve(path2), posixpath.basename(s)) for s in sources]
        for src, dst in zip(sources, targets, strict=True):
            self.mv(src, dst, overwrite=overwrite)

    @contextmanager
    def staged_dir(self, path: str) -> Iterator[str]:
        """A hidden temporary path next to `path` to write a tree into inside the block; then
        it replaces `path` (see commit.replace_tree), or is deleted if the block raised."""
        target = self.resolve(path)
        staging = commit.temp_path(target)
        try:
            yield staging
            if not self.exists(staging):  # an empty tree writes no files
                self.makedirs(staging)
            commit.replace_tree(self.client, staging, target)
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
            self.client,
            self.resolve(path),
            older_than=older_than,
            recursive=recursive,
            dry_run=dry_run,
        )

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        path = self.resolve(path)
        if truncate or not self.exists(path):
            self.pipe_file(path, b"", **kwargs)
        else:
            now = time.time()
            self.client.call("set_times", path, mtime=now, atime=now)

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
            self.resolve(path),
            mode,
            block_size=block_size or self.blocksize,
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:  # type: ignore[override]
        if sorted(mode) not in _MODES:
            raise ValueError(
                f"Unsupported mode {mode!r} for {self.resolve(path)}: use 'r', 'w', 'x' "
                "or 'a', optionally with 'b' (binary) or 't' (text)"
            )
        if "b" in mode:
            return super().open(path, mode, **kwargs)
        text = {k: kwargs.pop(k) for k in ("encoding", "errors", "newline") if k in kwargs}
        binary = super().open(path, mode.replace("t", "") + "b", **kwargs)
        return TextFile(binary, **text)

    def open_file(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        """pydoop-style open, as in Hopsworks notebooks (`h.open_file(path, "r")`): modes
        "r"/"w"/"a" are binary unless "t" is given (pandas reads either)."""
        return self.open(path, mode if "b" in mode or "t" in mode else mode + "b", **kwargs)


def _exists_error(path: str) -> OSError:
    return errors.make(
        FileExistsError,
        path,
        f"cannot create directory {path}: it exists",
        hint="pick another name, remove it first, or for a directory pass exist_ok=True",
    )


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


__all__ = ["HopsFileSystem"]
