"""HDFS snapshots of a dataset: a read-only copy of a directory tree as it was, for free (the
NameNode keeps only what changed since), read at <dir>/.snapshot/<name>/... like any path.

Only a snapshottable directory can be snapshotted: the HDFS superuser makes one so
(`allow_snapshots`; `project create` does it for every dataset); nested ones are not allowed, so
a project's snapshots are taken of its datasets, the directories directly in /Projects/P.
Taking and deleting snapshots needs the directory's owner (or the superuser). `restore_snapshot`
copies changed or missing files back, each committed by rename (see fs/commit.py), so readers
never see a half-restored file.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from hopsfs_tools.fs.backends.base import Snapshot, SnapshotChange

if TYPE_CHECKING:
    from hopsfs_tools.fs.client import Client

SNAPSHOT_DIR = ".snapshot"
_NOT_SNAPSHOTTABLE = "not a snapshottable directory"


def _explained(path: str, exc: OSError, name: str | None = None) -> Exception:
    """A not-snapshottable directory's or a taken name's error saying what to do; others as
    they are."""
    if isinstance(exc, FileExistsError) and name:
        return FileExistsError(
            exc.errno,
            f"{path} has a snapshot named {name!r} already: pick another name, or delete it "
            f"first with `hopsfs-tools snapshot rm {path} {name}`",
            path,
        )
    if _NOT_SNAPSHOTTABLE not in str(exc):
        return exc
    return ValueError(
        f"{path} is not snapshottable: snapshots are taken of a dataset (a directory directly "
        f"in /Projects/P, made snapshottable by `hopsfs-tools project create`); for another "
        f"directory ask the HDFS superuser to run `hopsfs-tools snapshot allow {path}`"
    )


class SnapshotOps:
    """HopsFileSystem's snapshot methods (a mixin)."""

    client: Client

    def _snapshot_call(self, op: str, path: str, *args: Any) -> Any:
        target = self.resolve(path)
        try:
            return self.client.call(op, target, *args)
        except OSError as e:
            raise _explained(target, e, args[0] if args else None) from e

    def allow_snapshots(self, path: str) -> None:
        """Make directory `path` snapshottable (the HDFS superuser only)."""
        self._snapshot_call("allow_snapshot", path)

    def snapshot(self, path: str, name: str | None = None) -> str:
        """Take a snapshot of snapshottable directory `path` (default name: HDFS's
        sYYYYMMDD-HHMMSS.mmm); its read-only path, <path>/.snapshot/<name>. FileExistsError
        when the name is taken, ValueError when `path` is not snapshottable."""
        return self._snapshot_call("create_snapshot", path, name)

    def snapshots(self, path: str) -> list[Snapshot]:
        """The snapshots of `path`, oldest first: name, path, mtime."""
        return self._snapshot_call("snapshots", path)

    def snapshot_diff(self, path: str, old: str, new: str = "") -> list[SnapshotChange]:
        """What changed in `path` from snapshot `old` to snapshot `new` ("": the live tree)."""
        return self._snapshot_call("snapshot_diff", path, old, new)

    def delete_snapshot(self, path: str, name: str) -> None:
        """Delete snapshot `name` of `path` (what only it kept is freed)."""
        self._snapshot_call("delete_snapshot", path, name)

    def restore_snapshot(self, path: str, name: str, dry_run: bool = False) -> list[str]:
        """Copy back every file of snapshot `name` that is missing from `path` or differs from
        it (size or modification time), each written to a temporary name and renamed over the
        live one, with the snapshot's modification time; files created since stay. The live paths restored (to be, with dry_run)."""
        root = self.resolve(path)
        source = posixpath.join(root, SNAPSHOT_DIR, name)
        try:
            self.client.info(source)
        except FileNotFoundError as e:
            names = ", ".join(s["name"] for s in self.snapshots(root)) or "none"
            hint = f"{root} has no snapshot {name!r}; it has: {names} (`hopsfs-tools snapshot ls`)"
            exc = FileNotFoundError(e.errno, hint, source)
            exc.hint = hint  # type: ignore[attr-defined]  # what the CLI's one line shows
            raise exc from e
        restored = []
        found = self.find(source, detail=True)
        for snap_path, info in sorted(found.items()):
            live = root + snap_path[len(source) :]
            try:
                now = self.client.info(live)
                if now["size"] == info["size"] and now.get("mtime") == info.get("mtime"):
                    continue
            except FileNotFoundError:
                pass
            restored.append(live)
            if not dry_run:
                self.makedirs(posixpath.dirname(live), exist_ok=True)
                self.cp_file(snap_path, live)
                self.client.call("set_times", live, mtime=info["mtime"])  # as it was, as cp -p
        return restored


__all__ = ["SNAPSHOT_DIR", "SnapshotOps"]
