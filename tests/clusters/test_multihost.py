"""A multi-host cluster on one machine: each DataNode on its own "host" (network namespace,
address, name, rack, shaped link). Readers and writers run on a host (its namespace) and the
DataNodes' own JMX metrics say which DataNode served their bytes: locality for real."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.cluster.netns import HOSTS_FILE, Network, NetworkError
from hopsfs_tools.cluster.owner import pid_alive

if os.geteuid() != 0:  # CI runs as root (HOPSFS_FAIL_ON_SKIP turns this into a failure there)
    pytest.skip(
        "multi-host clusters create network namespaces: run as root", allow_module_level=True
    )

CLI = [sys.executable, "-m", "hopsfs_tools.cli"]
HOSTS, RACKS, LINK, CLIENTS = 4, 2, "1gbit", 1  # host5: a client host (no DataNode) in rack 1
MIB = 1024 * 1024

# Run on a host, JSON in, JSON out: makes a directory, writes files (hdfs-native: it sets the
# HDFS block size) and reads files, or its shard of them as the TF_CONFIG worker it is given
# (worker hosts from TF_CONFIG), through HopsFileSystem.
WORKER = """
import json, os, socket, sys
from hdfs_native import Client, WriteOptions
from hopsfs_tools import HopsFileSystem
from hopsfs_tools.sharding import shard_files, shard_from_env
job = json.loads(sys.argv[1])
fs = HopsFileSystem(backend=job.get("backend", "native"))
out = {"host": socket.gethostname()}
if "mkdir" in job:
    fs.makedirs(job["mkdir"], exist_ok=True)
client = Client(os.environ["HOPSFS_NAMENODE_URI"])
options = WriteOptions(replication=job.get("replication"), block_size=job.get("block_size"))
for path, size in job.get("write", {}).items():
    with client.create(path, options) as f:
        f.write(os.urandom(size))
files = job.get("read", [])
if "tf_config" in job:
    os.environ["TF_CONFIG"] = json.dumps(job["tf_config"])
    index, count = shard_from_env()
    files = shard_files(files, index, count, prefer_local=job["prefer_local"], fs=fs)
