"""One process of the load test (tests/faults/test_load.py): write, read back and verify files.

A separate module so `spawn`ed processes import only this, not the test module.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

MiB = 1 << 20


def random_size(rng: random.Random, largest: int) -> int:
    """A size from 0 bytes to `largest`, spread evenly over orders of magnitude."""
    if rng.random() < 0.05:
        return 0
    return min(largest, int(2 ** rng.uniform(0, largest.bit_length())))


def run(
    worker: int, directory: str, backend: str, seconds: float, cluster_env: dict[str, str]
) -> dict[str, Any]:
    """Write distinct files of random sizes for `seconds`; read each back whole and in random
    ranges (also earlier ones), and compare sha256. Returns counts and the errors seen."""
    import os

    os.environ.update(cluster_env)
    from hopsfs_tools.fs import HopsFileSystem

    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    rng = random.Random(worker)
    written: dict[str, bytes] = {}  # path -> sha256 of its content
    sizes: dict[str, int] = {}
    stats = {
        "worker": worker,
        "backend": backend,
        "files": 0,
        "bytes_written": 0,
        "bytes_verified": 0,
        "reads": 0,
        "errors": [],
    }
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path = f"{directory}/w{worker}-{stats['files']}.bin"
        data = rng.randbytes(random_size(rng, 4 * MiB))
        try:
            if rng.random() < 0.5:
                fs.pipe_file(path, data)
            else:  # streamed in random pieces
                with fs.open(path, "wb") as f:
                    view = memoryview(data)
                    while view:
                        n = rng.randint(1, 2 * MiB)
                        f.write(view[:n])
                        view = view[n:]
            stats["files"] += 1
            stats["bytes_written"] += len(data)
            written[path] = hashlib.sha256(data).digest()
            sizes[path] = len(data)
            back = fs.cat_file(path)
            if hashlib.sha256(back).digest() != written[path]:
                stats["errors"].append(f"{path}: content differs after write ({len(back)} bytes)")
            start = rng.randint(0, len(data))
            end = rng.randint(start, len(data))
            if fs.cat_file(path, start, end) != data[start:end]:
                stats["errors"].append(f"{path}: range [{start}, {end}) differs")
            stats["bytes_verified"] += len(back) + end - start
            stats["reads"] += 2
            earlier = rng.choice(list(written))  # an earlier file again, through a seekable file
            with fs.open(earlier, "rb", block_size=rng.choice([64 * 1024, MiB, 8 * MiB])) as f:
                whole = f.read()
            if hashlib.sha256(whole).digest() != written[earlier] or len(whole) != sizes[earlier]:
                stats["errors"].append(f"{earlier}: content differs on re-read")
            stats["bytes_verified"] += len(whole)
            stats["reads"] += 1
        except Exception as e:  # noqa: BLE001 - reported to the test, which fails on any
            stats["errors"].append(f"{path}: {type(e).__name__}: {e}")
    fs.close()
    return stats
