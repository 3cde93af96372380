"""Faults against the real cluster, for every backend: a DataNode killed (kill -9) in the middle
of a 256 MiB read or write (replication 3 on 3 DataNodes), and the NameNode stopped or restarted
during a session. No exception may reach the user, and every byte is checked (sha256).

DataNode kills use the shared session cluster and restart the victim afterwards (`start` waits
until the new process has registered), which is cheaper than a cluster of their own. NameNode
restarts use the 1-DataNode `fault_cluster`: they break the DataNodes' cached connections.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from hdfs_native import Client, WriteOptions

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.backends import native

MiB = 1 << 20
SIZE = 256 * MiB
CHUNK = 4 * MiB
ARM_AT = 32 * MiB  # the DataNode dies once this much has gone through: mid-transfer
BACKENDS = ("native", "arrow", "webhdfs")


def make_fs(cluster: LocalCluster, backend: str, **kw: Any) -> HopsFileSystem:
    """A fresh filesystem on `cluster` (its own connections: no instance cache)."""
    return HopsFileSystem(
        backend=backend,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        conf_dir=str(cluster.conf_dir),
        skip_instance_cache=True,
        **kw,
    )


def _peer_ports() -> set[int]:
    """Remote ports of this process's established TCP connections (from /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                    ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


class DataNodeKiller(threading.Thread):
    """Once armed, kill -9 the first DataNode this process is streaming data with.

    Native and arrow clients talk to a DataNode's transfer port; WebHDFS to its HTTP port (the
    NameNode's redirect target). Polling /proc catches even a short-lived stream.
    """

    def __init__(self, cluster: LocalCluster, backend: str, grace: float = 0.0) -> None:
        super().__init__(name="datanode-killer", daemon=True)
        self.cluster = cluster
        self.kind = "http" if backend == "webhdfs" else "xfer"
        self.grace = grace  # seconds between spotting the stream and the kill
        self.armed = threading.Event()
        self.done = threading.Event()
        self.progress = 0  # bytes moved by the test so far (set by the test)
        self.victim: str | None = None
        self.killed_at: int | None = None

    def run(self) -> None:
        self.armed.wait()
        ports = {self.cluster.state.ports[n][self.kind]: n for n in self.cluster.datanode_names}
        while not self.done.is_set():
            serving = [ports[p] for p in _peer_ports() if p in ports]
            if serving:
                time.sleep(self.grace)
                self.killed_at, self.victim = self.progress, serving[0]
                self.cluster.kill(serving[0])
                return
            time.sleep(0.002)

    def finish(self) -> None:
        """Stop looking, and bring the killed DataNode back (registered and live)."""
        self.done.set()
        self.armed.set()
        self.join(30)
        if self.victim:
            self.cluster.start(self.victim, timeout=180)


@pytest.fixture(scope="module")
def payload() -> tuple[bytes, str]:
    data = os.urandom(SIZE)
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def big_file(
    cluster: LocalCluster, superuser_client: Client, payload: tuple[bytes, str]
) -> Iterator[str]:
    """A 256 MiB file with replication 3, written once for the read tests."""
    path = f"/tests/faults-big-{os.getpid()}.bin"
    superuser_client.mkdirs("/tests", permission=0o777, create_parent=True)
    with superuser_client.create(path, WriteOptions(replication=3, overwrite=True)) as out:
        for offset in range(0, SIZE, CHUNK):
            out.write(payload[0][offset : offset + CHUNK])
    yield path
    superuser_client.delete(path)


