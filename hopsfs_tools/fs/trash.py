"""Hadoop's trash as `hdfs dfs -rm` uses it (TrashPolicyDefault), over a `Client`.

A delete moves the path to /user/<user>/.Trash/Current/<its absolute path>; a name already
there gets the time in milliseconds appended, as Hadoop does. `expunge` rolls Current into a
checkpoint named by the time (yyMMddHHmmss) and deletes checkpoints older than the interval, as
the NameNode's emptier does every fs.trash.checkpoint.interval.

A project user `P__u` without a home, who may not create one under /user, keeps the trash of
what it deletes in its project in /Projects/P/.Trash/P__u/Current/<path> (as Hadoop keeps an
encryption zone's trash in <zone>/.Trash/<user>); listing, restore and expunge see both.

The interval comes from the NameNode's server defaults when they set one, else from
fs.trash.interval in the client's core-site (Hadoop's rule). A move the trash cannot take (a
quota, no right to create the user's home) raises and keeps the data: like TrashPolicyDefault,
this never falls back to a permanent delete.
"""

from __future__ import annotations

import errno
import getpass
import posixpath
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hopsfs_tools.config.project import PROJECTS_ROOT
from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import norm_path

if TYPE_CHECKING:
    from hopsfs_tools.fs.client import Client

CURRENT = "Current"
CHECKPOINT_FORMAT = "%y%m%d%H%M%S"  # Hadoop's checkpoint names (local time)
TRASH_MODE = 0o700  # TrashPolicyDefault's permission for the directories it creates
INTERVAL_KEY = "fs.trash.interval"
SKIP_HINT = "or delete it for good with --skip-trash / skip_trash=True"


@dataclass(frozen=True)
class TrashEntry:
    """A file (or empty directory) in the trash: where it was and where it is now."""

    path: str  # its original absolute HDFS path
    location: str  # its path in the trash
    checkpoint: str  # "Current", or the checkpoint (yyMMddHHmmss) it was rolled into
    type: str  # "file" | "directory"
    size: int


