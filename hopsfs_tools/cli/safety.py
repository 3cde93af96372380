"""`hopsfs-tools trash ...`, `snapshot ...` and `checksum`: getting deleted files back, datasets
as they were, and telling equal files apart from changed ones (HDFS and local alike)."""

from __future__ import annotations

import os
from datetime import datetime

import click
from tqdm import tqdm

from hopsfs_tools.cli.base import FsCommand, FsGroup, fs_options, human_size
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.checksums import ALGORITHM, local_checksum
from hopsfs_tools.hopsworks.sync import DEFAULT_WORKERS, is_local, plan_sync, sync


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


@click.group(cls=FsGroup)
def snapshot() -> None:
    """Snapshots of a dataset (a directory directly in /Projects/P, snapshottable since
    `project create`): read-only copies at DATASET/.snapshot/NAME/..., for reproducible training.
    Taking and deleting them needs the dataset's owner."""


@snapshot.command("create")
@click.argument("dataset")
@click.argument("name", required=False)
@fs_options()
def snapshot_create(fs: HopsFileSystem, dataset: str, name: str | None) -> None:
    """Take a snapshot of DATASET named NAME (default: the time, as HDFS names it)."""
    click.echo(f"Created {fs.snapshot(dataset, name)}")


@snapshot.command("ls")
@click.argument("dataset")
@fs_options()
def snapshot_ls(fs: HopsFileSystem, dataset: str) -> None:
    """List DATASET's snapshots, oldest first: when taken, name, path."""
    for snap in fs.snapshots(dataset):
        taken = datetime.fromtimestamp(snap["mtime"]).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{taken}  {snap['name']:<24} {snap['path']}")


@snapshot.command("diff")
@click.argument("dataset")
@click.argument("old")
@click.argument("new", default="")
@fs_options()
def snapshot_diff(fs: HopsFileSystem, dataset: str, old: str, new: str) -> None:
    """What changed in DATASET from snapshot OLD to NEW (default: now), as `hdfs snapshotDiff`:
    + created, - deleted, M modified, R renamed."""
    marks = {"CREATE": "+", "DELETE": "-", "MODIFY": "M", "RENAME": "R"}
    for change in fs.snapshot_diff(dataset, old, new):
        where = change["path"] or "."
        target = f" -> {change['target']}" if change["target"] else ""
        click.echo(f"{marks.get(change['type'], '?')}\t./{where}{target}".replace("/.", "/"))


@snapshot.command("rm")
@click.argument("dataset")
@click.argument("name")
@fs_options()
def snapshot_rm(fs: HopsFileSystem, dataset: str, name: str) -> None:
    """Delete snapshot NAME of DATASET."""
    fs.delete_snapshot(dataset, name)
    click.echo(f"Deleted snapshot {name} of {fs.resolve(dataset)}")


@snapshot.command("restore")
@click.argument("dataset")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Only list the files that would be copied back.")
@fs_options()
def snapshot_restore(fs: HopsFileSystem, dataset: str, name: str, dry_run: bool) -> None:
    """Copy back the files of snapshot NAME that are missing from DATASET or changed since, each
    committed by rename; files created since stay."""
    for path in fs.restore_snapshot(dataset, name, dry_run=dry_run):
        click.echo(f"{'Would restore' if dry_run else 'Restored'} {path}")


@snapshot.command("allow")
@click.argument("directory")
@fs_options()
def snapshot_allow(fs: HopsFileSystem, directory: str) -> None:
    """Make DIRECTORY snapshottable (the HDFS superuser; `project create` does it for datasets)."""
    fs.allow_snapshots(directory)
    click.echo(f"{fs.resolve(directory)} is snapshottable")


@click.command(cls=FsCommand)
@click.argument("paths", nargs=-1, required=True)
@fs_options()
def checksum(fs: HopsFileSystem, paths: tuple[str, ...]) -> None:
    """Print PATH, COMPOSITE-CRC32C and the CRC32C of each file's content, for HDFS paths and
    local files (file://PATH, or a plain path that exists locally) alike: equal values, equal
    content."""
    for path in paths:
        local = path.removeprefix("file://")
        if is_local(path) and not os.path.isdir(local):
            value = local_checksum(local)
        else:
            value = fs.checksum(path)
        click.echo(f"{path}\t{ALGORITHM}\t{value}")


@click.command("sync", cls=FsCommand)
@click.argument("src")
@click.argument("dst")
@click.option(
    "--delete", is_flag=True, help="Delete what DST has beyond SRC (on HDFS: to the trash)."
)
@click.option("--dry-run", is_flag=True, help="Only print what would be copied and deleted.")
@click.option("--checksum", is_flag=True, help="Compare checksums even where times match.")
@click.option("-j", "--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1))
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@fs_options()
def sync_command(
    fs: HopsFileSystem,
    src: str,
    dst: str,
    delete: bool,
    dry_run: bool,
    checksum: bool,
    workers: int,
    no_progress: bool,
) -> None:
    """Copy to DST what is missing there or differs from SRC (size, else time and checksum),
    local disk <-> HDFS either way, as `aws s3 sync`; safe to run again after an interruption.
    SRC is local when it is file://... or exists locally; the other side is on HDFS."""
    plan = plan_sync(src, dst, fs=fs, delete=delete, checksum=checksum, workers=workers)
    if dry_run:
        for rel in plan.copies:
            click.echo(f"copy   {_joined(plan.src, rel)} -> {_joined(plan.dst, rel)}")
        for rel in plan.deletes:
            click.echo(f"delete {_joined(plan.dst, rel)}")
        click.echo(f"# {len(plan.copies)} to copy, {plan.unchanged} unchanged")
        return
    bar = tqdm(total=plan.size, unit="B", unit_scale=True, disable=no_progress or None)
    with bar:
        done = sync(src, dst, fs=fs, delete=delete, checksum=checksum, workers=workers,
                    progress=bar.update)  # fmt: skip
    click.echo(
        f"copied {len(done.copies)} files ({human_size(done.size)}), "
        f"{done.unchanged} unchanged, {len(done.deletes)} deleted"
    )


def _joined(top: str, rel: str) -> str:
    return f"{top.rstrip('/')}/{rel}" if rel else top


SAFETY_COMMANDS: list[click.Command] = [trash, snapshot, checksum, sync_command]
