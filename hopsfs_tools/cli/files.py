"""`hopsfs-tools ls|put|get|cat|...`: `hdfs dfs`-style file commands over HopsFileSystem.

Paths resolve exactly as in the API: "rel" -> /Projects/<P>/rel (with a project), "/abs",
"hdfs://host:port/abs", "hopsfs://rel". User errors print one `Error: ...` line and exit 1;
usage errors exit 2 (click's default).
"""

from __future__ import annotations

import errno
import posixpath
import stat as stat_module
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

import click
from fsspec.callbacks import Callback
from tqdm import tqdm

from hopsfs_tools.cli.base import FsCommand, fs_options, human_size
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import hints, transfer

KIB = 1024
PROGRESS_MIN_BYTES = 2**20  # transfers smaller than this show no progress bar


def _command(name: str | None = None, human: bool = False) -> Callable[..., click.Command]:
    """An FsCommand with the connection options; `human` frees -h for --human-readable."""
    settings = {"help_option_names": ["--help"]} if human else {}

    def decorate(func: Callable[..., Any]) -> click.Command:
        return click.command(name, cls=FsCommand, context_settings=settings)(fs_options()(func))

    return decorate


# -- formatting ----------------------------------------------------------------------------------


def _size(size: int, human: bool) -> str:
    return human_size(size) if human else str(size)


def _mode_string(info: dict[str, Any]) -> str:
    kind = stat_module.S_IFDIR if info["type"] == "directory" else stat_module.S_IFREG
    return stat_module.filemode(kind | info.get("permission", 0))


def _mtime(info: dict[str, Any]) -> str:
    return datetime.fromtimestamp(info.get("mtime", 0)).strftime("%Y-%m-%d %H:%M")


def _long_rows(infos: list[dict[str, Any]], human: bool) -> list[str]:
    """`hdfs dfs -ls` lines: mode, replication, owner, group, size, mtime, name (aligned)."""
    rows = [
        [
            _mode_string(i),
            str(i.get("replication") or "-") if i["type"] == "file" else "-",
            i.get("owner", ""),
            i.get("group", ""),
            _size(i["size"], human),
            _mtime(i),
            i["name"],
        ]
        for i in infos
    ]
    widths = [max((len(r[c]) for r in rows), default=0) for c in range(7)]
    right = {1, 4}  # replication and size align right
    return [
        " ".join(
            v.rjust(widths[c]) if c in right else (v if c == 6 else v.ljust(widths[c]))
            for c, v in enumerate(r)
        )
        for r in rows
    ]


# -- transfers (planned by hopsfs_tools.hopsworks.transfer) ------------------------------------------------


class _ByteProgress(Callback):
    """One tqdm bar in bytes over every file of a batch put/get (files transfer in parallel)."""

    def __init__(self, total: int, enabled: bool) -> None:
        super().__init__()
        self.bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not enabled or total < PROGRESS_MIN_BYTES,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        self._lock = threading.Lock()

    def branched(self, path_1: str, path_2: str, **kwargs: Any) -> Callback:
        return _FileProgress(self)

    def advance(self, size: int) -> None:
        with self._lock:
            self.bar.update(size)

    def close(self) -> None:
        self.bar.close()


class _FileProgress(Callback):
    """The per-file callback fsspec hands put_file/get_file: adds its bytes to the shared bar."""

    def __init__(self, parent: _ByteProgress) -> None:
        super().__init__()
        self.parent = parent

    def relative_update(self, inc: int = 1) -> None:
        self.parent.advance(inc)


def _transfer(
    plan: transfer.Plan, dst: transfer.Side, copy: Callable[..., None], progress: bool
) -> None:
    """Create the plan's directories, then copy its files in one parallel batch call."""
    for d in plan.dirs:
        dst.makedirs(d)
    if not plan.sources:
        return
    callback = _ByteProgress(plan.size, progress)
    try:
        copy(plan.sources, plan.targets, callback=callback)
    finally:
        callback.close()


def _expand(fs: HopsFileSystem, paths: Iterable[str], missing_ok: bool = False) -> list[str]:
    """Paths with glob patterns (*, ?, [...]) replaced by their sorted matches on the cluster."""
    out: list[str] = []
    for path in paths:
        if not any(c in path for c in "*?["):
            out.append(path)
            continue
        matches = sorted(fs.glob(path))
        if not matches and not missing_ok:
            raise hints.missing(fs.resolve(path), "no file matches the pattern")
        out += matches
    return out


# -- commands ------------------------------------------------------------------------------------


