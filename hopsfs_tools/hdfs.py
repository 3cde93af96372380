"""Hopsworks' `hops.hdfs` API (hops-util-py) over HopsFileSystem: same names, same meanings.

Paths are project-relative ("Resources/x.csv"), absolute ("/Projects/P/x") or URIs
("hdfs://host:port/x", "hopsfs://x"); paths handed back are full "hdfs://host:port/x" URIs, as
pydoop's are. A `project` argument resolves relative paths against that project instead.
"""

from __future__ import annotations

import errno
import getpass
import logging
import math
import os
import posixpath
import shutil
import stat as stat_module
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from hopsfs_tools.config import env
from hopsfs_tools.fs import errors
from hopsfs_tools.fs.core import TEMP_MARKER, HopsFileSystem
from hopsfs_tools.project import Project, current_project, resolve

log = logging.getLogger(__name__)

_NO_PROJECT = "set HOPSFS_PROJECT=<project> or HADOOP_USER_NAME=<project>__<user>"
_OPEN_FLAGS = {"r": "r", "rw": "r", "w": "w", "a": "a"}  # Hopsworks' default 'rw' reads


@dataclass(frozen=True)
class StatResult:
    """os.stat()-like facts about an HDFS path (pydoop's StatResult; owner and group are names)."""

    name: str
    kind: str  # "file" | "directory"
    st_mode: int
    st_size: int
    st_uid: str
    st_gid: str
    st_atime: float
    st_mtime: float
    st_ctime: float
    st_nlink: int
    st_blksize: int
    st_blocks: int
    replication: int


@dataclass(frozen=True)
class _Context:
    """The filesystem (acting as the current project's user) and the project paths resolve in."""

    fs: HopsFileSystem
    project: Project | None

    def path(self, hdfs_path: str | os.PathLike[str]) -> str:
        """The absolute HDFS path (no scheme) of a user-supplied path."""
        return self.project.resolve(hdfs_path) if self.project else resolve(hdfs_path)

    def uri(self, name: str) -> str:
        """The full "hdfs://host:port/abs" URI of a path or a filesystem entry name."""
        return self.fs.config.namenode_uri + resolve(name)


def _context(project: str | None = None) -> _Context:
    fs = get_fs()
    return _Context(fs, current_project(name=project) if project else fs.project)


def get_fs() -> HopsFileSystem:
    """The fsspec filesystem of the configured cluster and current project.

    Cached per thread and environment: changing HADOOP_USER_NAME etc. gives a new one.
    """
    return HopsFileSystem()


def close() -> None:
    """Disconnect the current filesystem from the cluster (the next call reconnects)."""
    get_fs().close()


def project_name() -> str:
    """The current project's name (HOPSFS_PROJECT, HOPSWORKS_PROJECT_NAME or HADOOP_USER_NAME)."""
    return _require_project(current_project()).name


def project_user() -> str:
    """The HDFS user acting: the project user "P__u", else HADOOP_USER_NAME, else the login name."""
    project = current_project()
    return project.user if project else env("HADOOP_USER_NAME") or getpass.getuser()


def project_path(rel: str = "", *, project: str | None = None,
                 exclude_nn_addr: bool = False) -> str:
    """The project's URI "hdfs://host:port/Projects/P/" (+ rel); absolute paths and URIs kept."""
    text = os.fspath(rel)
    if text.startswith("hdfs://"):
        return text
    ctx = _context(project)
    if not text.startswith("/"):
        _require_project(ctx.project)
    path = ctx.path(text)
    if not text or text.endswith("/"):
        path = path.rstrip("/") + "/"
    return path if exclude_nn_addr else ctx.fs.config.namenode_uri + path


def abs_path(hdfs_path: str, project: str | None = None) -> str:
    """The full "hdfs://host:port/..." URI of a path (no check that it exists)."""
    ctx = _context(project)
    return ctx.uri(ctx.path(hdfs_path))


