"""Parallel directory walks: fsspec's `walk` (and so `find`, `glob`, `du`, `expand_path`, which
fsspec builds on it) with up to `concurrency` listings in flight.

Each listing, once done, queues the listings of its subdirectories at once, so the whole tree is
listed `concurrency` directories at a time while the caller still gets fsspec's order: top-down
(or bottom-up) depth first, in listing order. Stopping the iteration (or an error) cancels what
is queued. A glob lists only the directories its pattern can match below (`glob_descend`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from glob import has_magic
from typing import Any

from fsspec.utils import glob_translate

DEFAULT_CONCURRENCY = 16  # directory listings in flight during one walk
THREAD_PREFIX = "hopsfs-walk"

Listing = list[dict[str, Any]]


def parallel_walk(
    ls: Callable[[str], Listing],
    path: str,
    *,
    maxdepth: int | None = None,
    topdown: bool = True,
    on_error: Any = "omit",
    detail: bool = False,
    descend: Callable[[str], bool] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Iterator[tuple[str, Any, Any]]:
    """fsspec's `walk` of `path` (scheme stripped) over `ls(dir) -> [info]`, `concurrency`
    listings at a time; `descend(dir)` False skips listing below `dir`.

    `on_error` applies to every directory (fsspec's applies to the top only): "omit" skips a
    directory that cannot be listed, "raise" raises its error (which names it), a callable gets
    it."""
    if maxdepth is not None and maxdepth < 1:
        raise ValueError("maxdepth must be at least 1")
    tree = _Tree(ls, maxdepth, descend, concurrency)
    try:
        tree.schedule(path, 1)
        yield from tree.visit(path, 1, topdown, on_error, detail)
    finally:
        tree.stop()


class _Tree:
    """The listings of one walk: queued as soon as their parent is listed, run in a pool."""

    def __init__(
        self,
        ls: Callable[[str], Listing],
        maxdepth: int | None,
        descend: Callable[[str], bool] | None,
        concurrency: int,
    ) -> None:
        self.ls, self.maxdepth, self.descend = ls, maxdepth, descend
        self._pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix=THREAD_PREFIX)
        self._futures: dict[str, Future[Listing]] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def schedule(self, path: str, depth: int) -> None:
        """Queue the listing of `path` (at `depth`, the top being 1) unless stopped."""
        with self._lock:
            if not self._stopped and path not in self._futures:
                self._futures[path] = self._pool.submit(self._list, path, depth)

    def stop(self) -> None:
        """Cancel every queued listing (running ones finish; their results are dropped)."""
        with self._lock:
            self._stopped = True
            futures, self._futures = list(self._futures.values()), {}
        for future in futures:
            future.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _list(self, path: str, depth: int) -> Listing:
        if self._stopped:
            raise CancelledError(path)
        listing = self.ls(path)
        if self.maxdepth is None or depth < self.maxdepth:
            for info in listing:
                name = info["name"].rstrip("/")
                if info["type"] == "directory" and name != path and self._wanted(name):
                    self.schedule(name, depth + 1)
        return listing

    def _wanted(self, path: str) -> bool:
        return self.descend is None or self.descend(path)

    def _take(self, path: str) -> Future[Listing] | None:
        with self._lock:
            return self._futures.pop(path, None)

    def visit(
        self, path: str, depth: int, topdown: bool, on_error: Any, detail: bool
    ) -> Iterator[tuple[str, Any, Any]]:
        """fsspec's walk of `path` from the queued listings (the same classification)."""
        future = self._take(path)
        if future is None:
            return
        try:
            listing = future.result()
        except OSError as e:  # FileNotFoundError, PermissionError, ... naming the directory
            if on_error == "raise":
                raise
            if callable(on_error):
                on_error(e)
            return
        full_dirs, dirs, files = {}, {}, {}
        for info in listing:
            pathname = info["name"].rstrip("/")
            name = pathname.rsplit("/", 1)[-1]
            if info["type"] == "directory" and pathname != path:
                full_dirs[name] = pathname
                dirs[name] = info
            elif pathname == path:
                files[""] = info  # file-like with the same name as the path given
            else:
                files[name] = info
        out_dirs: Any = dirs if detail else list(dirs)
        out_files: Any = files if detail else list(files)
        if topdown:
            yield path, out_dirs, out_files
        if self.maxdepth is None or depth < self.maxdepth:
            kept = set(out_dirs)
            for name in set(full_dirs) - kept:  # pruned by the caller: drop its listing
                dropped = self._take(full_dirs[name])
                if dropped is not None:
                    dropped.cancel()
            for name in out_dirs:
                child = full_dirs.get(name) or f"{path.rstrip('/')}/{name}"
                if name not in full_dirs and self._wanted(child):  # added by the caller
                    self.schedule(child, depth + 1)
                yield from self.visit(child, depth + 1, topdown, on_error, detail)
        if not topdown:
            yield path, out_dirs, out_files


def glob_descend(pattern: str) -> Callable[[str], bool] | None:
    """For a glob `pattern` (scheme stripped, as fsspec's `glob` sees it): a test of whether
    anything below a directory can match, so a walk lists only those; None when no
    directory can be skipped."""
    if not has_magic(pattern):
        return None
    first = min(i for i in (pattern.find(c) for c in "*?[") if i >= 0)
    root = pattern[: pattern.rindex("/", 0, first) + 1] if "/" in pattern[:first] else ""
    parts = pattern[len(root) :].split("/")
    matchers: list[re.Pattern[str] | None] = []  # None from the first "**" on: anything goes
    for part in parts:
        if "**" in part:
            matchers.append(None)
            return lambda path: _below(path, root, matchers, None)
        matchers.append(re.compile(glob_translate(part)))
    # no "**": nothing deeper than the pattern's last part can match
    return lambda path: _below(path, root, matchers, len(parts) - 1)


def _below(
    path: str, root: str, matchers: list[re.Pattern[str] | None], deepest: int | None
) -> bool:
    if not path.startswith(root):
        return True
    rel = path[len(root) :].split("/")
    if deepest is not None and len(rel) > deepest:
        return False
    for part, matcher in zip(rel, matchers, strict=False):
        if matcher is None:
            return True
        if not matcher.match(part):
            return False
    return True


__all__ = ["DEFAULT_CONCURRENCY", "glob_descend", "parallel_walk"]