@_command(human=True)
@click.argument("paths", nargs=-1)
@click.option(
    "-l",
    "long",
    is_flag=True,
    help="Long listing: mode, replicas, owner, group, size, mtime, name.",
)
@click.option("-R", "recursive", is_flag=True, help="List subdirectories recursively.")
@click.option("-h", "human", is_flag=True, help="Human-readable sizes (1.5 K, 12.0 M).")
def ls(
    fs: HopsFileSystem, paths: tuple[str, ...], long: bool, recursive: bool, human: bool
) -> None:
    """List directories (default: the project root, or / without a project)."""
    for path in _expand(fs, paths or ("",)):
        info = fs.info(fs.resolve(path))  # absolute names, as `hdfs dfs -ls` of a project
        if info["type"] != "directory":
            entries = [info]
        elif recursive:
            found = fs.find(info["name"], withdirs=True, detail=True)
            entries = [i for n, i in sorted(found.items()) if n != info["name"]]
        else:
            entries = sorted(fs.ls(info["name"]), key=lambda i: i["name"])
        lines = _long_rows(entries, human) if long else [e["name"] for e in entries]
        for line in lines:
            click.echo(line)


@_command()
@click.argument("sources", nargs=-1, required=True)
@click.argument("target")
@click.option("-f", "force", is_flag=True, help="Overwrite existing files.")
@click.option("--no-progress", is_flag=True, help="No progress bar (shown on stderr from 1 MiB).")
def put(
    fs: HopsFileSystem, sources: tuple[str, ...], target: str, force: bool, no_progress: bool
) -> None:
    """Upload local files or directories (recursively, in parallel) to TARGET."""
    remote = transfer.Remote(fs)
    plan = transfer.plan(list(sources), target, transfer.Local(), remote, overwrite=force)
    _transfer(plan, remote, fs.put, not no_progress)


@_command()
@click.argument("sources", nargs=-1, required=True)
@click.argument("target", type=click.Path())
@click.option("-f", "force", is_flag=True, help="Overwrite existing local files.")
@click.option("--no-progress", is_flag=True, help="No progress bar (shown on stderr from 1 MiB).")
def get(
    fs: HopsFileSystem, sources: tuple[str, ...], target: str, force: bool, no_progress: bool
) -> None:
    """Download files or directories (recursively, in parallel) to the local TARGET."""
    local = transfer.Local()
    plan = transfer.plan(_expand(fs, sources), target, transfer.Remote(fs), local, overwrite=force)
    _transfer(plan, local, fs.get, not no_progress)


@_command()
@click.argument("sources", nargs=-1, required=True)
@click.argument("target")
@click.option("-f", "force", is_flag=True, help="Overwrite existing files.")
def cp(fs: HopsFileSystem, sources: tuple[str, ...], target: str, force: bool) -> None:
    """Copy files or directories (recursively) on the cluster."""
    remote = transfer.Remote(fs)
    plan = transfer.plan(_expand(fs, sources), target, remote, remote, overwrite=force)
    for d in plan.dirs:
        remote.makedirs(d)
    if plan.sources:
        fs.copy(plan.sources, plan.targets)


@_command()
@click.argument("sources", nargs=-1, required=True)
@click.argument("target")
@click.option("-f", "force", is_flag=True, help="Replace an existing target file.")
def mv(fs: HopsFileSystem, sources: tuple[str, ...], target: str, force: bool) -> None:
    """Move/rename on the namenode (atomic per path); into TARGET when it is a directory."""
    sources = tuple(_expand(fs, sources))
    target_kind = transfer.Remote(fs).kind(target)
    if len(sources) > 1 and target_kind != "directory":
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"{target}: moving several sources needs an existing target directory",
            target,
        )
    for source in sources:
        src = fs.info(source)["name"]  # FileNotFoundError naming the source
        dest = fs.resolve(target)
        if target_kind == "directory":
            dest = posixpath.join(dest, posixpath.basename(src))
        if not force and dest != src and fs.exists(dest):
            raise FileExistsError(errno.EEXIST, f"{dest} exists (use -f to replace it)", dest)
        fs.mv(src, dest, overwrite=force)


def _read_chunks(fs: HopsFileSystem, path: str) -> Iterator[bytes]:
    with fs.open(path, "rb") as f:
        while chunk := f.read(fs.blocksize):
            yield chunk


@_command()
@click.argument("paths", nargs=-1, required=True)
def cat(fs: HopsFileSystem, paths: tuple[str, ...]) -> None:
    """Write files to stdout."""
    for path in _expand(fs, paths):
        for chunk in _read_chunks(fs, path):
            click.echo(chunk, nl=False)


