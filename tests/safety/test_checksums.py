"""Checksums that compare, against the real cluster: a local file and its upload give the same
value on every backend, the same value the Java client's `hdfs dfs -checksum` gives with
dfs.checksum.combine.mode=COMPOSITE_CRC (the local cluster's setting), whatever the block size;
one changed byte changes it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.checksums import local_checksum
from hopsfs_tools.hadoop.jars import hadoop_jars

BACKENDS = ("native", "arrow", "webhdfs")
SIZE = 3 * 2**20 + 12345  # several 1 MiB blocks and a partial one


@pytest.fixture(scope="module")
def local_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("checksums") / "data.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


def java_checksum(cluster: LocalCluster, path: str) -> str:
    """`hdfs dfs -checksum PATH` through Hadoop's own client (FsShell) and the cluster's conf."""
    classpath = os.pathsep.join([str(cluster.conf_dir), str(hadoop_jars() / "*")])
    done = subprocess.run(
        ["java", "-cp", classpath, "org.apache.hadoop.fs.FsShell", "-checksum", path],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "HADOOP_USER_NAME": cluster.state.user},
    )
    name, algorithm, value = done.stdout.strip().splitlines()[-1].split("\t")
    assert (name, algorithm) == (path, "COMPOSITE-CRC32C")
    return value


@pytest.mark.parametrize("backend", BACKENDS)
def test_local_file_and_upload_match(
    cluster: LocalCluster,
    cluster_env: dict[str, str],
    hdfs_dir: str,
    local_file: Path,
    backend: str,
) -> None:
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    fs.put_file(str(local_file), f"{hdfs_dir}/data.bin")
    value = fs.checksum(f"{hdfs_dir}/data.bin")
    assert value == local_checksum(local_file) == java_checksum(cluster, f"{hdfs_dir}/data.bin")
    assert fs.ukey(f"{hdfs_dir}/data.bin") == value
    changed = bytearray(local_file.read_bytes())
    changed[SIZE // 2] ^= 1
    fs.pipe_file(f"{hdfs_dir}/changed.bin", bytes(changed))
    assert fs.checksum(f"{hdfs_dir}/changed.bin") != value
    with pytest.raises(IsADirectoryError):
        fs.checksum(hdfs_dir)
    fs.close()


def test_block_size_does_not_change_it(
    cluster_env: dict[str, str], hdfs_dir: str, local_file: Path
) -> None:
    fs = HopsFileSystem(skip_instance_cache=True)
    for blocksize in (2**20, 128 * 2**20):
        writer = fs.client.open_writer(f"{hdfs_dir}/b{blocksize}.bin", blocksize=blocksize)
        writer.write(local_file.read_bytes())
        writer.close()
    small, large = (fs.info(f"{hdfs_dir}/b{b}.bin") for b in (2**20, 128 * 2**20))
    assert small["blocksize"] != large["blocksize"]
    assert fs.checksum(small["name"]) == fs.checksum(large["name"]) == local_checksum(local_file)
    fs.close()


def test_cli_prints_one_format_for_hdfs_and_local(
    cluster_env: dict[str, str], hdfs_dir: str, local_file: Path
) -> None:
    fs = HopsFileSystem(skip_instance_cache=True)
    fs.put_file(str(local_file), f"{hdfs_dir}/up.bin")
    done = CliRunner().invoke(
        main, ["checksum", f"{hdfs_dir}/up.bin", str(local_file), f"file://{local_file}"]
    )
    assert done.exit_code == 0, done.output
    rows = [line.split("\t") for line in done.output.strip().splitlines()]
    assert [r[1] for r in rows] == ["COMPOSITE-CRC32C"] * 3
    assert len({r[2] for r in rows}) == 1
    fs.close()
