"""The TF filesystem plugin on the other kinds of cluster: Kerberos (a ticket cache, and a clear
error without a ticket), the TLS cluster (WebHDFS over HTTPS; the plugin's libhdfs speaks RPC),
and viewfs:// through a mount table in a test-local Hadoop conf dir.

Kerberos and TLS cases run TF in a process of their own: the plugin's JVM reads krb5.conf and
logs in once per process (as a user would: `kinit` first, then Python)."""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow")

import test_kerberos
import test_tls
from tf_plugin_env import plugin_environment

from hopsfs_tools.cluster import Kdc, LocalCluster

# their module-scoped clusters (pytest finds fixtures among a module's names)
kdc, keytabs, krb_cluster = test_kerberos.kdc, test_kerberos.keytabs, test_kerberos.krb_cluster
tls_cluster = test_tls.tls_cluster

# What each process does with TF over hdfs:// once it can: gfile, TF's writer and reader, the
# seed's interleave, tfrecord_dataset's "native" strategy. Writes `result` as JSON.
ROUND_TRIP = """
    import tensorflow as tf
    from hopsfs_tools import tensorflow as htf
    from hopsfs_tools.fs import HopsFileSystem

    base = f"hdfs://{TOP}/tf-{time.time_ns()}"
    tf.io.gfile.makedirs(base + "/data")
    for shard in range(2):
        with tf.io.TFRecordWriter(f"{base}/data/part-{shard}.tfrecord") as writer:
            for i in range(50):
                writer.write(f"{shard}:{i}".encode())
    files = tf.data.Dataset.list_files(base + "/data/part-*.tfrecord")
    seed = files.interleave(
        lambda f: tf.data.TFRecordDataset(f, buffer_size=8 * 2**20),
        cycle_length=32,
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    result["seed"] = sorted(r.decode() for r in seed.as_numpy_iterator())
    native = htf.tfrecord_dataset(base + "/data", strategy="native")
    result["native"] = sorted(r.decode() for r in native.as_numpy_iterator())
    result["strategy"] = htf.default_strategy()
    with tf.io.gfile.GFile(base + "/note.txt", "w") as f:
        f.write("hello")
    tf.io.gfile.rename(base + "/note.txt", base + "/data/part-0.tfrecord", overwrite=True)
    result["listing"] = sorted(tf.io.gfile.listdir(base + "/data"))
    result["size"] = tf.io.gfile.stat(base + "/data/part-0.tfrecord").length
    result["owner"] = HopsFileSystem(backend="webhdfs").info(base[len("hdfs://") :])["owner"]
    tf.io.gfile.rmtree(base)
    result["gone"] = not tf.io.gfile.exists(base)
"""
EXPECTED = sorted(f"{shard}:{i}" for shard in range(2) for i in range(50))


def run_tf(env: dict[str, str], script: str, top: str) -> dict[str, object]:
    """Run `script` (which fills `result`) in a fresh Python with `env`; returns `result`."""
    code = (
        "import json, time\nresult = {}\n"
        + f"TOP = {top!r}\n"
        + textwrap.dedent(script)
        + "print(json.dumps(result))\n"
    )
    full = {k: v for k, v in os.environ.items() if k not in ("CLASSPATH", "LIBHDFS_OPTS")}
    full.update(PYTHONPATH=os.pathsep.join(sys.path), **env)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=full,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_round_trip(result: dict[str, object], owner: str) -> None:
    assert result["seed"] == EXPECTED and result["native"] == EXPECTED
    assert result["strategy"] == "native"
    assert result["listing"] == ["part-0.tfrecord", "part-1.tfrecord"]
    assert result["size"] == len("hello")  # the rename replaced the shard
    assert result["owner"] == owner and result["gone"] is True