def _file_path(fs: HopsFileSystem, path: str) -> str:
    """The resolved path of an existing file (IsADirectoryError for a directory)."""
    info = fs.info(path)
    if info["type"] == "directory":
        raise IsADirectoryError(errno.EISDIR, f"{info['name']} is a directory", info["name"])
    return info["name"]


_COUNT = click.option(
    "-c",
    "count",
    type=click.IntRange(min=0),
    default=KIB,
    show_default=True,
    help="Bytes to print.",
)


@_command()
@click.argument("path")
@_COUNT
def head(fs: HopsFileSystem, path: str, count: int) -> None:
    """Print the first bytes of a file (1 KiB by default)."""
    data = fs.cat_file(_file_path(fs, path), 0, count)
    click.echo(data, nl=False)


@_command()
@click.argument("path")
@_COUNT
def tail(fs: HopsFileSystem, path: str, count: int) -> None:
    """Print the last bytes of a file (1 KiB by default)."""
    data = fs.cat_file(_file_path(fs, path), -count, None) if count else b""
    click.echo(data, nl=False)


@_command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-r", "-R", "recursive", is_flag=True, help="Delete directories and their content.")
@click.option("-f", "force", is_flag=True, help="No error for missing paths.")
@click.option("--skip-trash", is_flag=True, help="Delete for good instead of moving to the trash.")
def rm(
    fs: HopsFileSystem, paths: tuple[str, ...], recursive: bool, force: bool, skip_trash: bool
) -> None:
    """Delete files (and directories with -r): into your trash when the cluster's trash is on,
    as `hdfs dfs -rm` (get them back with `hopsfs-tools trash restore PATH`)."""
    for path in _expand(fs, paths, missing_ok=force):
        try:
            info = fs.info(path)
        except FileNotFoundError:
            if force:
                continue
            raise
        if info["type"] == "directory" and not recursive:
            raise IsADirectoryError(
                errno.EISDIR,
                f"{info['name']} is a directory (use -r to delete it and its content)",
                info["name"],
            )
        target = fs.resolve(info["name"])
        can = fs.trash_can
        if skip_trash or not can.enabled or can.holds(target):
            fs.rm(info["name"], recursive=recursive)
            click.echo(f"Deleted {info['name']}")
        else:
            click.echo(f"Moved {info['name']} to the trash at {fs.trash(target)}")


@_command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-p", "parents", is_flag=True, help="Create parents; no error if it exists.")
def mkdir(fs: HopsFileSystem, paths: tuple[str, ...], parents: bool) -> None:
    """Create directories."""
    for path in paths:
        if parents:
            fs.makedirs(path, exist_ok=True)
            continue
        path = fs.resolve(path)
        if fs.exists(path):
            raise FileExistsError(
                errno.EEXIST, f"{path} exists (-p accepts existing directories)", path
            )
        parent = posixpath.dirname(path)
        if transfer.Remote(fs).kind(parent) != "directory":
            raise hints.missing(parent, "use -p to create parents")
        fs.mkdir(path, create_parents=False)


@_command(human=True)
@click.argument("paths", nargs=-1)
@click.option("-s", "summary", is_flag=True, help="One total per argument, not per child.")
@click.option("-h", "human", is_flag=True, help="Human-readable sizes.")
def du(fs: HopsFileSystem, paths: tuple[str, ...], summary: bool, human: bool) -> None:
    """Sizes: bytes and space consumed (with replicas) of each child, or of each path with -s."""
    for path in _expand(fs, paths or ("",)):
        info = fs.info(path)
        entries = [info] if summary or info["type"] != "directory" else fs.ls(path)
        for entry in sorted(entries, key=lambda e: e["name"]):
            total = fs.content_summary(entry["name"])
            click.echo(
                f"{_size(total['length'], human):<10} "
                f"{_size(total['space_consumed'], human):<10} {entry['name']}"
            )


@_command("stat")
@click.argument("paths", nargs=-1, required=True)
def stat_(fs: HopsFileSystem, paths: tuple[str, ...]) -> None:
    """Show type, size, mode, owner, group, replication, block size and times."""
    for path in _expand(fs, paths):
        i = fs.info(path)
        facts = {
            "name": i["name"],
            "type": i["type"],
            "size": i["size"],
            "mode": f"{_mode_string(i)} ({i.get('permission', 0):04o})",
            "owner": i.get("owner", ""),
            "group": i.get("group", ""),
            "replication": i.get("replication", 0),
            "blocksize": i.get("blocksize", 0),
            "mtime": _mtime(i),
            "atime": _mtime({"mtime": i.get("atime", 0)}),
        }
        for key, value in facts.items():
            click.echo(f"{key + ':':<13}{value}")


