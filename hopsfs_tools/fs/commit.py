"""Commit by temp + rename: the hidden names writers use, tree replacement, crash leftovers.

A writer of `dir/name` writes `dir/.name.hopsfs-tmp-<32 hex>` and renames it over `dir/name`
once complete; an existing tree being replaced is first moved aside to
`dir/.name.hopsfs-replaced-<32 hex>`. A writer killed mid-write (SIGKILL, OOM, lost node)
therefore leaves only a hidden name behind, never a partial target; `clean_tmp` deletes such
leftovers once they are old enough to belong to no live writer.

HDFS keeps a file's mtime at its creation time until the file is closed (it does not move while
a writer appends), so HopsFile moves its temporary file's mtime forward as it uploads (every
minute at most): the age of a leftover is how long ago its writer last sent data.
"""

from __future__ import annotations

import errno
import logging
import posixpath
import re
import time
import uuid
from typing import Protocol

from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import FileInfo


class Namespace(Protocol):
    """The namespace calls commit needs (a `fs.client.Client`, or a backend)."""

    def info(self, path: str) -> FileInfo: ...

    def ls(self, path: str) -> list[FileInfo]: ...

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None: ...

    def rm(self, path: str, *, recursive: bool = False) -> None: ...


log = logging.getLogger(__name__)

TEMP_MARKER = ".hopsfs-tmp-"
REPLACED_MARKER = ".hopsfs-replaced-"
DEFAULT_OLDER_THAN = 3600.0  # seconds: clean_tmp's default age threshold
REPLACE_ATTEMPTS = 20  # rename-over-existing attempts while concurrent writers race for a path
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.hopsfs-(?P<kind>tmp|replaced)-[0-9a-f]{32}$")


def temp_path(target: str) -> str:
    """A fresh hidden temporary path next to `target`, to be renamed over it when complete."""
    parent, name = posixpath.split(target)
    return posixpath.join(parent, f".{name}{TEMP_MARKER}{uuid.uuid4().hex}")


def replaced_path(target: str) -> str:
    """A fresh hidden path next to `target` to move its previous version aside to."""
    parent, name = posixpath.split(target)
    return posixpath.join(parent, f".{name}{REPLACED_MARKER}{uuid.uuid4().hex}")


def is_leftover(path: str) -> bool:
    """True for a temporary or moved-aside name made by `temp_path` / `replaced_path`."""
    return _LEFTOVER.match(posixpath.basename(path)) is not None


def replace_tree(backend: Namespace, staging: str, target: str) -> None:
    """Rename the complete tree `staging` to `target`, replacing whatever `target` is.

    HDFS cannot rename over a non-empty directory, so an existing target is moved aside first
    (moved back if the second rename fails) and deleted after. Readers see the old tree or the
    new one; a crash between the two renames leaves the old one under its hidden aside name,
    which `clean_tmp` keeps while the target is missing.
    """
    try:
        backend.rename(staging, target, overwrite=False)
        return
    except FileExistsError:
        pass
    aside = replaced_path(target)
    backend.rename(target, aside)
    try:
        backend.rename(staging, target)
    except BaseException:
        backend.rename(aside, target)
        raise
    backend.rm(aside, recursive=True)


def replace(namespace: Namespace, src: str, dst: str) -> None:
    """Rename `src` over an existing `dst` for a client that cannot (`Backend.renames_over`):
    the old `dst` is moved aside first, moved back if the rename fails, deleted after.
    Concurrent replacers: the last one wins, nothing is left aside."""
    if src == dst:
        namespace.info(src)  # FileNotFoundError for a missing source
        return
    for _ in range(REPLACE_ATTEMPTS):
        try:
            current = namespace.info(dst)
        except FileNotFoundError:
            current = None
        if current and current["type"] == "directory" and namespace.ls(dst):
            raise errors.make(
                OSError,
                dst,
                f"cannot rename {src} onto non-empty directory {dst}",
                code=errno.ENOTEMPTY,
            )
        aside = replaced_path(dst)
        if current is not None:
            try:
                namespace.rename(dst, aside)
            except OSError:
                continue  # dst changed under us (HDFS just says `false`): look again
        try:
            namespace.rename(src, dst)
        except OSError as e:
            _put_back(namespace, aside, dst, current is not None)
            if not isinstance(e, FileExistsError) and e.errno != errno.EIO:
                raise  # a real error (permission, ...), not a concurrent replacer taking dst
            namespace.info(src)  # FileNotFoundError if the source vanished
        except BaseException:
            _put_back(namespace, aside, dst, current is not None)
            raise
        else:
            if current is not None:
                namespace.rm(aside, recursive=True)
            return
    raise errors.make(OSError, dst, f"gave up renaming {src} over {dst}: it keeps changing")


def _put_back(namespace: Namespace, aside: str, dst: str, moved: bool) -> None:
    """Move the previous `dst` back from `aside`; if dst was taken meanwhile, theirs stays."""
    if not moved:
        return
    try:
        namespace.rename(aside, dst)
    except OSError:  # HDFS just says `false` when dst was taken meanwhile
        namespace.rm(aside, recursive=True)


def clean_tmp(
    backend: Namespace,
    path: str,
    *,
    older_than: float = DEFAULT_OLDER_THAN,
    recursive: bool = False,
    dry_run: bool = False,
) -> list[str]:
    """Delete the leftovers of interrupted writers in directory `path` (and below it with
    `recursive`) last modified more than `older_than` seconds ago; the paths deleted (with
    `dry_run`: that would be deleted), sorted.

    Only names made by `temp_path` / `replaced_path` are touched. A moved-aside previous version
    whose target is missing (a replacement interrupted between its two renames) is the only copy
    of that data: it is kept, and logged with how to restore it.
    """
    if not older_than >= 0:
        raise ValueError(f"older_than must be a non-negative number of seconds, not {older_than!r}")
    if backend.info(path)["type"] != "directory":
        raise errors.make(
            NotADirectoryError, path, f"clean_tmp: {path} is a file: give the directory holding it"
        )
    cutoff = time.time() - older_than
    found: list[str] = []
    pending = [path]
    while pending:
        entries = backend.ls(pending.pop())
        names = {posixpath.basename(e["name"]) for e in entries}
        for entry in entries:
            match = _LEFTOVER.match(posixpath.basename(entry["name"]))
            if match is None:
                if recursive and entry["type"] == "directory":
                    pending.append(entry["name"])
            elif entry.get("mtime", 0.0) > cutoff:
                continue
            elif match["kind"] == "replaced" and match["name"] not in names:
                target = posixpath.join(posixpath.dirname(entry["name"]), match["name"])
                log.warning(
                    "kept %s: the previous version of the missing %s (rename it back to "
                    "restore it)",
                    entry["name"],
                    target,
                )
            elif dry_run or _remove(backend, entry["name"]):
                found.append(entry["name"])
    return sorted(found)


def _remove(backend: Namespace, path: str) -> bool:
    """Delete a leftover; False if it vanished meanwhile (its writer cleaned up or committed)."""
    try:
        backend.rm(path, recursive=True)
    except FileNotFoundError:
        return False
    log.info("deleted leftover %s", path)
    return True


__all__ = [
    "DEFAULT_OLDER_THAN",
    "REPLACED_MARKER",
    "TEMP_MARKER",
    "clean_tmp",
    "is_leftover",
    "replace",
    "replace_tree",
    "replaced_path",
    "temp_path",
]