class Trash:
    """The trash of `user` (default: the client's HDFS user) on the client's cluster."""

    def __init__(self, client: Client, user: str | None = None) -> None:
        self.client = client
        self.user = user or client.config.user or getpass.getuser()
        self.home = f"/user/{self.user}"
        self.root = f"{self.home}/.Trash"
        # A project user without a home (and no right to make one) keeps its trash in the
        # project, as Hadoop keeps encryption zones' trash in the zone: <root>/.Trash/<user>.
        project = self.user.split("__")[0] if "__" in self.user else None
        self.project_dir = f"{PROJECTS_ROOT}/{project}" if project else None
        self.project_root = f"{self.project_dir}/.Trash/{self.user}" if project else None
        self.roots = [self.root] + ([self.project_root] if self.project_root else [])
        self._interval: float | None = None

    @property
    def interval(self) -> float:
        """Minutes a deleted path stays (0: no trash): the NameNode's, else core-site's."""
        if self._interval is None:
            try:
                minutes: Any = self.client.server_defaults()["trash_interval"]
            except NotImplementedError:  # no WebHDFS to ask the NameNode through
                minutes = 0
            if not minutes:
                minutes = self.client.config.properties.get(INTERVAL_KEY) or 0
            self._interval = float(minutes)
        return self._interval

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def holds(self, path: str) -> bool:
        """Whether `path` is in this trash (deleting it there is for good, as in Hadoop)."""
        return any(path == r or path.startswith(r + "/") for r in self.roots)

    def move(self, path: str) -> str:
        """Move `path` (absolute) to Current/<path>; its location in the trash."""
        path = norm_path(path)
        if path == "/" or self.root.startswith(path.rstrip("/") + "/"):
            raise ValueError(
                f"cannot move {path} to the trash: it contains the trash ({SKIP_HINT})"
            )
        self.client.info(path)  # FileNotFoundError naming it
        current = f"{self._make_root(path)}/{CURRENT}"
        target = current + path
        parent = self._make_parent(posixpath.dirname(target), current)
        target = posixpath.join(parent, posixpath.basename(target))
        if self.client.exists(target):
            target += str(int(time.time() * 1000))
        try:
            self.client.rename(path, target)
        except (FileNotFoundError, IsADirectoryError):
            raise
        except OSError as e:
            raise self._failed(path, e) from e
        return target

    def _make_root(self, path: str) -> str:
        """The trash root to move `path` into: the home's, creating a missing home 0700 (alone:
        /user keeps the default mode); where that is not allowed, the project's for a path in
        the user's project (its .Trash inherits the project's default ACL, the user's is 0700)."""
        if self.client.exists(self.home):
            return self.root
        try:
            self.client.call("mkdir", self.home, parents=True)
            self.client.call("set_permission", self.home, TRASH_MODE)
            return self.root
        except PermissionError as e:
            if not (self.project_root and path.startswith(f"{self.project_dir}/")):
                raise self._failed(path, e) from e
        if not self.client.exists(self.project_root):
            self.client.call("mkdir", posixpath.dirname(self.project_root), parents=True)
            self.client.call("mkdir", self.project_root, permission=TRASH_MODE)
        return self.project_root

    def _make_parent(self, parent: str, current: str) -> str:
        """Create `parent` (0700); where a file of that name is already in the trash, the
        parent path gets the time appended at that component, as Hadoop does."""
        try:
            self.client.call("mkdir", parent, parents=True, permission=TRASH_MODE)
            return parent
        except (FileExistsError, NotADirectoryError):
            clash = parent
            while not self.client.exists(clash):
                clash = posixpath.dirname(clash)
            if not clash.startswith(current + "/"):
                raise
            parent = clash + str(int(time.time() * 1000)) + parent[len(clash) :]
            return self._make_parent(parent, current)
        except PermissionError as e:
            raise self._failed(parent, e) from e

    def _failed(self, path: str, cause: OSError) -> OSError:
        """Why `path` could not go to the trash (it is kept), and what to do."""
        if isinstance(cause, PermissionError) and not self.client.exists(self.home):
            hint = (
                f"{self.user} has no home {self.home} for its trash and may not create it: ask "
                f"the HDFS superuser to create it (`hopsfs-tools project add-member` does), "
                f"{SKIP_HINT}"
            )
        else:
            hint = f"free space in {self.root} with `hopsfs-tools trash expunge`, {SKIP_HINT}"
        return type(cause)(
            cause.errno or errno.EIO,
            f"could not move {path} to the trash, it is kept ({cause.strerror or cause}): {hint}",
            path,
        )

    def checkpoints(self) -> list[str]:
        """The trash's checkpoint directories (paths), newest first in each trash root: Current,
        then by name (time)."""
        return [f"{root}/{name}" for root in self.roots for name in self._names(root)]

    def _names(self, root: str) -> list[str]:
        try:
            names = [posixpath.basename(e["name"]) for e in self.client.ls(root)]
        except FileNotFoundError:
            return []
        rolled = sorted((n for n in names if n != CURRENT), reverse=True)
        return ([CURRENT] if CURRENT in names else []) + rolled

    def entries(self, under: str = "/") -> list[TrashEntry]:
        """Every file and empty directory in the trash whose original path is `under`, or below."""
        under = norm_path(under)
        found: list[TrashEntry] = []
        for base in self.checkpoints():
            start = base + (under if under != "/" else "")
            try:
                self._walk(start, base, posixpath.basename(base), found)
            except FileNotFoundError:
                continue
        return found

    def _walk(self, path: str, base: str, checkpoint: str, found: list[TrashEntry]) -> None:
        info = self.client.info(path)
        children = self.client.ls(path) if info["type"] == "directory" else []
        if not children and path != base:
            found.append(
                TrashEntry(path[len(base) :], path, checkpoint, info["type"], info["size"])
            )
        for child in children:
            self._walk(child["name"], base, checkpoint, found)

    def find(self, path: str) -> str:
        """The trash location of the latest delete of `path`: FileNotFoundError if none."""
        path = norm_path(path)
        name = posixpath.basename(path)
        for base in self.checkpoints():
            parent = posixpath.dirname(base + path)
            try:
                siblings = [posixpath.basename(e["name"]) for e in self.client.ls(parent)]
            except (FileNotFoundError, NotADirectoryError):
                continue
            suffixes = [s[len(name) :] for s in siblings if s.startswith(name)]
            stamps = [int(s or 0) for s in suffixes if not s or (s.isdigit() and len(s) >= 13)]
            if stamps:  # a later delete of the same name got the larger time suffix
                latest = max(stamps)
                return posixpath.join(parent, name + (str(latest) if latest else ""))
        hint = f"not in the trash of {self.user}: see what is there with `hopsfs-tools trash ls`"
        exc = errors.make(FileNotFoundError, path, f"{path} is not in the trash", hint=hint)
        exc.hint = hint  # type: ignore[attr-defined]  # what the CLI's one line shows
        raise exc

    def restore(self, path: str, to: str | None = None) -> str:
        """Move the latest deleted `path` back (or to `to`), making missing parents; where."""
        path = norm_path(path)
        location = self.find(path)
        target = norm_path(to) if to else path
        if self.client.exists(target):
            raise errors.make(
                FileExistsError,
                target,
                f"cannot restore {path}: {target} exists",
                hint="move it away first, or restore to another path with --to / to=",
            )
        self.client.call("mkdir", posixpath.dirname(target), parents=True)
        self.client.rename(location, target)
        return target

    def expunge(self, immediate: bool = False) -> list[str]:
        """As `hdfs dfs -expunge`: delete checkpoints older than the interval, then roll Current
        into a new checkpoint; `immediate` deletes everything in the trash. The paths deleted."""
        now = time.time()
        deleted = []
        for path in self.checkpoints():
            checkpoint = posixpath.basename(path)
            if checkpoint == CURRENT:
                if immediate:
                    self.client.rm(path, recursive=True)
                    deleted.append(path)
                else:
                    self._roll(path, now)
                continue
            try:
                made = time.mktime(time.strptime(checkpoint[:12], CHECKPOINT_FORMAT))
            except ValueError:
                continue  # not a checkpoint (Hadoop skips such names too)
            if immediate or now - made > self.interval * 60:
                self.client.rm(path, recursive=True)
                deleted.append(path)
        return deleted

    def _roll(self, current: str, now: float) -> None:
        """Rename Current to a checkpoint named by `now` (a second one that second: -1, -2 ...)."""
        name = time.strftime(CHECKPOINT_FORMAT, time.localtime(now))
        root = posixpath.dirname(current)
        target, n = f"{root}/{name}", 0
        while self.client.exists(target):
            n += 1
            target = f"{root}/{name}-{n}"
        self.client.rename(current, target)