def test_kerberos_ticket_cache_and_no_ticket(
    krb_cluster: LocalCluster, kdc: Kdc, keytabs: dict[str, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "krb5cc"
    env = {**krb_cluster.env(), "KRB5CCNAME": f"FILE:{cache}", "HADOOP_USER_NAME": "mallory"}
    failed = run_tf(
        env,
        """
        import tensorflow as tf
        import hopsfs_tools.tensorflow
        started = time.monotonic()
        try:
            tf.io.gfile.exists("hdfs:///")
        except tf.errors.PermissionDeniedError as e:
            result["error"], result["seconds"] = str(e), time.monotonic() - started
        """,
        "/",
    )
    message = failed["error"]
    assert "kinit" in message and f"@{kdc.realm}" in message and "nn/localhost" in message
    assert str(cache) in message and "hdfs://127.0.0.1:" in message
    assert failed["seconds"] < 30  # at once, not after connection retries
    superuser = getpass.getuser()
    kdc.kinit(superuser, keytabs[superuser], cache)
    # the ticket says who acts: HADOOP_USER_NAME=mallory is ignored
    assert_round_trip(run_tf(env, ROUND_TRIP, "/krb"), owner=superuser)


def test_tls_cluster_over_rpc_and_webhdfs_only(tls_cluster: LocalCluster) -> None:
    """Everything works over hdfs:// (RPC and DataNode transfer are not TLS); a cluster known
    only by its HTTPS WebHDFS address gives clear errors and "auto" picks "cache"."""
    superuser = getpass.getuser()
    env = {**tls_cluster.env(), "HADOOP_USER_NAME": superuser}
    assert tls_cluster.env()["HOPSFS_WEBHDFS_URL"].startswith("https://")
    assert_round_trip(run_tf(env, ROUND_TRIP, "/tls"), owner=superuser)

    webhdfs_only = {k: v for k, v in env.items() if k not in ("HOPSFS_NAMENODE_URI",)}
    webhdfs_only.update(HADOOP_CONF_DIR="", HOPSFS_BACKEND="webhdfs")
    result = run_tf(
        webhdfs_only,
        """
        import tensorflow as tf
        from hopsfs_tools import tensorflow as htf
        from hopsfs_tools.fs import HopsFileSystem
        HopsFileSystem().pipe("/tls/webhdfs-only.txt", b"x")
        result["strategy"] = htf.default_strategy()
        try:
            tf.io.gfile.exists("hopsfs:///tls/webhdfs-only.txt")
        except tf.errors.FailedPreconditionError as e:
            result["gfile"] = str(e)
        try:
            htf.tfrecord_dataset("/tls/webhdfs-only.txt", strategy="native")
        except ValueError as e:
            result["native"] = str(e)
        """,
        "/",
    )
    assert result["strategy"] == "cache"
    assert "WebHDFS address only (swebhdfs://127.0.0.1:" in result["gfile"]
    assert "libhdfs, speaks RPC" in result["gfile"] and "HOPSFS_NAMENODE_URI" in result["gfile"]
    assert "WebHDFS only" in result["native"] and "strategy='cache'" in result["native"]


@pytest.fixture
def viewfs_conf(cluster: LocalCluster, hdfs_dir: str, tmp_path: Path) -> Path:
    """The cluster's conf dir plus a mount table "tfmt": /data -> hdfs_dir, /more -> hdfs_dir/b."""
    conf = tmp_path / "conf"
    shutil.copytree(cluster.conf_dir, conf)
    links = {"/data": hdfs_dir, "/more": f"{hdfs_dir}/b"}
    props = "".join(
        f"<property><name>fs.viewfs.mounttable.tfmt.link.{link}</name>"
        f"<value>{cluster.namenode_uri}{target}</value></property>"
        for link, target in links.items()
    )
    core = conf / "core-site.xml"
    core.write_text(core.read_text().replace("</configuration>", props + "</configuration>"))
    return conf


def test_viewfs_follows_the_mount_table(
    cluster: LocalCluster, hdfs_dir: str, viewfs_conf: Path
) -> None:
    with plugin_environment(cluster, HADOOP_CONF_DIR=str(viewfs_conf)):
        tf.io.gfile.makedirs(f"hdfs://{hdfs_dir}/b")
        with tf.io.TFRecordWriter("viewfs://tfmt/data/r.tfrecord") as writer:
            for i in range(20):
                writer.write(b"%d" % i)
        assert tf.io.gfile.exists(f"hdfs://{hdfs_dir}/r.tfrecord")  # written through the link
        records = tf.data.TFRecordDataset("viewfs://tfmt/data/r.tfrecord").as_numpy_iterator()
        assert [int(r) for r in records] == list(range(20))
        assert sorted(tf.io.gfile.listdir("viewfs://tfmt/data")) == ["b", "r.tfrecord"]
        assert tf.io.gfile.glob("viewfs://tfmt/data/*.tfrecord") == [
            "viewfs://tfmt/data/r.tfrecord"
        ]
        with tf.io.gfile.GFile("viewfs://tfmt/more/note.txt", "w") as f:
            f.write("through the second link")
        tf.io.gfile.rename(
            "viewfs://tfmt/more/note.txt", "viewfs://tfmt/more/r.txt", overwrite=True
        )
        with tf.io.gfile.GFile(f"hdfs://{hdfs_dir}/b/r.txt") as f:
            assert f.read() == "through the second link"
        with pytest.raises(tf.errors.FailedPreconditionError) as info:
            tf.io.gfile.exists("viewfs://nosuch/data")
        message = str(info.value)
        assert "viewfs://nosuch has no mount table" in message and "libhdfs" in message
        assert "fs.viewfs.mounttable.nosuch.link" in message


def test_pipeline_errors_name_viewfs_paths(
    cluster: LocalCluster, hdfs_dir: str, viewfs_conf: Path
) -> None:
    with plugin_environment(cluster, HADOOP_CONF_DIR=str(viewfs_conf)):
        with pytest.raises(tf.errors.NotFoundError, match=re.escape("viewfs://tfmt/data/none")):
            tf.io.gfile.stat("viewfs://tfmt/data/none")
        started = time.monotonic()
        assert not tf.io.gfile.exists("viewfs://tfmt/data/none")
        assert time.monotonic() - started < 10
