"""glibc malloc settings for large reads: keep freed multi-MiB buffers for reuse.

Every HDFS read of a few MiB allocates a fresh buffer (in hdfs-native, then as Python bytes).
With glibc's defaults, reader threads' arenas hand such buffers back to the kernel as soon as
they are freed, so the next read page-faults all of its memory in again: on the benchmark
machine that was a third of the CPU an HDFS read cost (benchmarks/bench_malloc.py). Raising
the mmap and trim thresholds to a few tens of MiB keeps the memory for the next buffer.

Applied once per process when a HopsFileSystem first connects. Left alone where it cannot
apply (not glibc) or where the user chose: HOPSFS_MALLOC_TUNING=0, or any of glibc's own
MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ / MALLOC_TOP_PAD_ / GLIBC_TUNABLES set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading

from hopsfs_tools.config import settings

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # allocations below this come from the heap (glibc's dynamic max)
TRIM_THRESHOLD = 64 * 2**20  # free memory kept at the top of a heap before returning it
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

_lock = threading.Lock()
_state: bool | None = None  # None: not decided yet; True: tuned; False: left alone


def tune_for_large_reads() -> bool:
    """Apply the thresholds above once per process (idempotent); True if they are in effect."""
    global _state
    with _lock:
        if _state is None:
            _state = _apply()
        return _state


def _apply() -> bool:
    if (settings.env("HOPSFS_MALLOC_TUNING") or "1").lower() in ("0", "false", "no", "off"):
        return False
    chosen = [name for name in USER_SETTINGS if settings.env(name) is not None]
    if "glibc.malloc." in (settings.env("GLIBC_TUNABLES") or ""):
        chosen.append("GLIBC_TUNABLES")
    if chosen:
        log.debug("malloc left as configured by %s", ", ".join(chosen))
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
    except (AttributeError, ValueError, OSError):  # not a GNU libc (macOS, Windows, musl)
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    except (OSError, AttributeError) as error:  # no libc to load, or no mallopt in it
        log.debug("malloc tuning unavailable: %s", error)
        return False


__all__ = ["tune_for_large_reads"]