@pytest.fixture
def killer(cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[DataNodeKiller]:
    assert cluster.status()["num_live_datanodes"] == 3
    backend = request.node.callspec.params["backend"]
    # A WebHDFS read is one short HTTP stream per 8 MiB range: kill a little after it starts,
    # so that the stream breaks midway (and is resumed from the byte it reached).
    grace = 0.01 if backend == "webhdfs" and "mid_read" in request.node.name else 0.0
    k = DataNodeKiller(cluster, backend, grace)
    k.start()
    try:
        yield k
    finally:
        k.finish()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_datanode_killed_mid_read(
    cluster: LocalCluster,
    big_file: str,
    payload: tuple[bytes, str],
    killer: DataNodeKiller,
    backend: str,
) -> None:
    fs = make_fs(cluster, backend)
    digest = hashlib.sha256()
    with fs.open(big_file, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            killer.progress += len(chunk)
            if killer.progress >= ARM_AT:
                killer.armed.set()
    assert killer.victim, "no DataNode was serving the read once armed"
    assert killer.killed_at is not None and killer.killed_at < SIZE
    assert killer.progress == SIZE
    assert digest.hexdigest() == payload[1]


def write_while_killing(
    fs: HopsFileSystem, target: str, data: bytes, killer: DataNodeKiller, **options: Any
) -> None:
    """Write `data` to `target` in CHUNKs (replication 3); the killer strikes past ARM_AT."""
    with fs.open(target, "wb", replication=3, **options) as f:
        for offset in range(0, SIZE, CHUNK):
            f.write(data[offset : offset + CHUNK])
            killer.progress = offset + CHUNK
            if killer.progress >= ARM_AT:
                killer.armed.set()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_datanode_killed_mid_write(
    cluster: LocalCluster,
    hdfs_dir: str,
    payload: tuple[bytes, str],
    killer: DataNodeKiller,
    backend: str,
) -> None:
    fs = make_fs(cluster, backend)
    data, want = payload
    target = f"{hdfs_dir}/big.bin"
    write_while_killing(fs, target, data, killer)
    assert killer.victim, "no DataNode was receiving the write once armed"
    assert killer.killed_at is not None and killer.killed_at < SIZE
    info = fs.info(target)
    assert info["size"] == SIZE
    assert info["replication"] == 3  # a restart with fewer replicas asks for 3 again
    assert hashlib.sha256(fs.cat_file(target)).hexdigest() == want
    assert fs.ls(hdfs_dir, detail=False) == [target]  # restarted uploads left no temp files


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["native", "webhdfs"])
def test_unrestartable_write_to_a_killed_datanode_keeps_the_old_target(
    cluster: LocalCluster,
    hdfs_dir: str,
    payload: tuple[bytes, str],
    killer: DataNodeKiller,
    backend: str,
) -> None:
    """`restartable=False` keeps no copy, so a DataNode killed mid-write fails the write (the
    client cannot carry it to another DataNode): the error (ConnectionError, or TimeoutError
    when hdfs-native's pipeline stalls) names the target, which keeps its old content, and no
    temporary file is left. (If the client ever rides it out, the file must then be complete.)"""
    fs = make_fs(cluster, backend)
    data, want = payload
    target = f"{hdfs_dir}/unrestartable.bin"
    fs.pipe_file(target, b"old")
    try:
        write_while_killing(fs, target, data, killer, restartable=False)
    except (ConnectionError, TimeoutError) as e:  # refused, or a pipeline that stalled
        assert target in str(e)
        assert fs.cat_file(target) == b"old"
    else:
        assert hashlib.sha256(fs.cat_file(target)).hexdigest() == want
    assert killer.victim and killer.killed_at is not None and killer.killed_at < SIZE
    assert fs.ls(hdfs_dir, detail=False) == [target]


# -- the NameNode ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["native", "webhdfs"])
def test_retries_and_backoff_are_configurable(backend: str) -> None:
    """Against a port nobody listens on: retries=0 fails at once; retries=3 with a 0.3 s
    backoff waits 0.3 + 0.6 + 1.2 s between four attempts, then raises ConnectionError."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    where = {"namenode": f"hdfs://127.0.0.1:{port}", "webhdfs_url": f"http://127.0.0.1:{port}"}
    took = {}
    for retries in (0, 3):
        fs = HopsFileSystem(
            backend=backend,
            timeout=30,
            retries=retries,
            retry_backoff=0.3,
            skip_instance_cache=True,
            **where,
        )
        start = time.monotonic()
        with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
            fs.info("/x")
        took[retries] = time.monotonic() - start
    assert took[0] < 1.5, took
    assert 2.1 <= took[3] < 2.1 + 5, took


@pytest.mark.slow
def test_namenode_down_is_a_connection_error_within_timeout(fault_cluster: LocalCluster) -> None:
    """Every backend, connected before the NameNode stops and connecting while it is down:
    a ConnectionError naming the address and what to do, within the timeout (plus slack for
    this loaded machine), never a hang and never a "not found"."""
    timeout = 4.0
    make_fs(fault_cluster, "arrow").ls("/")  # start the JVM: not part of what is timed
    used = {b: make_fs(fault_cluster, b, timeout=timeout) for b in BACKENDS}
    for fs in used.values():
        fs.pipe_file("/down.txt", b"x")

    def check(backend: str) -> list[float]:
        address = (
            fault_cluster.webhdfs_url.split("//")[1]
            if backend == "webhdfs"
            else fault_cluster.namenode_uri
        )
        fs, fresh = used[backend], make_fs(fault_cluster, backend, timeout=timeout)
        took = []
        for call in (
            lambda: fs.info("/down.txt"),
            lambda: fs.cat_file("/down.txt"),
            lambda: fs.pipe_file("/down2.txt", b"y"),
            lambda: fresh.ls("/"),
        ):
            start = time.monotonic()
            with pytest.raises(ConnectionError) as info:
                call()
            took.append(time.monotonic() - start)
            message = str(info.value)
            assert address in message, (backend, message)
            assert "namenode" in message and "check" in message, (backend, message)
        return took

    fault_cluster.stop("namenode")
    try:
        with ThreadPoolExecutor(len(BACKENDS)) as pool:
            durations = dict(zip(BACKENDS, pool.map(check, BACKENDS), strict=True))
    finally:
        fault_cluster.start("namenode", timeout=180)
    print(
        f"\nNameNode down, timeout {timeout:g}s: ConnectionError after (s) "
        + ", ".join(f"{b} {max(t):.1f}" for b, t in durations.items())
    )
    for backend, took in durations.items():
        assert max(took) < timeout + 4, (backend, took)  # 4 s of slack on this loaded machine
    for fs in used.values():
        assert fs.cat_file("/down.txt") == b"x"


@pytest.mark.slow
def test_namenode_restart_mid_session(fault_cluster: LocalCluster) -> None:
    """Calls made while the NameNode restarts succeed once it is back (bounded retries), and
    every later call works. The first call after the restart is a write: through WebHDFS it
    meets the DataNode's broken cached connection to the old NameNode (EOFException), and the
    upload restarts."""
    filesystems = {
        b: make_fs(fault_cluster, b, timeout=60, retries=10, retry_backoff=0.5) for b in BACKENDS
    }
    before = {b: os.urandom(3 * MiB + i) for i, b in enumerate(BACKENDS)}
    during = {b: os.urandom(2 * MiB + i) for i, b in enumerate(BACKENDS)}
    for backend, fs in filesystems.items():
        fs.pipe_file(f"/restart-{backend}.bin", before[backend])

    def write_then_read(backend: str) -> bytes:
        fs = filesystems[backend]
        fs.pipe_file(f"/during-{backend}.bin", during[backend])
        return fs.cat_file(f"/restart-{backend}.bin")

    fault_cluster.stop("namenode")
    with ThreadPoolExecutor(len(BACKENDS)) as pool:
        try:
            calls = {b: pool.submit(write_then_read, b) for b in BACKENDS}
            time.sleep(2)  # the calls are retrying against the stopped NameNode
            assert not any(f.done() for f in calls.values())
        finally:
            fault_cluster.start("namenode", timeout=180)
        for backend, future in calls.items():
            assert future.result(timeout=120) == before[backend], backend
    for backend, fs in filesystems.items():
        assert fs.cat_file(f"/during-{backend}.bin") == during[backend]
        after = os.urandom(2 * MiB + 7)
        fs.pipe_file(f"/after-{backend}.bin", after)
        assert fs.cat_file(f"/after-{backend}.bin") == after
        assert fs.info(f"/restart-{backend}.bin")["size"] == len(before[backend])
        fs.mv(f"/after-{backend}.bin", f"/moved-{backend}.bin")
        assert fs.exists(f"/moved-{backend}.bin") and not fs.exists(f"/after-{backend}.bin")
        fs.rm(f"/moved-{backend}.bin")
    assert not [p for p in filesystems["native"].ls("/", detail=False) if ".hopsfs-tmp-" in p]


# -- a DataNode that stops answering (frozen, not dead) ----------------------------------------


@contextmanager
def frozen(cluster: LocalCluster, name: str, thaw_after: float | None = None) -> Iterator[None]:
    """SIGSTOP daemon `name` (its sockets stay open, nothing answers); SIGCONT it after
    `thaw_after` seconds (from a timer) or on leaving the block."""
    pid = cluster.state.pids[name]
    os.kill(pid, signal.SIGSTOP)
    timer = threading.Timer(thaw_after, os.kill, (pid, signal.SIGCONT)) if thaw_after else None
    try:
        if timer:
            timer.start()
        yield
    finally:
        if timer:
            timer.cancel()
        os.kill(pid, signal.SIGCONT)


def test_native_write_to_a_frozen_datanode_times_out(fault_cluster: LocalCluster) -> None:
    """hdfs-native waits for a frozen DataNode's acks forever (its socket timeout does not
    apply); the write watchdog gives up after 3 x timeout with a TimeoutError naming the file,
    and the target is never created."""
    fs = make_fs(fault_cluster, "native", timeout=2, retries=0)
    target = "/frozen-fails/never.bin"
    fs.makedirs("/frozen-fails", exist_ok=True)
    with pytest.raises(TimeoutError) as caught, fs.open(target, "wb") as f:
        f.write(os.urandom(8 * MiB))  # the block's pipeline is set up and streaming
        start = time.monotonic()
        with frozen(fault_cluster, "datanode-1"):
            for _ in range(16):
                f.write(os.urandom(4 * MiB))
    took = time.monotonic() - start
    assert 6 <= took < 30, took
    assert target in str(caught.value) and "no progress for 6s" in str(caught.value)
    assert fs.ls("/frozen-fails", detail=False) == []  # nor is its temporary file left


def test_native_write_survives_a_datanode_frozen_for_a_while(fault_cluster: LocalCluster) -> None:
    """A DataNode frozen for 10 s mid-write: the stalled upload is given up and restarted from
    the local spool once it answers again; every byte arrives, no temporary file is left."""
    fs = make_fs(fault_cluster, "native", timeout=2, retries=5, retry_backoff=0.5)
    data = os.urandom(48 * MiB)
    target = "/frozen-survives/survived.bin"
    fs.makedirs("/frozen-survives", exist_ok=True)
    with fs.open(target, "wb") as f:
        f.write(data[: 8 * MiB])
        with frozen(fault_cluster, "datanode-1", thaw_after=10):
            for offset in range(8 * MiB, len(data), 4 * MiB):
                f.write(data[offset : offset + 4 * MiB])
    assert fs.cat_file(target) == data
    assert fs.ls("/frozen-survives", detail=False) == [target]


STALLED_WRITER = """
import os, signal, sys
from hopsfs_tools.fs import HopsFileSystem
namenode, webhdfs, path, datanode_pid = sys.argv[1:]
fs = HopsFileSystem(backend="native", namenode=namenode, webhdfs_url=webhdfs, timeout=1, retries=0)
try:
    with fs.open(path, "wb") as f:
        f.write(os.urandom(8 << 20))  # the pipeline is up
        os.kill(int(datanode_pid), signal.SIGSTOP)
        for _ in range(16):
            f.write(os.urandom(4 << 20))