def open_file(hdfs_path: str, project: str | None = None, flags: str = "rw",
              buff_size: int = 0) -> IO[Any]:
    """Open a file: flags 'r', 'w', 'a' (binary; add 't' for text); writes commit on close."""
    op = _OPEN_FLAGS.get(flags.rstrip("bt"))
    if op is None or not flags:
        raise ValueError(
            f"open_file flags {flags!r} are not supported: use 'r', 'w' or 'a', optionally "
            "followed by 'b' (binary, the default) or 't' (text)"
        )
    ctx = _context(project)
    kwargs: dict[str, Any] = {"block_size": buff_size} if buff_size > 0 else {}
    if flags.endswith("t"):
        return ctx.fs.open(ctx.path(hdfs_path), op + "t", encoding="utf-8", **kwargs)
    return ctx.fs.open(ctx.path(hdfs_path), op + "b", **kwargs)


def ls(hdfs_path: str = "", recursive: bool = False, project: str | None = None) -> list[str]:
    """URIs of a directory's entries (the whole tree when recursive); [the file] for a file."""
    ctx = _context(project)
    return [ctx.uri(info["name"]) for info in _entries(ctx, ctx.path(hdfs_path), recursive)]


def lsl(hdfs_path: str = "", recursive: bool = False, project: str | None = None) -> list[dict]:
    """Like `ls`, as info dicts: fsspec keys plus pydoop's (kind, permissions, last_mod, ...)."""
    ctx = _context(project)
    return [_pydoop_info(ctx, info) for info in _entries(ctx, ctx.path(hdfs_path), recursive)]


def glob(hdfs_path: str, recursive: bool = False, project: str | None = None) -> list[str]:
    """Sorted URIs matching a shell pattern ("Resources/*.csv"); recursive also matches below."""
    ctx = _context(project)
    pattern = ctx.path(hdfs_path)
    if recursive:
        head, tail = posixpath.split(pattern)
        pattern = posixpath.join(head, "**", tail)
    names = ctx.fs.glob(pattern)
    if not names:
        magic = min((pattern.index(c) for c in "*?[" if c in pattern), default=len(pattern))
        base = pattern[:magic].rsplit("/", 1)[0] or "/"
        if not ctx.fs.isdir(base):
            raise errors.make(FileNotFoundError, base, "glob directory not found")
    return sorted(ctx.uri(name) for name in names)


