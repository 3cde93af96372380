"""ACLs from Python and the CLI against the real cluster (ACLs on), on every backend: whole ACLs
read and replaced, entries added and removed, default ACLs inherited by new files; new files
and directories get the cluster's umask (fs.permissions.umask-mode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.config import write_site_xml
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.acls import acl_text

BACKENDS = ("native", "arrow", "webhdfs")


@pytest.mark.parametrize("backend", BACKENDS)
def test_get_set_modify_remove_and_default_acls(
    cluster_env: dict[str, str], hdfs_dir: str, backend: str
) -> None:
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    d = f"{hdfs_dir}/d"
    fs.makedirs(d)
    fs.chmod(d, 0o750)
    assert acl_text(fs.get_acl(d)) == ["user::rwx", "group::r-x", "other::---"]
    fs.modify_acl_entries(d, ["user:bob:r-x", "default:user:bob:rwx"])
    fs.pipe_file(f"{d}/new.csv", b"x")  # created below a default ACL: inherits bob's entry
    assert "user:bob:rwx" in fs.get_acl(f"{d}/new.csv")["entries"]
    assert acl_text(fs.get_acl(d)) == [
        "user::rwx",
        "user:bob:r-x",
        "group::r-x",
        "mask::r-x",
        "other::---",
        "default:user::rwx",
        "default:user:bob:rwx",
        "default:group::r-x",
        "default:mask::rwx",
        "default:other::---",
    ]
    fs.remove_acl(d, default_only=True)
    assert not [e for e in fs.get_acl(d)["entries"] if e.startswith("default:")]
    fs.remove_acl_entries(d, ["user:bob"])
    assert "user:bob:r-x" not in fs.get_acl(d)["entries"]
    fs.set_acl(d, ["user::rwx", "group::---", "other::---", "user:carl:r-x"])
    assert acl_text(fs.get_acl(d)) == [
        "user::rwx",
        "user:carl:r-x",
        "group::---",
        "mask::r-x",
        "other::---",
    ]
    fs.remove_acl(d)
    assert fs.get_acl(d)["entries"] == []
    fs.close()


def test_cli_getfacl_setfacl(cluster_env: dict[str, str], hdfs_dir: str) -> None:
    def cli(*args: str) -> str:
        done = CliRunner().invoke(main, list(args))
        assert done.exit_code == 0, done.output
        return done.output

    fs = HopsFileSystem(skip_instance_cache=True)
    fs.pipe_file(f"{hdfs_dir}/t/f.csv", b"x")
    cli("setfacl", "-R", "-m", "user:bob:r-x,default:user:bob:rwx", f"{hdfs_dir}/t")
    out = cli("getfacl", "-R", f"{hdfs_dir}/t")
    assert f"# file: {hdfs_dir}/t/f.csv" in out and "default:user:bob:rwx" in out
    file_part = out.split(f"# file: {hdfs_dir}/t/f.csv")[1]
    assert "user:bob:r-x" in file_part and "default:" not in file_part  # files: access only
    cli("setfacl", "-k", f"{hdfs_dir}/t")
    assert "default:" not in cli("getfacl", f"{hdfs_dir}/t")
    cli("setfacl", "-x", "user:bob", f"{hdfs_dir}/t/f.csv")
    assert "user:bob" not in cli("getfacl", f"{hdfs_dir}/t/f.csv")
    cli("setfacl", "-b", f"{hdfs_dir}/t")
    assert fs.get_acl(f"{hdfs_dir}/t")["entries"] == []
    bad = CliRunner().invoke(main, ["setfacl", f"{hdfs_dir}/t"])
    assert bad.exit_code == 2 and "exactly one of" in bad.output
    fs.close()


_CREATE = r"""
import json, sys
from hopsfs_tools.fs import HopsFileSystem
fs = HopsFileSystem(backend=sys.argv[1], skip_instance_cache=True)
fs.makedirs(sys.argv[2] + "/dir")
fs.pipe_file(sys.argv[2] + "/file", b"x")
print(json.dumps([fs.info(sys.argv[2] + n)["permission"] for n in ("/dir", "/file")]))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_paths_get_the_clusters_umask(
    cluster: LocalCluster, hdfs_dir: str, tmp_path: Path, backend: str
) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(cluster.conf_dir, conf)
    write_site_xml(
        conf / "core-site.xml",
        {"fs.defaultFS": cluster.namenode_uri, "fs.permissions.umask-mode": "027"},
    )
    env = {**os.environ, **cluster.env(), "HADOOP_CONF_DIR": str(conf)}
    done = subprocess.run(
        [sys.executable, "-c", _CREATE, backend, f"{hdfs_dir}/{backend}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [0o750, 0o640]