except TimeoutError as e:
    print("timed out:", e)
"""


def test_process_exits_after_giving_up_a_stalled_write(fault_cluster: LocalCluster) -> None:
    """The given-up hdfs-native call stays blocked in its thread; the process must still exit
    (a thread pool's threads would be joined at exit, forever)."""
    pid = fault_cluster.state.pids["datanode-1"]
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                STALLED_WRITER,
                fault_cluster.namenode_uri,
                fault_cluster.webhdfs_url,
                "/stalled-writer.bin",
                str(pid),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("timed out:") and "/stalled-writer.bin" in out.stdout


def test_stalled_native_writes_do_not_pile_up_threads(
    fault_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each given-up hdfs-native call blocks a thread until its DataNode answers, if ever
    (hdfs-native cannot cancel it): past MAX_STUCK_CALLS of them, writes are refused at once
    (EBUSY, naming the way out) instead of adding threads."""
    before = native.stuck_calls()  # earlier tests' given-up calls may still be blocked
    monkeypatch.setattr(native, "MAX_STUCK_CALLS", before + 2)
    fs = make_fs(fault_cluster, "native", timeout=1, retries=0)
    fs.makedirs("/stuck", exist_ok=True)
    chunk = os.urandom(4 * MiB)

    def write(name: str) -> None:
        with fs.open(f"/stuck/{name}", "wb") as f:
            for _ in range(16):
                f.write(chunk)

    def finish(f: Any) -> None:
        with f:
            for _ in range(16):
                f.write(chunk)

    def blocked_threads() -> int:
        return sum(t.name == "hopsfs-native-write" for t in threading.enumerate())

    fault_cluster.wait_ready(120)
    threads = blocked_threads()
    started = [fs.open(f"/stuck/{name}", "wb") for name in ("a", "b")]
    for f in started:
        f.write(os.urandom(8 * MiB))  # each pipeline is up: the stall comes from the DataNode
    with frozen(fault_cluster, "datanode-1"), ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(finish, f) for f in started]:
            with pytest.raises(TimeoutError):
                future.result()
        assert native.stuck_calls() == before + 2
        begun = time.monotonic()
        for name in ("c", "d", "e"):
            with pytest.raises(OSError, match=f"{before + 2} earlier hdfs-native write") as refused:
                write(name)
            assert refused.value.errno == errno.EBUSY
        assert time.monotonic() - begun < 10  # refused at once, not after another stall
        assert native.stuck_calls() == before + 2 and blocked_threads() <= threads + 2
    assert fs.ls("/stuck", detail=False) == []  # no target, no temporary file


@pytest.mark.parametrize("way", ["native put", "async put"])
def test_put_restarts_from_the_local_file_after_a_datanode_froze(
    fault_cluster: LocalCluster,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    way: str,
) -> None:
    """A DataNode frozen for 10 s mid-put: the upload restarts by reading the local file again
    (no spool is made: making one fails here); every byte arrives, no temporary file is left."""
    from hopsfs_tools.fs import upload
    from hopsfs_tools.fs.asyncfs import AsyncHopsFileSystem

    def no_spool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("put spooled a copy of the local file")

    monkeypatch.setattr(upload.tempfile, "SpooledTemporaryFile", no_spool)
    fs = make_fs(fault_cluster, "native", timeout=2, retries=5, retry_backoff=0.5)
    if way == "async put":
        fs = AsyncHopsFileSystem(
            backend="native",
            namenode=fault_cluster.namenode_uri,
            webhdfs_url=fault_cluster.webhdfs_url,
            conf_dir=str(fault_cluster.conf_dir),
            timeout=2,
            retries=5,
            retry_backoff=0.5,
            skip_instance_cache=True,
        )
    local = tmp_path / "local.bin"
    data = os.urandom(48 * MiB)
    local.write_bytes(data)
    target = f"/put-restarts/{way.replace(' ', '-')}.bin"
    fs.makedirs("/put-restarts", exist_ok=True)
    freeze: list[Any] = []

    class FreezeMidway:
        def set_size(self, size: int) -> None: ...

        def relative_update(self, inc: int) -> None:
            if not freeze:  # after the first chunk went out: the pipeline is streaming
                freeze.append(frozen(fault_cluster, "datanode-1", thaw_after=10))
                freeze[0].__enter__()

    try:
        fs.put_file(str(local), target, callback=FreezeMidway())
    finally:
        if freeze:
            freeze[0].__exit__(None, None, None)
    assert freeze and fs.cat_file(target) == data
    assert "restarting the upload" in caplog.text  # it did restart, from the local file
    assert fs.ls("/put-restarts", detail=False) == [target] or way == "async put"
    assert not [p for p in fs.ls("/put-restarts", detail=False) if "hopsfs-tmp" in p]
