"""A DataNode container stopped in the middle of a read and of a write: every byte arrives and
is stored, with the full replication (the container is started again after each test)."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import threading
import time
from collections.abc import Iterator

import pytest
from hdfs_native import WriteOptions

from hopsfs_tools.cluster.containers import ContainerCluster
from hopsfs_tools.fs import HopsFileSystem

MiB = 1 << 20
SIZE = 96 * MiB
CHUNK = 4 * MiB
ARM_AT = 16 * MiB  # the DataNode is stopped once this much has gone through: mid-transfer
BACKENDS = ("native", "arrow", "webhdfs")
PORTS = {"native": 9866, "arrow": 9866, "webhdfs": 9864}  # data transfer; WebHDFS's HTTP


def _peers() -> set[tuple[str, int]]:
    """(address, port) of the peers of this process's established TCP connections (/proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):  # Java (arrow): IPv4-mapped IPv6 sockets
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                    address, port = fields[2].split(":")
                    ipv4 = bytes.fromhex(address[-8:])  # the last 32-bit word, little-endian
                    peers.add(
                        (str(ipaddress.IPv4Address(int.from_bytes(ipv4, "little"))), int(port, 16))
                    )
    return peers


class DataNodeStopper(threading.Thread):
    """Once armed, stop the container of the first DataNode this process streams data with."""

    def __init__(self, cluster: ContainerCluster, backend: str) -> None:
        super().__init__(name="datanode-stopper", daemon=True)
        self.cluster = cluster
        self.port = PORTS[backend]
        self.addresses = {cluster.address(name): name for name in cluster.datanode_names}
        self.armed, self.done = threading.Event(), threading.Event()
        self.progress = 0
        self.victim: str | None = None
        self.stopped_at: int | None = None

    def run(self) -> None:
        self.armed.wait()
        while not self.done.is_set():
            serving = [
                self.addresses[a] for a, p in _peers() if p == self.port and a in self.addresses
            ]
            if serving:
                self.stopped_at, self.victim = self.progress, serving[0]
                self.cluster.stop(serving[0], timeout=2)
                return
            time.sleep(0.002)

    def finish(self) -> None:
        """Stop looking, and start the stopped DataNode's container again (registered, live)."""
        self.done.set()
        self.armed.set()
        self.join(60)
        if self.victim:
            self.cluster.start(self.victim, timeout=180)


@pytest.fixture(scope="module")
def payload() -> tuple[bytes, str]:
    data = os.urandom(SIZE)
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def big_file(cluster, superuser_client, payload) -> Iterator[str]:
    """A file with replication 3, written once for the read tests."""
    path = f"/tests/container-faults-{os.getpid()}.bin"
    superuser_client.mkdirs("/tests", permission=0o777, create_parent=True)
    with superuser_client.create(path, WriteOptions(replication=3, overwrite=True)) as out:
        for offset in range(0, SIZE, CHUNK):
            out.write(payload[0][offset : offset + CHUNK])
    yield path
    superuser_client.delete(path)


@pytest.fixture
def stopper(cluster: ContainerCluster, backend: str) -> Iterator[DataNodeStopper]:
    assert cluster.status()["num_live_datanodes"] == 3
    thread = DataNodeStopper(cluster, backend)
    thread.start()
    try:
        yield thread
    finally:
        thread.finish()


def make_fs(cluster: ContainerCluster, backend: str) -> HopsFileSystem:
    return HopsFileSystem(
        backend=backend,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        conf_dir=str(cluster.conf_dir),
        skip_instance_cache=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_datanode_container_stopped_mid_read(cluster, big_file, payload, stopper, backend):
    digest = hashlib.sha256()
    with make_fs(cluster, backend).open(big_file, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            stopper.progress += len(chunk)
            if stopper.progress >= ARM_AT:
                stopper.armed.set()
    assert stopper.victim, "no DataNode was serving the read once armed"
    assert stopper.stopped_at is not None and stopper.stopped_at < SIZE
    assert stopper.progress == SIZE
    assert digest.hexdigest() == payload[1]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_datanode_container_stopped_mid_write(cluster, hdfs_dir, payload, stopper, backend):
    fs = make_fs(cluster, backend)
    data, want = payload
    target = f"{hdfs_dir}/big.bin"
    with fs.open(target, "wb", replication=3) as f:
        for offset in range(0, SIZE, CHUNK):
            f.write(data[offset : offset + CHUNK])
            stopper.progress = offset + CHUNK
            if stopper.progress >= ARM_AT:
                stopper.armed.set()
    assert stopper.victim, "no DataNode was receiving the write once armed"
    assert stopper.stopped_at is not None and stopper.stopped_at < SIZE
    info = fs.info(target)
    assert (info["size"], info["replication"]) == (SIZE, 3)
    assert hashlib.sha256(fs.cat_file(target)).hexdigest() == want
    assert fs.ls(hdfs_dir, detail=False) == [target]  # no temporary files left
