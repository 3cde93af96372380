"""Hopsworks' `hops.hdfs` (hops-util-py, current master) over HopsFileSystem: same signatures,
defaults, return values, errors and path rules.

Path rules (hops'): a path under /Projects is absolute; any other path, with or without a
leading "/", is relative to the project ("/Resources/x" is /Projects/P/Resources/x);
"hdfs://host:port/abs" and "hopsfs://host:port/abs" are reduced to their path. Paths handed
back are full "hdfs://host:port/abs" URIs, as pydoop's are. Functions hops gives no `project`
argument take one here too, as the last keyword (relative paths resolve in that project).
Differences from hops are listed in docs/guide.md, "Coming from Hopsworks".
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import getpass
import importlib
import logging
import os
import posixpath
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

from hopsfs_tools.config import env
from hopsfs_tools.config.project import PROJECTS_ROOT, Project, current_project, resolve_hops
from hopsfs_tools.fs.commit import TEMP_MARKER
from hopsfs_tools.hopsworks import hints, transfer
from hopsfs_tools.hopsworks.pydoop import PydoopFileSystem

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StatResult:
    """pydoop's StatResult: os.stat()-like facts; `st_mode` holds only the permission bits."""

    name: str
    kind: str  # "file" | "directory"
    st_mode: int
    st_ino: int
    st_dev: int
    st_nlink: int
    st_uid: str
    st_gid: str
    st_size: int
    st_atime: float
    st_mtime: float
    st_ctime: float
    st_blksize: int
    st_blocks: int
    replication: int


@dataclass(frozen=True)
class _Context:
    """The filesystem (acting as the current project's user) and the project paths resolve in."""

    fs: PydoopFileSystem
    project: Project

    def path(self, hdfs_path: str | os.PathLike[str] | bytes) -> str:
        """The absolute HDFS path (no scheme) of a user-supplied path, by hops' rules."""
        return resolve_hops(hdfs_path, self.project.root)

    def uri(self, path: str) -> str:
        """The full "hdfs://host:port/abs" URI of an absolute path."""
        return self.fs.config.namenode_uri + path

    def info(self, path: str) -> dict[str, Any]:
        """The fsspec info of `path`; FileNotFoundError naming it when missing (hops' IOError)."""
        return self.fs.info(path)


def _hops(func: F) -> F:
    """Attach the hints only a front end can give (another project's directory) to errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OSError as e:
            explained = hints.explain(e, current_project())
            if explained is e:
                raise
            raise explained from e

    return wrapper  # type: ignore[return-value]


def _context(project: str | None = None) -> _Context:
    fs = get_fs()
    chosen = current_project(name=project) if project else fs.project
    if chosen is None:
        raise ValueError(f"No project set: {hints.HOW_TO_SET}, or pass project=<name>")
    return _Context(fs, chosen)


def get_fs() -> PydoopFileSystem:
    """The filesystem handle: pydoop's `hdfs` API (open_file, list_directory, get_path_info,
    walk, ...) on the fsspec filesystem of the configured cluster and current project.

    Cached per thread and environment: changing HADOOP_USER_NAME etc. gives a new one.
    """
    return PydoopFileSystem()


def get() -> PydoopFileSystem:
    """The same handle as `get_fs()` (hops' `get()` is pydoop's `hdfs.hdfs`, the same class)."""
    return get_fs()


def close() -> None:
    """Disconnect the current filesystem from the cluster (the next call reconnects)."""
    get_fs().close()


def project_name() -> str:
    """The current project's name (HOPSFS_PROJECT, HOPSWORKS_PROJECT_NAME or P of P__u)."""
    project = current_project()
    if project is None:
        raise ValueError(f"No project set: {hints.HOW_TO_SET}")
    return project.name


def project_user() -> str:
    """The HDFS user acting: the project user "P__u", else HADOOP_USER_NAME, else the login name."""
    project = current_project()
    return project.user if project else env("HADOOP_USER_NAME") or getpass.getuser()


def project_id() -> str:
    """The project's id: $HOPSWORKS_PROJECT_ID on Hopsworks; elsewhere the CRC-32 of the project
    name, as a decimal string (the same on every machine and run, as an id should be)."""
    return env("HOPSWORKS_PROJECT_ID") or str(zlib.crc32(project_name().encode()))


