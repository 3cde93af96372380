"""Dataset snapshots against the real cluster: `project create` makes datasets snapshottable;
snapshots are taken, listed, diffed, restored and deleted from Python and the CLI; the
snapshot's files read the same through every backend, pandas, the TF plugin and the hops facade
while the live dataset changes; bad input changes nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin

BACKENDS = ("native", "arrow", "webhdfs")


@pytest.fixture
def admin_fs(
    cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[HopsFileSystem]:
    """A filesystem acting as the HDFS superuser."""
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    fs = HopsFileSystem(skip_instance_cache=True)
    yield fs
    fs.close()


@pytest.fixture
def dataset(admin_fs: HopsFileSystem) -> Iterator[str]:
    """/Projects/<new project>/DataSets; its snapshots and the project deleted afterwards."""
    name = f"s{uuid.uuid4().hex[:8]}"
    admin.create_project(name, "ann", admin_fs)
    path = f"/Projects/{name}/DataSets"
    yield path
    for snap in admin_fs.snapshots(path):
        admin_fs.delete_snapshot(path, snap["name"])
    admin_fs.rm(f"/Projects/{name}", recursive=True)
    admin_fs.rm(f"/user/{name}__ann", recursive=True)


def test_snapshot_read_diff_restore(admin_fs: HopsFileSystem, dataset: str) -> None:
    fs = admin_fs
    fs.pipe_file(f"{dataset}/t/a.csv", b"x\n1\n")
    fs.pipe_file(f"{dataset}/t/b.csv", b"x\n2\n")
    assert fs.snapshot(dataset, "v1") == f"{dataset}/.snapshot/v1"
    fs.pipe_file(f"{dataset}/t/a.csv", b"x\n100\n")  # changed
    fs.rm(f"{dataset}/t/b.csv")  # deleted
    fs.pipe_file(f"{dataset}/t/c.csv", b"x\n3\n")  # created
    for backend in BACKENDS:
        reader = HopsFileSystem(backend=backend, skip_instance_cache=True)
        assert reader.cat_file(f"{dataset}/.snapshot/v1/t/a.csv") == b"x\n1\n"
        assert reader.cat_file(f"{dataset}/.snapshot/v1/t/b.csv") == b"x\n2\n"
        reader.close()
    changes = {(c["type"], c["path"]) for c in fs.snapshot_diff(dataset, "v1")}
    assert {("CREATE", "t/c.csv"), ("DELETE", "t/b.csv")} <= changes
    assert any(c[1] == "t/a.csv" and c[0] in ("MODIFY", "CREATE") for c in changes)
    fs.snapshot(dataset, "v2")
    assert [s["name"] for s in fs.snapshots(dataset)] == ["v1", "v2"]
    assert sorted(fs.restore_snapshot(dataset, "v1", dry_run=True)) == [
        f"{dataset}/t/a.csv",
        f"{dataset}/t/b.csv",
    ]
    assert fs.cat_file(f"{dataset}/t/a.csv") == b"x\n100\n"  # dry run: nothing changed
    fs.restore_snapshot(dataset, "v1")
    assert fs.cat_file(f"{dataset}/t/a.csv") == b"x\n1\n"
    assert fs.cat_file(f"{dataset}/t/b.csv") == b"x\n2\n"
    assert fs.cat_file(f"{dataset}/t/c.csv") == b"x\n3\n"  # created since: kept
    raw = [e["name"] for e in fs.client.ls(f"{dataset}/t")]
    assert not [n for n in raw if ".hopsfs-" in n], raw  # every file committed by rename
    assert fs.restore_snapshot(dataset, "v1") == []  # nothing differs any more
    fs.delete_snapshot(dataset, "v2")
    assert [s["name"] for s in fs.snapshots(dataset)] == ["v1"]


def test_bad_input_says_what_to_do_and_changes_nothing(
    admin_fs: HopsFileSystem, dataset: str
) -> None:
    admin_fs.makedirs(f"{dataset}/sub")

    def cli(*args: str) -> str:
        done = CliRunner().invoke(main, list(args))
        assert done.exit_code == 1, done.output
        [line] = done.output.strip().splitlines()
        return line

    root = dataset.rsplit("/", 1)[0]
    assert "not snapshottable" in cli("snapshot", "create", root, "v1")
    assert "snapshot allow" in cli("snapshot", "create", root, "v1")
    admin_fs.snapshot(dataset, "v1")
    assert "already" in cli("snapshot", "create", dataset, "v1")
    assert "has no snapshot 'nope'" in cli("snapshot", "restore", dataset, "nope")
    assert [s["name"] for s in admin_fs.snapshots(dataset)] == ["v1"]


def test_cli_create_ls_diff_rm(admin_fs: HopsFileSystem, dataset: str) -> None:
    def cli(*args: str) -> str:
        done = CliRunner().invoke(main, list(args))
        assert done.exit_code == 0, done.output
        return done.output

    admin_fs.pipe_file(f"{dataset}/a.txt", b"a")
    assert cli("snapshot", "create", dataset, "v1").startswith(f"Created {dataset}/.snapshot/v1")
    admin_fs.pipe_file(f"{dataset}/b.txt", b"b")
    assert "v1" in cli("snapshot", "ls", dataset)
    assert "+\t./b.txt" in cli("snapshot", "diff", dataset, "v1")
    cli("snapshot", "rm", dataset, "v1")
    assert admin_fs.snapshots(dataset) == []


def test_training_from_a_snapshot_sees_the_same_records_while_the_data_changes(
    cluster: LocalCluster,
    admin_fs: HopsFileSystem,
    dataset: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tf = pytest.importorskip("tensorflow")
    pd = pytest.importorskip("pandas")
    from hopsfs_tools import hdfs
    from hopsfs_tools import tensorflow as htf

    records = [f"record {i:04d}".encode() for i in range(1000)]
    shards = htf.write_tfrecords(
        records, f"{dataset}/train/part.tfrecord", num_shards=4, fs=admin_fs
    )
    admin_fs.pipe_file(f"{dataset}/labels.csv", b"id,label\n1,cat\n2,dog\n")
    admin_fs.snapshot(dataset, "v1")
    snap = f"{dataset}/.snapshot/v1"

    stop = threading.Event()

    def change_live() -> None:  # what a teammate does meanwhile
        n = 0
        while not stop.is_set():
            htf.write_tfrecords(
                [b"new"] * 50, f"{dataset}/train/part.tfrecord", num_shards=4, fs=admin_fs
            )
            admin_fs.pipe_file(f"{dataset}/labels.csv", f"id,label\n{n},x\n".encode())
            n += 1

    changer = threading.Thread(target=change_live)
    changer.start()
    try:
        epochs = []
        for _ in range(2):
            files = [cluster.namenode_uri + snap + s[len(dataset) :] for s in shards]
            epochs.append(sorted(tf.data.TFRecordDataset(files).as_numpy_iterator()))
        table = pd.read_csv(f"hopsfs://{snap}/labels.csv")
    finally:
        stop.set()
        changer.join()
    assert epochs[0] == epochs[1] == sorted(records)
    assert table.to_dict("list") == {"id": [1, 2], "label": ["cat", "dog"]}
    live = [
        r
        for s in shards
        for r in tf.data.TFRecordDataset(cluster.namenode_uri + s).as_numpy_iterator()
    ]
    assert set(live) == {b"new"}  # the live dataset did change
    monkeypatch.setenv("HADOOP_USER_NAME", f"{dataset.split('/')[2]}__ann")
    monkeypatch.setenv("HOPSFS_BACKEND", "webhdfs")  # this process's native client is the admin
    assert hdfs.load("DataSets/.snapshot/v1/labels.csv") == b"id,label\n1,cat\n2,dog\n"


def test_project_made_without_webhdfs_warns_that_datasets_are_not_snapshottable(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A filesystem that knows only the NameNode's RPC address cannot allow snapshots (the RPC
    clients lack allowSnapshot): the project is made all the same, and a warning says how."""
    for key in ("HADOOP_CONF_DIR", "HOPSFS_WEBHDFS_URL", "HADOOP_USER_NAME", "HOPSFS_PROJECT"):
        monkeypatch.delenv(key, raising=False)
    rpc_only = HopsFileSystem(namenode=cluster.namenode_uri, skip_instance_cache=True)
    full = HopsFileSystem(
        namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url, skip_instance_cache=True
    )
    assert not rpc_only.config.webhdfs_url
    name = f"s{uuid.uuid4().hex[:8]}"
    with caplog.at_level("WARNING", logger="hopsfs_tools.hopsworks.admin"):
        admin.create_project(name, "ann", rpc_only)
    try:
        assert rpc_only.isdir(f"/Projects/{name}/DataSets")
        assert "snapshot allow" in caplog.text and f"/Projects/{name}" in caplog.text
        with pytest.raises(ValueError, match="is not snapshottable"):
            full.snapshot(f"/Projects/{name}/DataSets", "v1")
    finally:
        full.rm(f"/Projects/{name}", recursive=True)
        full.rm(f"/user/{name}__ann", recursive=True)
        rpc_only.close()
        full.close()
