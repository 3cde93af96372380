"""AsyncHopsFileSystem on the cluster: fsspec's async interface on every backend (hdfs-native's
asyncio client for native, the sync filesystem in threads for arrow/webhdfs), bounded requests
in flight, cancellation, pickling and fork."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import subprocess
import sys

import fsspec
import pytest

from hopsfs_tools.config import BACKENDS
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.asyncfs import AsyncHopsFileSystem


def options(cluster, backend: str = "native") -> dict[str, str]:
    return {
        "backend": backend,
        "namenode": cluster.namenode_uri,
        "webhdfs_url": cluster.webhdfs_url,
    }


def test_asynchronous_true_gives_the_async_filesystem(cluster):
    afs = fsspec.filesystem("hopsfs", asynchronous=True, **options(cluster))
    assert isinstance(afs, AsyncHopsFileSystem) and afs.async_impl and afs.asynchronous
    assert isinstance(HopsFileSystem(asynchronous=True, **options(cluster)), AsyncHopsFileSystem)
    assert type(HopsFileSystem(**options(cluster))) is HopsFileSystem
    assert afs.sync.config.namenode_uri == cluster.namenode_uri


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_calls_on_one_loop(cluster, hdfs_dir, tmp_path, backend):
    sync = HopsFileSystem(**options(cluster, backend))
    files = {f"{hdfs_dir}/d{i % 3}/f{i}.csv": f"{i},x\n".encode() * 100 for i in range(30)}
    local = tmp_path / "local.bin"
    local.write_bytes(os.urandom(3 * 2**20 + 5))

    async def main() -> None:
        fs = HopsFileSystem(asynchronous=True, **options(cluster, backend))
        await fs._pipe(files)
        assert await fs._cat(sorted(files)) == files
        name = f"{hdfs_dir}/d1/f1.csv"
        assert await fs._cat_file(name, start=2, end=9) == files[name][2:9]
        assert await fs._cat_file(name, start=-4) == files[name][-4:]
        info = await fs._info(name)
        assert info["name"] == name and info["size"] == len(files[name])
        assert info["type"] == "file" and "mtime" in info
        assert await fs._ls(f"{hdfs_dir}/d1", detail=False) == sorted(
            p for p in files if "/d1/" in p
        )
        found = await fs._find(hdfs_dir)
        assert found == sync.find(hdfs_dir) == sorted(files)
        assert await fs._glob(f"{hdfs_dir}/*/f1?.csv") == sync.glob(f"{hdfs_dir}/*/f1?.csv")
        assert await fs._du(hdfs_dir) == sum(len(v) for v in files.values())
        ranges = await fs._cat_ranges(
            [name, name, f"{hdfs_dir}/missing.csv"], [0, 5, 0], [5, 10, 3]
        )
        assert ranges[:2] == [files[name][0:5], files[name][5:10]]
        assert isinstance(ranges[2], FileNotFoundError) and "missing.csv" in str(ranges[2])
        with pytest.raises(FileNotFoundError, match="missing.csv"):
            await fs._cat_ranges([f"{hdfs_dir}/missing.csv"], [0], [1], on_error="raise")
        await fs._put_file(str(local), f"{hdfs_dir}/up/local.bin")
        await fs._get_file(f"{hdfs_dir}/up/local.bin", str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()
        await fs._rm_file(name)
        assert not await fs._exists(name)
        with pytest.raises(IsADirectoryError, match="d1"):
            await fs._rm_file(f"{hdfs_dir}/d1")
        with pytest.raises(FileExistsError, match="f2.csv"):
            await fs._pipe_file(f"{hdfs_dir}/d2/f2.csv", b"new", mode="create")
        with pytest.raises(IsADirectoryError, match="d2"):
            await fs._pipe_file(f"{hdfs_dir}/d2", b"new")
        await fs._makedirs(f"{hdfs_dir}/made/deep", exist_ok=True)
        assert await fs._isdir(f"{hdfs_dir}/made/deep")

    asyncio.run(main())
    assert sync.cat(f"{hdfs_dir}/d2/f2.csv") == files[f"{hdfs_dir}/d2/f2.csv"]  # not replaced
    assert not [n for n in sync.client.ls(f"{hdfs_dir}/d2") if "hopsfs-tmp" in n["name"]]


def test_the_sync_face_of_the_async_filesystem(cluster, hdfs_dir):
    fs = AsyncHopsFileSystem(**options(cluster))
    files = {f"{hdfs_dir}/f{i}": bytes([i]) * 4096 for i in range(12)}
    fs.pipe(files)
    assert fs.cat(sorted(files)) == files
    firsts = [f"{hdfs_dir}/f{i}" for i in range(3)]
    assert fs.cat_ranges(firsts, 0, 2) == [bytes([i]) * 2 for i in range(3)]
    assert fs.ls(hdfs_dir, detail=False) == sorted(files)
    assert fs.du(hdfs_dir) == 12 * 4096
    with fs.open(f"{hdfs_dir}/f1", "rb") as f:
        assert f.read(3) == b"\x01" * 3
    fs.rm(hdfs_dir, recursive=True)
    assert not fs.exists(hdfs_dir)


def test_requests_overlap_and_stay_within_batch_size(cluster, hdfs_dir, monkeypatch):
    HopsFileSystem(**options(cluster)).pipe({f"{hdfs_dir}/f{i}": b"x" * 512 for i in range(60)})

    async def main(batch_size: int) -> int:
        fs = AsyncHopsFileSystem(
            asynchronous=True, batch_size=batch_size, skip_instance_cache=True, **options(cluster)
        )
        real, now, peak = fs.client.aopen_reader, 0, 0

        async def counting(target):
            nonlocal now, peak
            now += 1
            peak = max(peak, now)
            try:
                await asyncio.sleep(0.005)
                return await real(target)
            finally:
                now -= 1

        monkeypatch.setattr(fs.client, "aopen_reader", counting)
        out = await fs._cat([f"{hdfs_dir}/f{i}" for i in range(60)])
        assert len(out) == 60 and all(v == b"x" * 512 for v in out.values())
        return peak

    assert asyncio.run(main(1)) == 1
    assert asyncio.run(main(8)) == 8  # many requests in flight on one loop, never more


def test_cancelling_async_writes_leaves_no_partial_files(cluster, hdfs_dir):
    sync = HopsFileSystem(**options(cluster))
    big = os.urandom(8 * 2**20)

    async def main() -> None:
        fs = AsyncHopsFileSystem(asynchronous=True, batch_size=4, **options(cluster))
        task = asyncio.ensure_future(fs._pipe({f"{hdfs_dir}/f{i}": big for i in range(16)}))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert isinstance(await fs._ls(hdfs_dir), list)  # the loop and client still work

    sync.makedirs(hdfs_dir, exist_ok=True)
    asyncio.run(main())
    for entry in sync.client.ls(hdfs_dir):  # whole files or nothing; no temporary files left
        assert "hopsfs-tmp" not in entry["name"]
        assert sync.cat_file(entry["name"]) == big


def _child_cat(fs, path, queue):
    queue.put(fs.cat_file(path))


def test_pickling_and_fork(cluster, hdfs_dir):
    fs = AsyncHopsFileSystem(**options(cluster))
    fs.pipe_file(f"{hdfs_dir}/p", b"pickled")
    again = pickle.loads(pickle.dumps(fs))
    assert isinstance(again, AsyncHopsFileSystem) and again.cat_file(f"{hdfs_dir}/p") == b"pickled"
    for method in ("fork", "spawn"):  # a forked child keeps using the parent's instance
        context = multiprocessing.get_context(method)
        queue = context.Queue()
        child = context.Process(target=_child_cat, args=(fs, f"{hdfs_dir}/p", queue))
        child.start()
        assert queue.get(timeout=120) == b"pickled"
        child.join(60)
        assert child.exitcode == 0
    assert fs.cat_file(f"{hdfs_dir}/p") == b"pickled"  # and the parent's still works


def test_async_write_errors_name_the_target(cluster, hdfs_dir):
    """A refused async write names the file asked for, as a sync one does, not the hidden
    temporary file it writes first (as user=mallory, in its own process: one user per process)."""
    sync = HopsFileSystem(**options(cluster))
    sync.mkdir(f"{hdfs_dir}/private")
    sync.chmod(f"{hdfs_dir}/private", 0o755)  # others may look, not write
    code = (
        "import asyncio, sys\n"
        "from hopsfs_tools.fs import HopsFileSystem\n"
        "async def main():\n"
        "    fs = HopsFileSystem(asynchronous=True, backend='native', user='mallory',\n"
        "                        namenode=sys.argv[1])\n"
        "    try:\n"
        "        await fs._pipe_file(sys.argv[2] + '/private/x', b'x')\n"
        "    except PermissionError as e:\n"
        "        print(type(e).__name__, e.filename, e.strerror)\n"
        "asyncio.run(main())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HADOOP_USER_NAME"}
    out = subprocess.run(
        [sys.executable, "-c", code, cluster.namenode_uri, hdfs_dir],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    assert out.startswith(f"PermissionError {hdfs_dir}/private/x Permission denied: user=mallory")
    assert ".hopsfs-" not in out, out