class TrashOps:
    """HopsFileSystem's trash methods (a mixin): the trash of the filesystem's HDFS user."""

    client: Client
    _trash: Trash | None = None

    @property
    def trash_can(self) -> Trash:
        """This filesystem's user's trash (its interval read from the NameNode on first use)."""
        if self._trash is None:
            self._trash = Trash(self.client)
        return self._trash

    def trash(self, path: str) -> str:
        """Move `path` (a file or a whole tree) to the trash, as `hdfs dfs -rm` does; its new
        location. ValueError when the cluster's trash is off or `path` is in the trash already."""
        target = self.resolve(path)
        can = self.trash_can
        if not can.enabled:
            raise ValueError(
                f"cannot move {target} to the trash: the cluster's trash is off "
                f"({INTERVAL_KEY}=0); delete it for good with rm()"
            )
        if can.holds(target):
            raise ValueError(f"{target} is in the trash already: delete it for good with rm()")
        self.invalidate_cache(target)
        return can.move(target)

    def trash_list(self, path: str = "/") -> list[TrashEntry]:
        """The files (and empty directories) in the trash deleted from `path` or below it."""
        return self.trash_can.entries(self.resolve(path))

    def trash_restore(self, path: str, to: str | None = None) -> str:
        """Put the latest deleted `path` back (or at `to`); where it is now. FileNotFoundError
        when it is not in the trash, FileExistsError when the target exists (nothing moves)."""
        target = self.trash_can.restore(self.resolve(path), self.resolve(to) if to else None)
        self.invalidate_cache(target)
        return target

    def trash_expunge(self, immediate: bool = False) -> list[str]:
        """Delete trash checkpoints older than the interval and checkpoint the current trash
        (`immediate`: empty the trash); the trash directories deleted."""
        return self.trash_can.expunge(immediate)


__all__ = ["Trash", "TrashEntry", "TrashOps"]