def exists(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path exists."""
    ctx = _context(project)
    return ctx.fs.exists(ctx.path(hdfs_path))


def isdir(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path is a directory (False when missing)."""
    ctx = _context(project)
    return ctx.fs.isdir(ctx.path(hdfs_path))


def isfile(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path is a file (False when missing)."""
    ctx = _context(project)
    return ctx.fs.isfile(ctx.path(hdfs_path))


def mkdir(hdfs_path: str, project: str | None = None) -> None:
    """Create a directory and its missing parents (no error if it exists)."""
    ctx = _context(project)
    ctx.fs.makedirs(ctx.path(hdfs_path), exist_ok=True)


def rmr(hdfs_path: str, project: str | None = None) -> None:
    """Remove a file or a whole directory tree; FileNotFoundError if missing."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    ctx.fs.info(path)  # a missing path is an error, as with pydoop
    ctx.fs.rm(path, recursive=True)


def delete(hdfs_path: str, recursive: bool = False, project: str | None = None) -> None:
    """Remove a path if it exists (a non-empty directory needs recursive=True)."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    if ctx.fs.exists(path):
        ctx.fs.rm(path, recursive=recursive)


def rename(src: str, dest: str, project: str | None = None) -> None:
    """Atomically rename src to dest; FileExistsError if dest exists."""
    ctx = _context(project)
    source, target = ctx.path(src), ctx.path(dest)
    if ctx.fs.exists(target):  # fs.mv would move into an existing directory
        raise errors.make(FileExistsError, target, f"cannot rename {source} onto an existing path")
    ctx.fs.mv(source, target, overwrite=False)


def move(src: str, dest: str, project: str | None = None) -> None:
    """Move src to dest, or into dest when dest is an existing directory."""
    ctx = _context(project)
    ctx.fs.mv(ctx.path(src), ctx.path(dest), overwrite=False)  # into dest when it is a directory


def cp(src_hdfs_path: str, dest_hdfs_path: str, overwrite: bool = False,
       project: str | None = None) -> None:
    """Copy a file or directory tree to dest (into dest when it is a directory)."""
    ctx = _context(project)
    source, target = ctx.path(src_hdfs_path), ctx.path(dest_hdfs_path)
    if ctx.fs.isdir(target):
        target = posixpath.join(target, posixpath.basename(source))
    tree = ctx.fs.info(source)["type"] == "directory"  # FileNotFoundError when missing
    if tree and (target == source or target.startswith(source + "/")):
        raise errors.make(OSError, target, f"cannot copy directory {source} into itself",
                          code=errno.EINVAL)
    _replace(ctx, target, tree, overwrite, lambda dst: ctx.fs.copy(source, dst, recursive=True))


def copy_to_hdfs(local_path: str, relative_hdfs_path: str = "", overwrite: bool = False,
                 project: str | None = None) -> str:
    """Upload a local file or directory into an HDFS directory (or to a new path); its URI."""
    local = os.path.abspath(local_path)
    if not os.path.exists(local):
        raise FileNotFoundError(errno.ENOENT, "local path not found: check it and $CWD", local)
    ctx = _context(project)
    target = ctx.path(relative_hdfs_path)
    if ctx.fs.isdir(target):
        target = posixpath.join(target, os.path.basename(local))
    log.info("copying %s to %s", local, ctx.uri(target))
    _replace(ctx, target, os.path.isdir(local), overwrite,
             lambda dst: ctx.fs.put(local, dst, recursive=True))
    return ctx.uri(target)


def copy_to_local(hdfs_path: str, local_path: str = "", overwrite: bool = False,
                  project: str | None = None) -> str:
    """Download a file or tree into a local directory ($CWD by default); the local path.

    An identical local copy (same files and sizes) is kept unless overwrite=True.
    """
    local_dir = os.path.abspath(local_path or os.getcwd())
    if not os.path.isdir(local_dir):
        raise NotADirectoryError(errno.ENOTDIR, "pass an existing local directory", local_dir)
    ctx = _context(project)
    source = ctx.path(hdfs_path)
    full_local = os.path.join(local_dir, posixpath.basename(source) or "root")
    remote = _sizes(ctx, source)
    if not overwrite and _local_sizes(full_local) == remote:
        log.info("%s is already on local disk at %s: kept", ctx.uri(source), full_local)
        return full_local
    if sum(remote.values()) > shutil.disk_usage(local_dir).free:
        raise OSError(errno.ENOSPC, "not enough free local disk space: free some or pick another "
                      "local_path", local_dir)
    staging = tempfile.mkdtemp(prefix=TEMP_MARKER, dir=local_dir)
    try:
        staged = os.path.join(staging, "data")
        if "" in remote:
            ctx.fs.get_file(source, staged)
        else:
            ctx.fs.get(source, staged, recursive=True)
            os.makedirs(staged, exist_ok=True)  # an empty directory downloads no files
        if os.path.isdir(staged) or os.path.isdir(full_local):  # file over file: atomic replace
            _remove_local(full_local)
        os.replace(staged, full_local)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return full_local


def dump(data: str | bytes, hdfs_path: str, project: str | None = None) -> None:
    """Write str (UTF-8) or bytes to a file, replacing it atomically."""
    ctx = _context(project)
    with ctx.fs.open(ctx.path(hdfs_path), "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def load(hdfs_path: str, project: str | None = None) -> bytes:
    """The whole content of a file."""
    ctx = _context(project)
    with ctx.fs.open(ctx.path(hdfs_path), "rb") as f:
        return f.read()


def stat(hdfs_path: str, project: str | None = None) -> StatResult:
    """os.stat() for an HDFS path."""
    ctx = _context(project)
    info = ctx.fs.info(ctx.path(hdfs_path))
    is_dir = info["type"] == "directory"
    mtime = float(info.get("mtime", 0.0))
    return StatResult(
        name=ctx.uri(info["name"]), kind=info["type"],
        st_mode=(stat_module.S_IFDIR if is_dir else stat_module.S_IFREG)
        | info.get("permission", 0),
        st_size=info["size"], st_uid=info.get("owner", ""), st_gid=info.get("group", ""),
        st_atime=float(info.get("atime", 0.0)), st_mtime=mtime, st_ctime=mtime, st_nlink=1,
        st_blksize=info.get("blocksize", 0), st_blocks=math.ceil(info["size"] / 512),
        replication=info.get("replication", 0),
    )


def chmod(hdfs_path: str, mode: int | str, project: str | None = None) -> None:
    """Set permission bits: an int (0o750) or an octal string ("750")."""
    if isinstance(mode, str):
        try:
            mode = int(mode.removeprefix("0o"), 8)
        except ValueError:
            raise ValueError(f"chmod mode {mode!r} is not octal: pass 0o750 or '750'") from None
    ctx = _context(project)
    ctx.fs.chmod(ctx.path(hdfs_path), mode)


def chown(hdfs_path: str, user: str | None, group: str | None, project: str | None = None) -> None:
    """Set owner and/or group (None keeps it); changing the owner needs the HDFS superuser."""
    ctx = _context(project)
    ctx.fs.chown(ctx.path(hdfs_path), user, group)


def capacity() -> int:
    """The raw capacity of the filesystem in bytes (the NameNode's FsStatus)."""
    return get_fs().fs_status()["capacity"]


# -- helpers -----------------------------------------------------------------------------------


def _require_project(project: Project | None) -> Project:
    if project is None:
        raise ValueError(f"No project set: {_NO_PROJECT}")
    return project


def _entries(ctx: _Context, path: str, recursive: bool) -> list[dict]:
    """Info dicts of a directory's children (or of the whole tree), or of a single file."""
    info = ctx.fs.info(path)
    if info["type"] != "directory":
        return [info]
    if not recursive:
        return ctx.fs.ls(path, detail=True)
    found = ctx.fs.find(path, withdirs=True, detail=True)
    return [entry for name, entry in found.items() if resolve(name) != path]


def _pydoop_info(ctx: _Context, info: dict) -> dict:
    """An info dict with a full-URI name and pydoop's key names added."""
    return {
        **info, "name": ctx.uri(info["name"]), "path": resolve(info["name"]), "kind": info["type"],
        "permissions": info.get("permission"), "last_mod": info.get("mtime"),
        "last_access": info.get("atime"), "block_size": info.get("blocksize"),
    }


def _replace(ctx: _Context, target: str, tree: bool, overwrite: bool,
             write: Callable[[str], None]) -> None:
    """Write `target` with `write(path)`: a file in place (writers commit atomically), a tree
    staged in a hidden sibling and renamed in, so readers never see a partial tree."""
    if ctx.fs.exists(target) and not overwrite:
        raise errors.make(FileExistsError, target, "destination exists: pass overwrite=True")
    if not tree:
        write(target)
        return
    ctx.fs.makedirs(posixpath.dirname(target), exist_ok=True)
    with ctx.fs.staged_dir(target) as staging:
        write(staging)


def _sizes(ctx: _Context, path: str) -> dict[str, int]:
    """{relative file path: size} of an HDFS tree ({"": size} for a single file)."""
    info = ctx.fs.info(path)
    if info["type"] != "directory":
        return {"": info["size"]}
    found = ctx.fs.find(path, detail=True)
    return {posixpath.relpath(resolve(name), path): entry["size"] for name, entry in found.items()}


def _local_sizes(path: str) -> dict[str, int] | None:
    """{relative file path: size} of a local tree ({"": size} for a file); None when missing."""
    if os.path.isfile(path):
        return {"": os.path.getsize(path)}
    if not os.path.isdir(path):
        return None
    return {
        os.path.relpath(os.path.join(root, name), path).replace(os.sep, "/"):
            os.path.getsize(os.path.join(root, name))
        for root, _, files in os.walk(path) for name in files
    }


def _remove_local(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
