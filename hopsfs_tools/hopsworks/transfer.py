"""The one copy planner (local <-> cluster, cluster -> cluster) of the CLI and the hops facade.

A plan says, before anything is written, what copying sources to a target writes and refuses
what it must not overwrite. Two rule sets exist:
- per file (`hdfs dfs -put/-get/-cp`, the CLI): existing directories merge, an existing file is
  an error unless `overwrite` (then that file is replaced);
- whole (`whole=True`, hops-util-py / pydoop): the top target is one unit; if it exists it is an
  error unless `overwrite`, and then it is replaced as a whole (`Plan.replace`).
"""

from __future__ import annotations

import errno
import os
import posixpath
from dataclasses import dataclass, field
from typing import Protocol

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import hints


class Side(Protocol):
    """One end of a copy: the local disk or the cluster."""

    def kind(self, path: str) -> str | None:
        """ "file", "directory" or None when missing."""

    def tree(self, path: str) -> dict[str, tuple[bool, int]]:
        """{relative path ("" = path itself): (is_dir, size)} of path and everything below."""

    def join(self, base: str, rel: str) -> str:
        """`base` (resolved) with `rel` appended."""

    def basename(self, path: str) -> str: ...

    def parent(self, path: str) -> str: ...

    def makedirs(self, path: str) -> None: ...


class Local:
    """The local disk."""

    def kind(self, path: str) -> str | None:
        return "directory" if os.path.isdir(path) else "file" if os.path.exists(path) else None

    def tree(self, path: str) -> dict[str, tuple[bool, int]]:
        if not os.path.isdir(path):
            return {"": (False, os.path.getsize(path))}
        out = {"": (True, 0)}
        for top, dirs, files in os.walk(path):
            rel = os.path.relpath(top, path)
            for d in dirs:
                out[os.path.normpath(os.path.join(rel, d))] = (True, 0)
            for f in files:
                out[os.path.normpath(os.path.join(rel, f))] = (
                    False,
                    os.path.getsize(os.path.join(top, f)),
                )
        return out

    def join(self, base: str, rel: str) -> str:
        return os.path.join(base, rel) if rel else base

    def basename(self, path: str) -> str:
        return os.path.basename(os.path.normpath(path))

    def parent(self, path: str) -> str:
        return os.path.dirname(os.path.abspath(path))

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)


@dataclass
class Remote:
    """The cluster, through a HopsFileSystem (paths resolve by its rules)."""

    fs: HopsFileSystem

    def kind(self, path: str) -> str | None:
        try:
            return self.fs.info(path)["type"]
        except FileNotFoundError:
            return None

    def tree(self, path: str) -> dict[str, tuple[bool, int]]:
        info = self.fs.info(path)  # FileNotFoundError when missing (find() would say nothing)
        root = info["name"]
        if info["type"] != "directory":
            return {"": (False, info["size"])}
        found = self.fs.find(root, withdirs=True, detail=True)
        return {
            name[len(root) :].lstrip("/"): (i["type"] == "directory", i["size"])
            for name, i in found.items()
        }

    def join(self, base: str, rel: str) -> str:
        base = self.fs.resolve(base)
        return posixpath.join(base, rel) if rel else base

    def basename(self, path: str) -> str:
        return posixpath.basename(self.fs.resolve(path)) or "/"

    def parent(self, path: str) -> str:
        return posixpath.dirname(self.fs.resolve(path))

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)


@dataclass
class Plan:
    """What a copy writes: directories to create, files (source -> target) and their bytes; the
    top target of each source, and (whole rules) existing tops to replace."""

    dirs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    size: int = 0
    tops: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)


def plan(
    sources: list[str],
    target: str,
    src: Side,
    dst: Side,
    *,
    overwrite: bool,
    whole: bool = False,
    into: bool = False,
    parents: bool = False,
) -> Plan:
    """Plan copying `sources` to `target`: into `target` when it is a directory (or always, with
    `into`), else to `target` itself (one source only).

    A missing parent of the top target is an error unless `parents` (then it is created). See the
    module docstring for the per-file and `whole` overwrite rules.
    """
    target_kind = dst.kind(target)
    if len(sources) > 1 and target_kind != "directory":
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"{target}: copying several sources needs an existing target directory",
            target,
        )
    out = Plan()
    for source in sources:
        tree = src.tree(source)  # FileNotFoundError when missing
        inside = into or target_kind == "directory"
        top = dst.join(target, src.basename(source) if inside else "")
        if src is dst:  # a copy on the cluster
            origin = src.join(source, "")
            if dst.join(top, "").startswith(origin.rstrip("/") + "/") or top == origin:
                raise ValueError(f"cannot copy {origin} into itself ({top})")
        top_kind = dst.kind(top)
        if top_kind is None and not parents:
            parent = dst.parent(top)
            if dst.kind(parent) != "directory":
                raise hints.missing(parent, "create the directory first, e.g. with mkdir -p")
        out.tops.append(top)
        if whole and top_kind is not None:
            if not overwrite:
                raise FileExistsError(
                    errno.EEXIST, f"{top} exists (pass overwrite=True to replace it)", top
                )
            out.replace.append(top)
        existing = dst.tree(top) if top_kind and not whole else {}
        for rel, (is_dir, size) in sorted(tree.items()):
            there = existing.get(rel)
            path = dst.join(top, rel)
            if there is not None and not (is_dir and there[0]):
                if not overwrite:
                    raise FileExistsError(
                        errno.EEXIST, f"{path} exists (use -f to overwrite)", path
                    )
                if is_dir != there[0]:
                    kind = "a directory" if there[0] else "a file"
                    raise FileExistsError(errno.EEXIST, f"{path} exists and is {kind}", path)
            if is_dir:
                out.dirs.append(path)
            else:
                out.sources.append(src.join(source, rel))
                out.targets.append(path)
                out.size += size
    return out
