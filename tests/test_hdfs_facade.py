"""The hops.hdfs-style facade against the real cluster, acting as a project user "P__alice"."""

from __future__ import annotations

import os
import stat as stat_module
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hdfs_native import Client

from hopsfs_tools import hdfs
from hopsfs_tools.hopsworks.project import Project


def new_project(client: Client, monkeypatch: pytest.MonkeyPatch, user: str = "alice") -> Project:
    """A fresh /Projects/<name> owned by "<name>__<user>", who becomes the acting user."""
    name = f"t{uuid.uuid4().hex[:10]}"
    project = Project(name, f"{name}__{user}")
    client.mkdirs("/Projects", permission=0o755, create_parent=True)
    client.mkdirs(project.root, permission=0o750, create_parent=True)
    client.set_owner(project.root, owner=project.user)
    monkeypatch.delenv("HOPSFS_PROJECT", raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", project.user)
    return project


@pytest.fixture
def project(cluster_env, superuser_client: Client, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Project]:
    created = new_project(superuser_client, monkeypatch)
    yield created
    hdfs.close()  # hdfs-native binds one user per process: release it for the next test
    superuser_client.delete(created.root, recursive=True)


def test_project_identity(cluster, project: Project, monkeypatch) -> None:
    uri = f"{cluster.namenode_uri}{project.root}"
    assert (hdfs.project_name(), hdfs.project_user()) == (project.name, project.user)
    assert hdfs.project_path() == uri + "/"
    assert hdfs.project_path("Resources/x.csv") == uri + "/Resources/x.csv"
    assert hdfs.project_path(exclude_nn_addr=True) == project.root + "/"
    assert hdfs.project_path(project="other") == f"{cluster.namenode_uri}/Projects/other/"
    assert hdfs.project_path("/abs/p") == f"{cluster.namenode_uri}/abs/p"
    assert hdfs.project_path("hdfs://elsewhere:1/x") == "hdfs://elsewhere:1/x"
    assert hdfs.abs_path("Logs/../Models") == uri + "/Models"
    assert hdfs.abs_path("hopsfs:///tmp") == f"{cluster.namenode_uri}/tmp"
    monkeypatch.delenv("HADOOP_USER_NAME")
    with pytest.raises(ValueError, match="No project set.*HOPSFS_PROJECT"):
        hdfs.project_path()


def test_get_fs_is_cached_per_user(project: Project, monkeypatch, superuser_client) -> None:
    fs = hdfs.get_fs()
    assert hdfs.get_fs() is fs
    new_project(superuser_client, monkeypatch, user="bob")
    assert hdfs.get_fs() is not fs


def test_open_file_like_the_hopsworks_pandas_example(project: Project) -> None:
    hdfs.mkdir("TestJob/data/census")
    with hdfs.open_file("TestJob/data/census/adult.data", flags="w") as f:
        f.write(b"39, State-gov, Male\n50, ?, Female\n")
    cols = ["Age", "Occupation", "Sex"]
    with hdfs.get_fs().open(hdfs.project_path() + "/TestJob/data/census/adult.data", "rb") as f:
        frame = pd.read_csv(f, names=cols, sep=r"\s*,\s*", engine="python", na_values="?")
    assert frame["Age"].tolist() == [39, 50]
    assert frame["Occupation"].isna().tolist() == [False, True]
    with hdfs.open_file(hdfs.project_path() + "TestJob/data/census/adult.data", flags="r") as f:
        assert pd.read_csv(f, names=cols)["Sex"].str.strip().tolist() == ["Male", "Female"]


def test_open_file_modes(project: Project) -> None:
    with hdfs.open_file("notes.txt", flags="wt") as f:
        f.write("héllo\n")
    with hdfs.open_file("notes.txt", flags="at") as f:
        f.write("world\n")
    with hdfs.open_file("notes.txt") as f:  # Hopsworks' default flags 'rw' read, binary
        assert f.read() == "héllo\nworld\n".encode()
    with hdfs.open_file("notes.txt", flags="rt") as f:
        assert f.readlines() == ["héllo\n", "world\n"]
    with hdfs.open_file("notes.txt", flags="rb", buff_size=4) as f:
        f.seek(7)
        assert f.read(5) == b"world"
    with pytest.raises(ValueError, match="flags 'x' are not supported"):
        hdfs.open_file("notes.txt", flags="x")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        hdfs.open_file("missing.txt", flags="r")


def test_dump_load(project: Project) -> None:
    hdfs.dump("first", "Resources/data.json")
    hdfs.dump(b'{"a": 1}', "Resources/data.json")  # replaces
    assert hdfs.load("Resources/data.json") == b'{"a": 1}'
    assert hdfs.load(f"{project.root}/Resources/data.json") == b'{"a": 1}'
    with pytest.raises(IsADirectoryError):
        hdfs.load("Resources")
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        hdfs.load("Resources/nothing.json")


def test_listing_glob_and_stat(cluster, project: Project) -> None:
    for name in ("a.csv", "b.csv", "c.txt", "sub/d.csv"):
        hdfs.dump(name, f"data/{name}")
    uri = f"{cluster.namenode_uri}{project.root}/data"
    assert sorted(hdfs.ls("data")) == [f"{uri}/{n}" for n in ("a.csv", "b.csv", "c.txt", "sub")]
    assert sorted(hdfs.ls("data", recursive=True)) == [
        f"{uri}/{n}" for n in ("a.csv", "b.csv", "c.txt", "sub", "sub/d.csv")]
    assert hdfs.ls("data/a.csv") == [f"{uri}/a.csv"]
    assert hdfs.glob("data/*.csv") == [f"{uri}/a.csv", f"{uri}/b.csv"]
    assert hdfs.glob("data/*.csv", recursive=True) == [f"{uri}/a.csv", f"{uri}/b.csv",
                                                       f"{uri}/sub/d.csv"]
    assert hdfs.glob("data/*.parquet") == []
    with pytest.raises(FileNotFoundError, match="nodir"):
        hdfs.glob("nodir/*.csv")
    entries = {e["name"]: e for e in hdfs.lsl("data")}
    a = entries[f"{uri}/a.csv"]
    assert (a["kind"], a["size"], a["owner"], a["path"]) == (
        "file", 5, project.user, f"{project.root}/data/a.csv")
    assert entries[f"{uri}/sub"]["kind"] == "directory"
    st = hdfs.stat("data/a.csv")
    assert stat_module.S_ISREG(st.st_mode) and st.st_size == 5 and st.st_uid == project.user
    assert st.st_mtime > 1.6e9 and st.replication >= 1 and st.name == f"{uri}/a.csv"
    assert stat_module.S_ISDIR(hdfs.stat("data").st_mode)
    with pytest.raises(FileNotFoundError, match="nothing"):
        hdfs.ls("nothing")


def test_exists_mkdir_delete_rmr(project: Project) -> None:
    assert hdfs.exists("") and hdfs.isdir("") and not hdfs.isfile("")
    hdfs.mkdir("a/b/c")
    hdfs.mkdir("a/b/c")  # exists already: fine
    hdfs.dump("x", "a/b/c/f")
    assert hdfs.isfile("a/b/c/f") and hdfs.isdir("a/b") and not hdfs.exists("a/zz")
    assert not hdfs.isdir("a/zz") and not hdfs.isfile("a/zz")
    with pytest.raises(OSError):
        hdfs.delete("a", recursive=False)  # not empty
    hdfs.delete("a/missing")  # no error, as in Hopsworks
    hdfs.rmr("a")
    assert not hdfs.exists("a")
    with pytest.raises(FileNotFoundError, match="/a"):
        hdfs.rmr("a")


def test_rename_move_cp(project: Project) -> None:
    hdfs.dump("one", "f1")
    hdfs.dump("two", "f2")
    with pytest.raises(FileExistsError, match="f2"):
        hdfs.rename("f1", "f2")
    hdfs.rename("f1", "g1")
    assert not hdfs.exists("f1") and hdfs.load("g1") == b"one"
    hdfs.mkdir("dir")
    hdfs.move("g1", "dir")  # into the directory
    assert hdfs.load("dir/g1") == b"one"
    hdfs.cp("f2", "dir")
    assert hdfs.load("dir/f2") == b"two" and hdfs.load("f2") == b"two"
    with pytest.raises(FileExistsError):
        hdfs.cp("f2", "dir/g1")
    hdfs.cp("f2", "dir/g1", overwrite=True)
    assert hdfs.load("dir/g1") == b"two"
    hdfs.cp("dir", "copy")  # a tree
    assert sorted(os.path.basename(p) for p in hdfs.ls("copy")) == ["f2", "g1"]
    with pytest.raises(OSError, match="into itself"):
        hdfs.cp("dir", "dir/inner")
    with pytest.raises(FileNotFoundError, match="missing"):
        hdfs.cp("missing", "x")


def test_copy_to_hdfs_and_back(project: Project, tmp_path: Path, monkeypatch) -> None:
    local = tmp_path / "my_data"
    (local / "sub").mkdir(parents=True)
    (local / "a.bin").write_bytes(os.urandom(3000))
    (local / "sub" / "b.txt").write_text("bee")
    hdfs.mkdir("Resources")
    uri = hdfs.copy_to_hdfs(str(local), "Resources")
    assert uri == hdfs.project_path("Resources/my_data")
    assert sorted(hdfs.ls("Resources/my_data", recursive=True)) == [
        uri + "/a.bin", uri + "/sub", uri + "/sub/b.txt"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        hdfs.copy_to_hdfs(str(local), "Resources")
    (local / "sub" / "b.txt").unlink()
    hdfs.copy_to_hdfs(str(local), "Resources", overwrite=True)
    assert not hdfs.exists("Resources/my_data/sub/b.txt") and hdfs.isdir("Resources/my_data/sub")
    assert hdfs.get_fs().clean_tmp("Resources", older_than=0, dry_run=True) == []  # no staging
    monkeypatch.chdir(tmp_path)  # a single file, relative to $CWD
    (tmp_path / "single.txt").write_text("one file")
    hdfs.copy_to_hdfs("single.txt", "Resources")
    assert hdfs.load("Resources/single.txt") == b"one file"

    out = tmp_path / "out"
    out.mkdir()
    got = hdfs.copy_to_local("Resources/my_data", str(out))
    assert got == str(out / "my_data")
    assert (out / "my_data" / "a.bin").read_bytes() == (local / "a.bin").read_bytes()
    assert (out / "my_data" / "sub").is_dir()
    (out / "my_data" / "a.bin").write_bytes(b"\0" * 3000)  # same size: treated as localized
    hdfs.copy_to_local("Resources/my_data", str(out))
    assert (out / "my_data" / "a.bin").read_bytes() == b"\0" * 3000
    hdfs.copy_to_local("Resources/my_data", str(out), overwrite=True)
    assert (out / "my_data" / "a.bin").read_bytes() == (local / "a.bin").read_bytes()
    assert hdfs.copy_to_local("Resources/single.txt") == str(tmp_path / "single.txt")
    assert sorted(os.listdir(out)) == ["my_data"]  # no staging left
    with pytest.raises(NotADirectoryError):
        hdfs.copy_to_local("Resources/single.txt", str(tmp_path / "single.txt"))
    with pytest.raises(FileNotFoundError):
        hdfs.copy_to_hdfs(str(tmp_path / "nope"), "Resources")


def test_permissions_between_projects(project: Project, monkeypatch, superuser_client) -> None:
    hdfs.dump("secret", "private.txt")
    hdfs.chmod("private.txt", 0o600)
    assert hdfs.stat("private.txt").st_mode & 0o777 == 0o600
    hdfs.chmod("private.txt", "640")
    assert hdfs.stat("private.txt").st_mode & 0o777 == 0o640
    with pytest.raises(ValueError, match="not octal"):
        hdfs.chmod("private.txt", "u+x")
    with pytest.raises(PermissionError):
        hdfs.chown("private.txt", "someone_else", None)  # only the superuser may give files away
    hdfs.close()
    other = new_project(superuser_client, monkeypatch, user="bob")  # now acting as bob
    try:
        assert hdfs.project_name() == other.name
        with pytest.raises(PermissionError):
            hdfs.load("private.txt", project=project.name)
        with pytest.raises(PermissionError):
            hdfs.dump("x", "intrusion.txt", project=project.name)
    finally:
        superuser_client.delete(other.root, recursive=True)


def test_capacity(cluster, project: Project) -> None:
    jmx = cluster.jmx("FSNamesystemState")
    assert hdfs.capacity() == pytest.approx(jmx["CapacityTotal"], rel=0.01)