def project_path(project: str | None = None, exclude_nn_addr: bool = False) -> str:
    """The project's URI "hdfs://host:port/Projects/P/" (of `project`, default the current one);
    "hdfs:///Projects/P/" with exclude_nn_addr. Append a relative path to point into it."""
    ctx = _context(project)
    root = ctx.project.root + "/"
    return "hdfs://" + root if exclude_nn_addr else ctx.uri(root)


def get_plain_path(abs_path: str) -> str:
    """The path of a URI without scheme and NameNode ("hdfs://nn:8020/Projects/P/x" ->
    "/Projects/P/x"; a trailing "/" is kept, as pydoop keeps it); other paths as `abs_path`
    would resolve them."""
    if "://" in abs_path:
        return urlsplit(abs_path).path or "/"
    plain = _context().path(abs_path)
    return plain + "/" if abs_path.endswith("/") and plain != "/" else plain


@_hops
def abs_path(hdfs_path: str, project: str | None = None) -> str:
    """The full URI of an existing path, as hops returns it: relative paths become
    "hdfs://host:port/Projects/P/...", "/Projects/..." becomes "hdfs:///Projects/..." (hops
    prepends "hdfs://" alone), URIs are returned unchanged. FileNotFoundError if missing."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    ctx.info(path)
    if "://" in hdfs_path:
        return hdfs_path
    if hdfs_path.startswith(PROJECTS_ROOT):
        return "hdfs://" + path
    return ctx.uri(path)


@_hops
def open_file(
    hdfs_path: str, project: str | None = None, flags: str = "rw", buff_size: int = 0
) -> IO[Any]:
    """Open a file: flags 'r', 'w', 'a' (binary; a second letter 't' means text, so hops'
    default 'rw' reads binary, as pydoop's); writes commit atomically on close."""
    ctx = _context(project)
    return ctx.fs.open_file(ctx.path(hdfs_path), flags, buff_size=buff_size)


@_hops
def ls(
    hdfs_path: str,
    recursive: bool = False,
    exclude_nn_addr: bool = False,
    project: str | None = None,
) -> list[str]:
    """URIs of a directory's entries (the whole tree when recursive); [the file] for a file.

    exclude_nn_addr, as in hops, only drops a NameNode address from `hdfs_path` (which is
    ignored anyway: the configured cluster is used); the entries are full URIs.
    """
    return [info["name"] for info in lsl(hdfs_path, recursive, project)]


@_hops
def lsl(hdfs_path: str, recursive: bool = False, project: str | None = None) -> list[dict]:
    """pydoop's info dicts (name as a full URI, kind, size, owner, group, permissions, last_mod,
    ...) of a directory's entries (the whole tree when recursive); [the file's] for a file."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    if not recursive:
        return ctx.fs.list_directory(path)
    infos = list(ctx.fs.walk(path))
    return infos[1:] if infos[0]["kind"] == "directory" else infos


@_hops
def glob(hdfs_path: str, recursive: bool = False, project: str | None = None) -> list[str]:
    """URIs of the entries of the pattern's directory (its whole tree when recursive) matching
    the last part ("Resources/*.csv"), as hops: `fnmatch` over `ls(dir, recursive)`.

    hops matches the pattern against the full URI, so only patterns starting with "*" match
    anything there; here it is matched against the path below the directory, which gives the
    same for those and the expected result for the others ("data-?.csv"). A pattern in the
    directory part ("Resources/*/x.csv") also works here.
    """
    ctx = _context(project)
    head, _, pattern = hdfs_path.rpartition("/")
    if any(c in head for c in "*?["):
        return sorted(ctx.uri(name) for name in ctx.fs.glob(ctx.path(hdfs_path)))
    directory = ctx.path(head or ".")
    if not ctx.fs.exists(directory):
        raise hints.missing(directory, "the directory of the glob pattern does not exist")
    return [
        info["name"]
        for info in lsl(ctx.uri(directory), recursive, project)
        if fnmatch.fnmatch(info["path"][len(directory) :].lstrip("/"), pattern)
    ]


@_hops
def exists(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path exists."""
    ctx = _context(project)
    return ctx.fs.exists(ctx.path(hdfs_path))


@_hops
def isdir(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path is a directory; FileNotFoundError when missing (hops' IOError)."""
    ctx = _context(project)
    return ctx.info(ctx.path(hdfs_path))["type"] == "directory"


@_hops
def isfile(hdfs_path: str, project: str | None = None) -> bool:
    """True if the path is a file; FileNotFoundError when missing (hops' IOError)."""
    ctx = _context(project)
    return ctx.info(ctx.path(hdfs_path))["type"] == "file"


@_hops
def mkdir(hdfs_path: str, project: str | None = None) -> None:
    """Create a directory and its missing parents (no error if it exists)."""
    ctx = _context(project)
    ctx.fs.create_directory(ctx.path(hdfs_path))


@_hops
def rmr(hdfs_path: str, project: str | None = None, *, skip_trash: bool = False) -> None:
    """Remove a file or a whole directory tree; FileNotFoundError if missing. Into the trash
    when the cluster's trash is on (hops' pydoop delete is permanent: `skip_trash=True`)."""
    delete(hdfs_path, recursive=True, project=project, skip_trash=skip_trash)


@_hops
def delete(
    hdfs_path: str, recursive: bool = False, project: str | None = None, *, skip_trash: bool = False
) -> None:
    """Remove a path (a non-empty directory needs recursive=True); FileNotFoundError if missing
    (hops checks that the path exists first). Into the trash when the cluster's trash is on
    (hops' pydoop delete is permanent: `skip_trash=True`)."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    ctx.fs.info(path)  # FileNotFoundError naming it
    ctx.fs.rm(path, recursive=recursive, trash=not skip_trash)


@_hops
def rename(src: str, dest: str, project: str | None = None) -> None:
    """Rename src to dest, atomically; into dest when it is a directory (HDFS rename);
    FileExistsError when dest is an existing file."""
    ctx = _context(project)
    ctx.fs.rename(ctx.path(src), ctx.path(dest))


@_hops
def move(src: str, dest: str, project: str | None = None) -> None:
    """Move src to dest, or into dest when it is an existing directory (as `rename`)."""
    rename(src, dest, project)


@_hops
def cp(
    src_hdfs_path: str, dest_hdfs_path: str, overwrite: bool = False, project: str | None = None
) -> None:
    """Copy a file or directory tree to dest (into dest when it is a directory).

    An existing target is a FileExistsError unless overwrite=True, which replaces it. (hops
    deletes an existing dest directory and copies in its place; here the copy goes into it.)
    """
    ctx = _context(project)
    remote = transfer.Remote(ctx.fs)
    plan = transfer.plan(
        [ctx.path(src_hdfs_path)],
        ctx.path(dest_hdfs_path),
        remote,
        remote,
        overwrite=overwrite,
        whole=True,
        parents=True,
    )
    source = ctx.path(src_hdfs_path)
    _write_whole(ctx, plan, lambda dst: ctx.fs.copy(source, dst, recursive=True))


@_hops
def copy_to_hdfs(
    local_path: str, relative_hdfs_path: str, overwrite: bool = False, project: str | None = None
) -> None:
    """Upload a local file or directory (relative to $CWD) to HDFS, as hops does:

    with overwrite=True to `relative_hdfs_path`/<basename> (creating the directory, replacing
    what is there); else into `relative_hdfs_path` when it is a directory, or to that path when
    it does not exist; an existing target is a FileExistsError. Trees appear atomically.
    """
    local = os.path.abspath(local_path)
    if not os.path.exists(local):
        raise FileNotFoundError(errno.ENOENT, "local path not found: check it and $CWD", local)
    ctx = _context(project)
    plan = transfer.plan(
        [local],
        ctx.path(relative_hdfs_path),
        transfer.Local(),
        transfer.Remote(ctx.fs),
        overwrite=overwrite,
        whole=True,
        into=overwrite,
        parents=True,
    )
    log.info("copying %s to %s", local, ctx.uri(plan.tops[0]))
    _write_whole(ctx, plan, lambda dst: ctx.fs.put(local, dst, recursive=True))


@_hops
def copy_to_local(
    hdfs_path: str, local_path: str = "", overwrite: bool = False, project: str | None = None
) -> str:
    """Download a file or tree into a local directory ($CWD by default); the local path.

    An identical local copy (same files and sizes) is kept unless overwrite=True; a different
    one is replaced, as in hops.
    """
    local_dir = os.path.abspath(local_path or os.getcwd())
    if not os.path.isdir(local_dir):
        raise NotADirectoryError(errno.ENOTDIR, "pass an existing local directory", local_dir)
    ctx = _context(project)
    source, local = ctx.path(hdfs_path), transfer.Local()
    remote = transfer.Remote(ctx.fs)
    plan = transfer.plan([source], local_dir, remote, local, overwrite=True, whole=True, into=True)
    full_local = plan.tops[0]
    if not overwrite and plan.replace and local.tree(full_local) == remote.tree(source):
        log.info("%s is already on local disk at %s: kept", ctx.uri(source), full_local)
        return full_local
    if plan.size > shutil.disk_usage(local_dir).free:
        raise OSError(
            errno.ENOSPC,
            "not enough free local disk space: free some or pick another local_path",
            local_dir,
        )
    staging = tempfile.mkdtemp(prefix=TEMP_MARKER, dir=local_dir)
    try:
        staged = os.path.join(staging, "data")
        if ctx.info(source)["type"] == "file":
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


@_hops
def dump(data: str | bytes, hdfs_path: str, project: str | None = None) -> None:
    """Write str (as text, UTF-8) or bytes to a file, replacing it atomically."""
    ctx = _context(project)
    with ctx.fs.open_file(ctx.path(hdfs_path), "w" if isinstance(data, bytes) else "wt") as f:
        f.write(data)


@_hops
def load(hdfs_path: str, project: str | None = None) -> bytes:
    """The whole content of a file, as bytes; FileNotFoundError if missing."""
    ctx = _context(project)
    with ctx.fs.open_file(ctx.path(hdfs_path), "r") as f:
        return f.read()


@_hops
def stat(hdfs_path: str, project: str | None = None) -> StatResult:
    """pydoop's os.stat() for an HDFS path.

    As in hops, `st_mode` is the permission value alone (no file-type bits; `kind` says file or
    directory) and round-trips what `chmod` was given: chmod(p, 750) (decimal, not 0o750) stores
    and stat returns 750 = 0o1356 (sticky bit set). st_ctime is 0, as pydoop's.
    """
    ctx = _context(project)
    return _stat(ctx, ctx.path(hdfs_path))


def _stat(ctx: _Context, path: str) -> StatResult:
    info = ctx.fs.get_path_info(path)
    size, blksize = info["size"], info["block_size"]
    return StatResult(
        name=info["name"],
        kind=info["kind"],
        st_mode=info["permissions"],
        st_ino=0,
        st_dev=0,
        st_nlink=1,
        st_uid=info.get("owner", ""),
        st_gid=info.get("group", ""),
        st_size=size,
        st_atime=float(info["last_access"]),
        st_mtime=float(info["last_mod"]),
        st_ctime=0.0,
        st_blksize=blksize,
        st_blocks=-(-size // blksize) if blksize else 0,
        replication=info["replication"],
    )


@_hops
def access(hdfs_path: str, mode: int, project: str | None = None) -> bool:
    """os.access() as pydoop does it: `mode` (os.R_OK | os.W_OK | os.X_OK) checked against the
    owner bits when the project user owns the path, the group bits when its group is the
    project, else the other bits (ACL entries are not considered, as in pydoop)."""
    ctx = _context(project)
    st = _stat(ctx, ctx.path(hdfs_path))
    if st.st_uid == ctx.project.user:
        mode <<= 6
    elif st.st_gid == ctx.project.name:
        mode <<= 3
    return (st.st_mode & mode) == mode


@_hops
def chmod(hdfs_path: str, mode: int | str, project: str | None = None) -> None:
    """Set permission bits, as pydoop: an int as given (write 0o750, not 750), an octal string
    ("750"), or symbolic ("u+x", "go-w", "a=r")."""
    ctx = _context(project)
    ctx.fs.chmod(ctx.path(hdfs_path), mode)


@_hops
def chown(hdfs_path: str, user: str | None, group: str | None, project: str | None = None) -> None:
    """Set owner and/or group (None or '' keeps it); changing the owner needs the HDFS superuser."""
    ctx = _context(project)
    ctx.fs.chown(ctx.path(hdfs_path), user or "", group or "")


def capacity() -> int:
    """The raw capacity of the filesystem in bytes (the NameNode's FsStatus)."""
    return int(get_fs().fs_status()["capacity"])


@_hops
def add_module(hdfs_path: str, project: str | None = None) -> str:
    """Download a .py file or a notebook (.ipynb, converted to .py) into $CWD/localized_deps,
    put it on sys.path and (re)import it; the local .py path."""
    ctx = _context(project)
    path = ctx.path(hdfs_path)
    if not path.endswith((".py", ".ipynb")) or not isfile(ctx.uri(path)):
        raise ValueError(f"{path} is not a .py or .ipynb file: add_module imports one of those")
    deps = os.path.join(os.getcwd(), "localized_deps")
    os.makedirs(deps, exist_ok=True)
    open(os.path.join(deps, "__init__.py"), "a").close()
    local = copy_to_local(ctx.uri(path), deps, overwrite=True)
    if local.endswith(".ipynb"):
        local = _notebook_to_module(local)
    for entry in (deps, local):
        if entry not in sys.path:
            sys.path.append(entry)  # hops appends the file too
    name = os.path.splitext(os.path.basename(local))[0]
    if name in sys.modules:
        importlib.reload(sys.modules[name])
    else:
        importlib.import_module(name)
    return local


def is_tls_enabled() -> bool | None:
    """Whether core-site.xml sets ipc.server.ssl.enabled to true; None when it does not set it
    (as hops)."""
    value = get_fs().config.properties.get("ipc.server.ssl.enabled")
    return None if value is None else value.strip().lower() == "true"


def get_webhdfs_host() -> str:
    """The NameNode's WebHDFS host name (hops asks DNS; here: the configured WebHDFS URL)."""
    return urlsplit(_webhdfs_url()).hostname or ""


def get_webhdfs_port() -> str:
    """The NameNode's WebHDFS port, as a string (as hops returns it)."""
    return str(urlsplit(_webhdfs_url()).port)


# -- helpers -----------------------------------------------------------------------------------


def _webhdfs_url() -> str:
    url = get_fs().config.webhdfs_url
    if not url:
        raise ValueError(
            "No WebHDFS URL configured: set HOPSFS_WEBHDFS_URL or "
            "dfs.namenode.http-address in hdfs-site.xml"
        )
    return url


def _write_whole(ctx: _Context, plan: transfer.Plan, write: Callable[[str], None]) -> None:
    """Write a planned copy's one top target with `write(path)`: a file in place (writers commit
    atomically), a tree staged in a hidden sibling and renamed in, so readers never see a
    partial tree; what the plan replaces goes first when its kind differs."""
    top = plan.tops[0]
    tree = bool(plan.dirs) or plan.targets != [top]
    if plan.replace and ctx.info(top)["type"] != ("directory" if tree else "file"):
        ctx.fs.rm(top, recursive=True)
    ctx.fs.makedirs(posixpath.dirname(top), exist_ok=True)
    if not tree:
        write(top)
        return
    with ctx.fs.staged_dir(top) as staging:
        write(staging)


def _notebook_to_module(path: str) -> str:
    """Convert a notebook to a .py file beside it (nbconvert, of the `notebooks` extra)."""
    try:
        from nbconvert import PythonExporter
    except ImportError as e:
        raise ImportError(
            "add_module of a notebook needs nbconvert: pip install 'hopsfs-tools[notebooks]'"
        ) from e
    source, _ = PythonExporter().from_filename(path)
    target = os.path.splitext(path)[0] + ".py"
    with open(target, "w", encoding="utf-8") as f:
        f.write(source)
    return target


def _remove_local(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