out["read"] = {p: len(fs.cat_file(p)) for p in files}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def multihost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One cluster for this module (never the shared one): 4 DataNode hosts in 2 racks, a client
    host, 1 Gbit/s links."""
    directory = tmp_path_factory.mktemp("multihost") / "cluster"
    local = LocalCluster(
        directory, hosts=HOSTS, racks=RACKS, link=LINK, clients=CLIENTS, owned=True
    )
    try:
        local.up(timeout=300)
        yield local
    finally:
        local.down()


@pytest.fixture
def test_dir(multihost: LocalCluster, request: pytest.FixtureRequest) -> str:
    """A fresh HDFS directory of this cluster for the test."""
    path = f"/tests/{re.sub(r'[^A-Za-z0-9_-]+', '-', request.node.name)}-{os.urandom(4).hex()}"
    on_host(multihost, 1, {"mkdir": path})
    return path


def on_host(cluster: LocalCluster, k: int, job: dict) -> dict:
    """Run WORKER on host k with the cluster's environment; its JSON output."""
    cmd = cluster.network.exec_command(f"host{k}", [sys.executable, "-c", WORKER, json.dumps(job)])
    proc = subprocess.run(
        cmd,
        env={**os.environ, **cluster.env()},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def qdiscs(net: Network, k: int) -> list[str]:
    """`tc qdisc show` of both ends of host k's link (the bridge's side, the host's eth0)."""
    return [
        subprocess.run(
            ["tc", *side, "qdisc", "show", "dev", dev], capture_output=True, text=True, check=True
        ).stdout
        for side, dev in (([], f"hopsfs{net.index}h{k}"), (["-n", net.namespace(k)], "eth0"))
    ]


def bytes_read(cluster: LocalCluster) -> list[int]:
    """BytesRead of each DataNode, host 1 first (its own JMX, refreshed every second)."""
    return [
        cluster.jmx("DataNodeActivity-*", daemon=n)["BytesRead"] for n in cluster.datanode_names
    ]


def read_on_host(cluster: LocalCluster, k: int, job: dict) -> tuple[dict, list[int]]:
    """WORKER's output on host k, and the bytes each DataNode (host 1 first) served meanwhile."""
    before = bytes_read(cluster)
    result = on_host(cluster, k, job)
    time.sleep(1.5)  # the metrics (1 s period) have caught up with the read
    after, previous = bytes_read(cluster), None
    while after != previous:  # and until two snapshots more than a period apart agree
        time.sleep(1.2)
        previous, after = after, bytes_read(cluster)
    return result, [a - b for a, b in zip(after, before)]


def block_locations(cluster: LocalCluster, path: str, replicas: int) -> list[dict]:
    """WebHDFS block locations once every block lists `replicas` replicas (reports are async)."""
    url = f"{cluster.webhdfs_url}/webhdfs/v1{path}?op=GETFILEBLOCKLOCATIONS&user.name={cluster.state.user}"
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(url, timeout=10) as resp:
            blocks = json.load(resp)["BlockLocations"]["BlockLocation"]
        if all(len(b["names"]) == replicas for b in blocks) or time.monotonic() > deadline:
            return blocks
        time.sleep(0.3)


def test_each_host_has_its_own_address_name_and_rack(multihost: LocalCluster) -> None:
    net = multihost.network
    status = multihost.status()
    assert status["num_live_datanodes"] == HOSTS
    expected = {
        f"{net.host_address(k)}:{multihost.state.ports[f'datanode-{k}']['xfer']}"
        for k in range(1, HOSTS + 1)
    }
    assert set(status["live_datanodes"]) == expected  # one address per DataNode, none loopback
    live = json.loads(multihost.jmx("NameNodeInfo")["LiveNodes"])
    assert {name.rsplit(":", 1)[0] for name in live} == set(net.host_names[:HOSTS])  # by name
    assert multihost.namenode_uri.startswith(f"hdfs://{net.gateway}:")
    block = [line for line in HOSTS_FILE.read_text().splitlines() if net.domain in line]
    assert f"{net.host_address(2)} {net.host_names[1]}" in block
    assert [net.rack(k) for k in net.numbers] == ["/rack1", "/rack1", "/rack2", "/rack2", "/rack1"]
    # `cluster exec` runs a command as if on that host: its name, its address, the cluster's env
    probe = "import os, socket; n = socket.gethostname(); print(n, socket.gethostbyname(n), os.environ['HADOOP_CONF_DIR'])"
    out = subprocess.run(
        [
            *CLI,
            "cluster",
            "exec",
            "host3",
            "--dir",
            str(multihost.directory),
            "--",
            sys.executable,
            "-c",
            probe,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == [net.host_names[2], net.host_address(3), str(multihost.conf_dir)]
    status = subprocess.run(
        [*CLI, "cluster", "status", "--json", "--dir", str(multihost.directory)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    hosts = json.loads(status.stdout)["hosts"]
    assert [(h["name"], h["rack"], h["datanode"]) for h in hosts][-2:] == [
        (net.host_names[3], "/rack2", "datanode-4"),
        (net.host_names[4], "/rack1", None),  # the client host
    ]
    assert all("tbf" in q and "rate 1Gbit" in q for q in qdiscs(net, 3))  # both ends shaped


def test_replicas_follow_racks(multihost: LocalCluster, test_dir: str) -> None:
    net = multihost.network
    rack_of = {net.host_names[k - 1]: net.rack(k) for k in range(1, HOSTS + 1)}
    # A writer on host 1 (rack 1) with 2 replicas: one on its own host, one on the other rack.
    pair = f"{test_dir}/two-replicas.bin"
    on_host(multihost, 1, {"write": {pair: 4 * MIB}, "replication": 2, "block_size": MIB})
    blocks = block_locations(multihost, pair, 2)
    assert len(blocks) == 4
    for b in blocks:
        assert net.host_names[0] in b["hosts"], b
        assert sorted(rack_of[h] for h in b["hosts"]) == ["/rack1", "/rack2"], b
        # the NameNode's own view of the racks (the topology script it ran) agrees
        assert sorted(p.rsplit("/", 1)[0] for p in b["topologyPaths"]) == ["/rack1", "/rack2"]
    # Three replicas from outside the cluster: never all on one rack.
    triple = f"{test_dir}/three-replicas.bin"
    on_host(multihost, 4, {"write": {triple: 3 * MIB}, "replication": 3, "block_size": MIB})
    for b in block_locations(multihost, triple, 3):
        assert {rack_of[h] for h in b["hosts"]} == {"/rack1", "/rack2"}, b


@pytest.mark.parametrize("backend", ["native", "webhdfs", "arrow"])
def test_reader_on_a_host_reads_from_its_own_datanode(
    multihost: LocalCluster, test_dir: str, backend: str
) -> None:
    path = f"{test_dir}/everywhere.bin"
    size = 3 * MIB
    on_host(multihost, 1, {"write": {path: size}, "replication": HOSTS, "block_size": MIB})
    assert all(len(b["hosts"]) == HOSTS for b in block_locations(multihost, path, HOSTS))
    for k in (2, 4):  # one host per rack
        job = {"backend": backend, "read": [path]}
        result, deltas = read_on_host(multihost, k, job)
        assert result["read"] == {path: size}
        assert result["host"] == multihost.network.host_names[k - 1]  # it ran as host k
        assert deltas[k - 1] >= size, deltas  # every byte (plus checksums) from host k's DataNode
        assert sum(deltas) == deltas[k - 1], deltas  # and none from another host


def test_client_host_reads_from_its_own_rack(multihost: LocalCluster, test_dir: str) -> None:
    """A host without a DataNode (a compute node) in rack 1 reads a block held in both racks
    from the rack-1 replica: the NameNode sorts replicas by rack distance too."""
    net = multihost.network
    client = HOSTS + 1
    assert net.rack(client) == "/rack1"
    path = f"{test_dir}/two-racks.bin"
    on_host(multihost, 3, {"write": {path: 2 * MIB}, "replication": 2})  # host3 (rack 2) + rack 1
    (block,) = block_locations(multihost, path, 2)
    holders = [net.host_names.index(h) + 1 for h in block["hosts"]]
    in_rack1 = [k for k in holders if net.rack(k) == "/rack1"]
    assert sorted(holders) == sorted([3, *in_rack1]) and len(in_rack1) == 1, block
    result, deltas = read_on_host(multihost, client, {"read": [path]})
    assert result["host"] == net.host_names[client - 1]
    assert deltas[in_rack1[0] - 1] >= 2 * MIB and sum(deltas) == deltas[in_rack1[0] - 1], deltas


def test_locality_sharding_moves_computation_to_data(
    multihost: LocalCluster, test_dir: str
) -> None:
    """Each TF_CONFIG worker on host k computes its own shard with prefer_local (worker hosts
    from TF_CONFIG) and reads only local blocks; round-robin shards read mostly remote ones."""
    net = multihost.network
    files = [f"{test_dir}/part-{i:02d}.bin" for i in range(3 * HOSTS)]
    placement = random.Random(17).sample(
        [k for k in range(1, HOSTS + 1) for _ in range(3)], len(files)
    )
    for k in range(1, HOSTS + 1):  # one replica each, on the host that wrote it
        mine = {p: MIB for p, h in zip(files, placement) if h == k}
        on_host(multihost, k, {"write": mine, "replication": 1})
    workers = {"worker": [f"{name}:2222" for name in net.host_names[:HOSTS]]}  # TF's cluster spec
    local_fraction = {}
    for prefer_local in (True, False):
        fractions, covered = [], []
        for k in range(1, HOSTS + 1):
            tf_config = {"cluster": workers, "task": {"type": "worker", "index": k - 1}}
            job = {"read": files, "tf_config": tf_config, "prefer_local": prefer_local}
            result, deltas = read_on_host(multihost, k, job)
            covered += result["read"]
            fractions.append(deltas[k - 1] / sum(deltas))
        assert sorted(covered) == files  # the workers' shards are disjoint and complete
        local_fraction[prefer_local] = fractions
    assert local_fraction[True] == [1.0] * HOSTS, local_fraction
    assert sum(local_fraction[False]) / HOSTS < 0.75, local_fraction


def test_shaped_link_limits_remote_reads(multihost: LocalCluster, test_dir: str) -> None:
    """At 16 Mbit/s, 2 MiB from another host's DataNode cannot take less than ~1 s."""
    path = f"{test_dir}/on-host1.bin"
    on_host(multihost, 1, {"write": {path: 2 * MIB}, "replication": 1})
    timing = f"import time; from hopsfs_tools import HopsFileSystem; fs = HopsFileSystem(); t = time.monotonic(); fs.cat_file('{path}'); print(time.monotonic() - t)"
    multihost.network.shape("16mbit")
    try:
        cmd = multihost.network.exec_command("host3", [sys.executable, "-c", timing])
        out = subprocess.run(
            cmd,
            env={**os.environ, **multihost.env()},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert float(out.stdout.split()[-1]) >= 0.8
        multihost.network.shape(None)
        assert not any("tbf" in qdisc for qdisc in qdiscs(multihost.network, 3))  # unshaped
    finally:
        multihost.network.shape(LINK)
    assert all("rate 1Gbit" in qdisc for qdisc in qdiscs(multihost.network, 3))


def test_down_keep_then_up_makes_the_same_hosts_again(
    multihost: LocalCluster, test_dir: str
) -> None:
    """`down(keep=True)` removes the network with the daemons; `up()` rebuilds it from the plan:
    same subnet, names and racks, and the data is still there and still local."""
    net = multihost.network
    path = f"{test_dir}/kept.bin"
    on_host(multihost, 2, {"write": {path: MIB}, "replication": 1})
    multihost.down(keep=True)
    assert not Path(f"/run/netns/{net.namespace(2)}").exists()
    assert (
        not Path(f"/sys/class/net/{net.bridge}").exists()
        and net.domain not in HOSTS_FILE.read_text()
    )
    multihost.up(timeout=300)
    assert multihost.network == net
    result, deltas = read_on_host(multihost, 2, {"read": [path]})
    assert result["read"] == {path: MIB} and deltas[1] >= MIB and sum(deltas) == deltas[1], deltas


def test_down_cleans_up_a_half_started_cluster(tmp_path: Path) -> None:
    """`cluster up --hosts` killed mid-start leaves namespaces, links, hosts entries and daemons;
    `cluster down` removes them all."""
    directory = tmp_path / "crashed"
    up = subprocess.Popen(
        [*CLI, "cluster", "up", "--hosts", "2", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    state = directory / "cluster.json"
    while not (state.exists() and json.loads(state.read_text()).get("pids")):
        assert up.poll() is None and time.monotonic() < deadline, "cluster up ended too early"
        time.sleep(0.1)
    up.send_signal(signal.SIGKILL)
    up.wait()
    net = Network.load(directory)
    assert net is not None and Path(f"/run/netns/{net.namespace(1)}").exists()
    assert Path(f"/sys/class/net/{net.bridge}").exists() and net.domain in HOSTS_FILE.read_text()
    pids = json.loads(state.read_text())["pids"]
    subprocess.run([*CLI, "cluster", "down", "--dir", str(directory)], check=True, timeout=120)
    assert not directory.exists()
    assert not any(Path(f"/run/netns/{net.namespace(k)}").exists() for k in (1, 2))
    assert not Path(f"/sys/class/net/{net.bridge}").exists()
    assert not any(Path(f"/sys/class/net/hopsfs{net.index}h{k}").exists() for k in (1, 2))
    assert net.domain not in HOSTS_FILE.read_text()
    assert not any(
        pid_alive(pid) for pid in pids.values()
    )  # (zombies of the killed CLI count as dead)


def test_bad_requests_name_the_setting(multihost: LocalCluster, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="racks must be between 1 and hosts=2"):
        LocalCluster(hosts=2, racks=3)
    with pytest.raises(ValueError, match="link='fast' is not a rate"):
        LocalCluster(hosts=2, link="fast")
    with pytest.raises(ValueError, match="need a multi-host cluster"):
        LocalCluster(racks=2)
    with pytest.raises(ValueError, match="without TLS/Kerberos"):
        LocalCluster(hosts=2, tls=True)
    loopback = tmp_path / "loopback"  # a cluster configured without hosts
    (loopback / "conf").mkdir(parents=True)
    (loopback / "conf" / "hdfs-site.xml").write_text("<configuration/>")
    with pytest.raises(NetworkError, match="made without hosts"):
        LocalCluster(loopback, hosts=2).up()
    assert Network.load(loopback) is None
    with pytest.raises(ValueError, match="unknown host 'host9'.*host1.hopsfs"):
        multihost.network.exec_command("host9", ["true"])
    out = subprocess.run(
        [*CLI, "cluster", "exec", "host9", "--dir", str(multihost.directory), "--", "true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0 and "unknown host 'host9'" in out.stderr


def test_a_kept_cluster_never_takes_over_another_clusters_network(tmp_path: Path) -> None:
    """`down(keep=True)` frees a cluster's subnet; if another cluster takes it meanwhile, the
    kept one refuses to start on it, and its `down` leaves the other's network alone."""
    kept = Network.ensure(tmp_path / "kept", hosts=1, racks=1, link=None)
    kept.remove()  # what down(keep=True) does to the network
    other = Network.ensure(tmp_path / "other", hosts=1, racks=1, link=None)
    try:
        assert other.index == kept.index  # the freed subnet is the first free one again
        with pytest.raises(NetworkError, match="belongs to another cluster"):
            Network.ensure(tmp_path / "kept", hosts=1, racks=1, link=None)
        kept.remove()
        assert Path(f"/run/netns/{other.namespace(1)}").exists()
        assert Path(f"/sys/class/net/{other.bridge}").exists()
    finally:
        other.remove()
    assert not Path(f"/sys/class/net/{other.bridge}").exists()
