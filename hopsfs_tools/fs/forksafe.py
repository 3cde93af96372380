"""Filesystems that keep working in a forked child (os.fork, multiprocessing "fork" workers).

A child has the parent's memory but none of its threads, so a client library's runtime
(hdfs-native's tokio threads, its pooled DataNode connections) is unusable there, and freeing it
blocks forever (its runtime waits for threads that were not forked). So, at fork:

- in the child, every live HopsFileSystem drops its backend without freeing it (kept in
  `_ORPHANS` for the life of the child) and connects anew on its next call;
- fsspec's own after-fork hook clears every fsspec class's instance cache in the child; a
  filesystem held only by such a cache would then be freed there, which also blocks for an
  hdfs-native client (e.g. hdfs-native's own fsspec class, made by pandas for an hdfs:// URL),
  so all cached instances are held across the fork: alive (unused) in the child, released in
  the parent.

The native backend adds its own rule for hdfs-native's process-wide DataNode connection pool
(see `backends.native`).
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Protocol

from fsspec import spec as fsspec_spec


class _Forgetful(Protocol):
    def forget_backend(self) -> Any: ...


# filesystems whose backend a child must drop, by id (a filesystem hashes by its cache token,
# which it gets only after construction)
_LIVE: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_ORPHANS: list[Any] = []  # in a child: the parent's backends and fsspec instances, never freed


def register(filesystem: _Forgetful) -> None:
    """Have `filesystem` drop (not free) its backend in a forked child."""
    _LIVE[id(filesystem)] = filesystem


def _before_fork() -> None:
    for cls in list(getattr(fsspec_spec, "_registered_classes", ()) or ()):
        _ORPHANS.extend(getattr(cls, "_cache", {}).values())
    _ORPHANS.extend(_LIVE.values())  # alive across the fork in the child


def _after_fork_in_child() -> None:
    for filesystem in list(_LIVE.values()):
        backend = filesystem.forget_backend()
        if backend is not None:
            _ORPHANS.append(backend)


os.register_at_fork(
    before=_before_fork, after_in_parent=_ORPHANS.clear, after_in_child=_after_fork_in_child
)

__all__ = ["register"]
