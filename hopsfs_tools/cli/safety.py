"""`hopsfs-tools trash ls|restore|expunge` and `hopsfs-tools checksum`: getting deleted files
back, and telling equal files apart from changed ones (HDFS and local alike)."""

from __future__ import annotations

import os

import click

from hopsfs_tools.cli.base import FsCommand, FsGroup, fs_options, human_size
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.checksums import ALGORITHM, local_checksum


@click.group(cls=FsGroup)
def trash() -> None:
    """Your HDFS trash (/user/<you>/.Trash): what `rm` moved there, kept for the cluster's
    fs.trash.interval (the NameNode then deletes it)."""


@trash.command("ls")
@click.argument("path", default="/")
@fs_options()
def trash_ls(fs: HopsFileSystem, path: str) -> None:
    """List what was deleted from PATH or below it (default: everything): checkpoint, size,
    original path (newest checkpoint first; `Current` is not checkpointed yet)."""
    can = fs.trash_can
    click.echo(f"# trash of {can.user}: {can.root}, kept {can.interval:g} minutes")
    for entry in fs.trash_list(path):
        size = human_size(entry.size) if entry.type == "file" else "<dir>"
        click.echo(f"{entry.checkpoint:<14} {size:>9}  {entry.path}")


@trash.command("restore")
@click.argument("path")
@click.option("--to", "to", default=None, metavar="PATH", help="Restore to this path instead.")
@fs_options()
def trash_restore(fs: HopsFileSystem, path: str, to: str | None) -> None:
    """Put the latest deleted PATH (its original path, as `trash ls` shows it) back."""
    click.echo(f"Restored {fs.trash_restore(path, to)}")


@trash.command("expunge")
@click.option("--immediate", is_flag=True, help="Delete everything in the trash now.")
@fs_options()
def trash_expunge(fs: HopsFileSystem, immediate: bool) -> None:
    """As `hdfs dfs -expunge`: delete checkpoints older than the trash interval and checkpoint
    the current trash (--immediate: empty the trash for good)."""
    for path in fs.trash_expunge(immediate):
        click.echo(f"Deleted {path}")


@click.command(cls=FsCommand)
@click.argument("paths", nargs=-1, required=True)
@fs_options()
def checksum(fs: HopsFileSystem, paths: tuple[str, ...]) -> None:
    """Print PATH, COMPOSITE-CRC32C and the CRC32C of each file's content, for HDFS paths and
    local files (file://PATH, or a plain path that exists locally) alike: equal values, equal
    content."""
    for path in paths:
        local = path.removeprefix("file://")
        if path.startswith("file://") or ("://" not in path and os.path.isfile(local)):
            value = local_checksum(local)
        else:
            value = fs.checksum(path)
        click.echo(f"{path}\t{ALGORITHM}\t{value}")


SAFETY_COMMANDS: list[click.Command] = [trash, checksum]