class _Octal(click.ParamType):
    """A permission mode in octal ("750", "0644")."""

    name = "octal-mode"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        if not (3 <= len(text) <= 4 and all(c in "01234567" for c in text)):
            self.fail(f"{text!r} is not an octal mode such as 750 or 0644", param, ctx)
        return int(text, 8)


def _targets(fs: HopsFileSystem, paths: tuple[str, ...], recursive: bool) -> list[str]:
    """The resolved paths (and, with `recursive`, everything below them); missing ones raise."""
    out = []
    for path in _expand(fs, paths):
        name = fs.info(path)["name"]
        out += sorted(fs.find(name, withdirs=True)) if recursive else [name]
        if recursive and name not in out:
            out.append(name)
    return out


@_command()
@click.argument("mode", type=_Octal())
@click.argument("paths", nargs=-1, required=True)
@click.option("-R", "recursive", is_flag=True, help="Also everything below the paths.")
def chmod(fs: HopsFileSystem, mode: int, paths: tuple[str, ...], recursive: bool) -> None:
    """Set permission bits, given in octal (e.g. 750)."""
    for path in _targets(fs, paths, recursive):
        fs.chmod(path, mode)


@_command()
@click.argument("owner", metavar="OWNER[:GROUP]")
@click.argument("paths", nargs=-1, required=True)
@click.option("-R", "recursive", is_flag=True, help="Also everything below the paths.")
def chown(fs: HopsFileSystem, owner: str, paths: tuple[str, ...], recursive: bool) -> None:
    """Set owner and/or group ("alice", "alice:grp" or ":grp"; owners need the HDFS superuser)."""
    user, _, group = owner.partition(":")
    if not user and not group:
        raise click.BadParameter(f"{owner!r}: give user, user:group or :group", param_hint="OWNER")
    for path in _targets(fs, paths, recursive):
        fs.chown(path, user or None, group or None)


_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # duration units


class _Duration(click.ParamType):
    """A duration: seconds, or a number with unit s, m, h or d ("90s", "30m", "1h", "2d")."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        unit = _SECONDS_PER.get(text[-1:], 0)
        try:
            number = float(text[:-1] if unit else text)
        except ValueError:
            number = -1.0
        if not number >= 0:
            self.fail(f"{value!r} is not a duration such as 90s, 30m, 1h or 2d", param, ctx)
        return number * (unit or 1)


@_command("clean-tmp")
@click.argument("path", default="")
@click.option(
    "--older-than",
    type=_Duration(),
    default="1h",
    show_default=True,
    help="Only leftovers last modified longer ago than this (90s, 30m, 1h, 2d).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("-r", "-R", "recursive", is_flag=True, help="Also in subdirectories.")
def clean_tmp(
    fs: HopsFileSystem, path: str, older_than: float, dry_run: bool, recursive: bool
) -> None:
    """Delete the hidden temporary files (.NAME.hopsfs-tmp-ID) that writers killed mid-write
    left in PATH (default: the project root); prints each path deleted."""
    for leftover in fs.clean_tmp(path, older_than=older_than, recursive=recursive, dry_run=dry_run):
        click.echo(f"would delete {leftover}" if dry_run else leftover)


@_command("test")
@click.argument("path")
@click.option("-e", "check", flag_value="exists", help="Exit 0 if PATH exists.")
@click.option("-d", "check", flag_value="directory", help="Exit 0 if PATH is a directory.")
@click.option("-f", "check", flag_value="file", help="Exit 0 if PATH is a file.")
def test_(fs: HopsFileSystem, path: str, check: str | None) -> None:
    """Exit 0 if the check holds, else 1, printing nothing (as `hdfs dfs -test`)."""
    if check is None:
        raise click.UsageError("give one of -e, -d, -f")
    kind = transfer.Remote(fs).kind(path)
    if kind is None or (check != "exists" and kind != check):
        raise click.exceptions.Exit(1)


FILE_COMMANDS: list[click.Command] = [
    ls,
    put,
    get,
    cat,
    head,
    tail,
    rm,
    mkdir,
    mv,
    cp,
    du,
    stat_,
    chmod,
    chown,
    test_,
    clean_tmp,
]
