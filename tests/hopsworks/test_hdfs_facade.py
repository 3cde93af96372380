"""hops-util-py's `hops.hdfs` (current master, hops/hdfs.py) reproduced by `hopsfs_tools.hdfs`:
one compatibility test per function, written from hops' source and docstrings, against the real
cluster, acting as a project user "P__alice"."""

from __future__ import annotations

import inspect
import os
import sys
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hdfs_native import Client

from hopsfs_tools import hdfs
from hopsfs_tools.config.project import Project

# The signatures in hops-util-py's hops/hdfs.py (master), copied from its source. Where hops
# defines a name twice (isdir, ls, stat), Python keeps the last definition: that one is listed.
HOPS_SIGNATURES = {
    "get_plain_path": "abs_path",
    "project_id": "",
    "project_user": "",
    "project_name": "",
    "project_path": "project=None, exclude_nn_addr=False",
    "get": "",
    "get_fs": "",
    "copy_to_hdfs": "local_path, relative_hdfs_path, overwrite=False, project=None",
    "delete": "hdfs_path, recursive=False",
    "copy_to_local": "hdfs_path, local_path='', overwrite=False, project=None",
    "cp": "src_hdfs_path, dest_hdfs_path, overwrite=False",
    "glob": "hdfs_path, recursive=False, project=None",
    "ls": "hdfs_path, recursive=False, exclude_nn_addr=False",
    "lsl": "hdfs_path, recursive=False, project=None",
    "rmr": "hdfs_path, project=None",
    "mkdir": "hdfs_path, project=None",
    "move": "src, dest",
    "rename": "src, dest",
    "chown": "hdfs_path, user, group, project=None",
    "chmod": "hdfs_path, mode, project=None",
    "stat": "hdfs_path",
    "access": "hdfs_path, mode, project=None",
    "open_file": "hdfs_path, project=None, flags='rw', buff_size=0",
    "close": "",
    "exists": "hdfs_path, project=None",
    "isdir": "hdfs_path, project=None",
    "isfile": "hdfs_path, project=None",
    "capacity": "",
    "dump": "data, hdfs_path",
    "load": "hdfs_path",
    "abs_path": "hdfs_path",
    "add_module": "hdfs_path, project=None",
    "is_tls_enabled": "",
    "get_webhdfs_host": "",
    "get_webhdfs_port": "",
}
# Functions hops gives no `project` argument that take one here, as the last keyword.
TRASH_ADDED = {"delete", "rmr"}  # keyword-only skip_trash: hops' permanent delete (docs/safety.md)
PROJECT_ADDED = {"delete", "cp", "ls", "move", "rename", "stat", "dump", "load", "abs_path"}


def new_project(client: Client, monkeypatch: pytest.MonkeyPatch, user: str = "alice") -> Project:
    """A fresh /Projects/<name> owned by "<name>__<user>", who becomes the acting user."""
    name = f"t{uuid.uuid4().hex[:10]}"
    project = Project(name, f"{name}__{user}")
    client.mkdirs("/Projects", permission=0o755, create_parent=True)
    client.mkdirs(project.root, permission=0o750, create_parent=True)
    client.set_owner(project.root, owner=project.user)
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSWORKS_PROJECT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", project.user)
    return project


@pytest.fixture
def project(
    cluster_env, superuser_client: Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    created = new_project(superuser_client, monkeypatch)
    yield created
    hdfs.close()  # hdfs-native binds one user per process: release it for the next test
    superuser_client.delete(created.root, recursive=True)


@pytest.fixture
def uri(cluster, project: Project) -> str:
    """The project's root URI, without the trailing slash."""
    return f"{cluster.namenode_uri}{project.root}"


def _bare(signature: inspect.Signature) -> inspect.Signature:
    """`signature` without annotations (hops has none)."""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return signature.replace(parameters=params, return_annotation=inspect.Signature.empty)


@pytest.mark.parametrize("name", sorted(HOPS_SIGNATURES))
def test_signature_is_hops(name: str) -> None:
    expected = inspect.signature(eval(f"lambda {HOPS_SIGNATURES[name]}: None"))
    if name in PROJECT_ADDED:
        extra = inspect.Parameter("project", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
        expected = expected.replace(parameters=[*expected.parameters.values(), extra])
    if name in TRASH_ADDED:
        extra = inspect.Parameter("skip_trash", inspect.Parameter.KEYWORD_ONLY, default=False)
        expected = expected.replace(parameters=[*expected.parameters.values(), extra])
    assert _bare(inspect.signature(getattr(hdfs, name))) == expected


def test_project_name_user_id_and_path(cluster, project: Project, uri: str, monkeypatch) -> None:
    assert (hdfs.project_name(), hdfs.project_user()) == (project.name, project.user)
    assert hdfs.project_path() == uri + "/"  # "hdfs://nn:port/Projects/P/", trailing slash
    assert hdfs.project_path(hdfs.project_name()) == hdfs.project_path()
    assert hdfs.project_path("other") == f"{cluster.namenode_uri}/Projects/other/"
    assert hdfs.project_path(exclude_nn_addr=True) == f"hdfs://{project.root}/"
    assert hdfs.project_path("labs", True) == "hdfs:///Projects/labs/"
    assert hdfs.project_id() == str(zlib.crc32(project.name.encode()))  # stable, documented
    monkeypatch.setenv("HOPSWORKS_PROJECT_ID", "119")
    assert hdfs.project_id() == "119"
    monkeypatch.setenv("HOPSWORKS_PROJECT_NAME", "labs")
    assert hdfs.project_name() == "labs"
    monkeypatch.delenv("HOPSWORKS_PROJECT_NAME")
    monkeypatch.delenv("HADOOP_USER_NAME")
    with pytest.raises(ValueError, match="No project set.*HOPSFS_PROJECT"):
        hdfs.project_path()


def test_path_rules(cluster, project: Project, uri: str) -> None:
    """Under /Projects: absolute; anything else, with or without "/": project-relative; hdfs://
    and hopsfs://host:port URLs reduced to their path."""
    hdfs.mkdir("/Resources")  # hops: /Projects/P/Resources, not /Resources
    hdfs.dump(b"iris", "/Resources/iris.csv")
    assert hdfs.load("Resources/iris.csv") == b"iris"
    assert hdfs.load(f"{project.root}/Resources/iris.csv") == b"iris"
    nn = cluster.namenode_uri.removeprefix("hdfs://")
    assert hdfs.load(f"hdfs://{nn}{project.root}/Resources/iris.csv") == b"iris"
    assert hdfs.load(f"hopsfs://{nn}{project.root}/Resources/iris.csv") == b"iris"
    assert hdfs.load(f"hdfs://{project.root}/Resources/iris.csv") == b"iris"
    assert hdfs.load(hdfs.project_path() + "Resources/iris.csv") == b"iris"
    assert hdfs.get_plain_path(f"hdfs://10.0.2.15:8020{project.root}/Models/") == (
        f"{project.root}/Models/"
    )
    assert hdfs.get_plain_path("/Resources/iris.csv") == f"{project.root}/Resources/iris.csv"
    assert hdfs.abs_path("Resources/iris.csv") == f"{uri}/Resources/iris.csv"
    assert hdfs.abs_path("/Resources/iris.csv") == f"{uri}/Resources/iris.csv"
    assert hdfs.abs_path(f"{project.root}/Resources") == f"hdfs://{project.root}/Resources"
    given = f"hdfs://{nn}{project.root}/Resources"
    assert hdfs.abs_path(given) == given  # URLs come back unchanged
    with pytest.raises(FileNotFoundError, match="nothing"):
        hdfs.abs_path("Resources/nothing")  # hops checks that the path exists
    with pytest.raises(ValueError, match="scheme 's3'"):
        hdfs.exists("s3://bucket/key")


def test_open_file_like_the_hopsworks_pandas_example(project: Project) -> None:
    hdfs.mkdir("TestJob/data/census")
    with hdfs.open_file("TestJob/data/census/adult.data", flags="w") as f:
        f.write(b"39, State-gov, Male\n50, ?, Female\n")
    cols = ["Age", "Occupation", "Sex"]
    h = hdfs.get_fs()
    with h.open_file(hdfs.project_path() + "TestJob/data/census/adult.data", "r") as f:
        frame = pd.read_csv(f, names=cols, sep=r"\s*,\s*", engine="python", na_values="?")
    assert frame["Age"].tolist() == [39, 50]
    assert frame["Occupation"].isna().tolist() == [False, True]


def test_open_file_flags(project: Project) -> None:
    with hdfs.open_file("notes.txt", flags="wt") as f:
        f.write("héllo\n")
    with hdfs.open_file("notes.txt", flags="at") as f:
        f.write("world\n")
    with hdfs.open_file("notes.txt") as f:  # hops' default flags 'rw' read, binary (pydoop)
        assert f.read() == "héllo\nworld\n".encode()
    with hdfs.open_file("notes.txt", flags="rt") as f:
        assert f.readlines() == ["héllo\n", "world\n"]
    with hdfs.open_file("notes.txt", flags="r", buff_size=4) as f:
        f.seek(7)
        assert f.read(5) == b"world"
    with pytest.raises(ValueError, match="mode 'x' is not supported"):
        hdfs.open_file("notes.txt", flags="x")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        hdfs.open_file("missing.txt", flags="r")


def test_get_fs_is_a_pydoop_handle_and_an_fsspec_filesystem(
    cluster, project: Project, uri: str
) -> None:
    h = hdfs.get_fs()
    assert hdfs.get() is h and hdfs.get_fs() is h
    assert (h.host, h.port, h.user) == (
        *cluster.namenode_uri[7:].split(":")[:1],
        int(cluster.namenode_uri.rsplit(":", 1)[1]),
        project.user,
    )
    h.create_directory(f"{project.root}/logs/run")
    with h.open_file(f"{project.root}/logs/run/output.log", flags="w") as f:  # hops' logger
        f.write(b"epoch 1\n")
    with h.open_file(f"{project.root}/logs/run/output.log", mode="a") as f:
        f.write(b"epoch 2\n")
    with h.open_file(f"{project.root}/logs/run/output.log", "rt") as f:
        assert f.read() == "epoch 1\nepoch 2\n"
    info = h.get_path_info(f"{project.root}/logs/run/output.log")
    assert (info["name"], info["kind"], info["size"], info["owner"]) == (
        f"{uri}/logs/run/output.log",
        "file",
        16,
        project.user,
    )
    assert {"permissions", "last_mod", "last_access", "block_size", "replication"} <= set(info)
    assert [e["name"] for e in h.list_directory(f"{project.root}/logs")] == [f"{uri}/logs/run"]
    assert [i["name"] for i in h.walk(f"{project.root}/logs")] == [
        f"{uri}/logs",
        f"{uri}/logs/run",
        f"{uri}/logs/run/output.log",
    ]
    h.rename(f"{project.root}/logs/run/output.log", f"{project.root}/logs")  # into the dir
    assert h.exists(f"{project.root}/logs/output.log")
    h.chmod(f"{project.root}/logs/output.log", "go-rwx")
    assert h.get_path_info(f"{project.root}/logs/output.log")["permissions"] == 0o600
    with pytest.raises(PermissionError):
        h.chown(f"{project.root}/logs/output.log", "bob")  # a new owner needs the superuser
    h.set_replication(f"{project.root}/logs/output.log", 2)
    assert h.get_path_info(f"{project.root}/logs/output.log")["replication"] == 2
    assert h.get_hosts(f"{project.root}/logs/output.log", 0, 16) and all(
        isinstance(host, str)
        for hosts in h.get_hosts(f"{project.root}/logs/output.log", 0, 16)
        for host in hosts
    )
    assert 0 < h.used() < h.capacity()
    with pytest.raises(OSError):
        h.delete(f"{project.root}/logs", recursive=False)  # not empty
    h.delete(f"{project.root}/logs")  # pydoop: recursive by default
    assert not h.exists(f"{project.root}/logs")
    # ... and still the fsspec filesystem: fsspec's own walk/find/du, and pandas with it
    h.pipe_file(f"{project.root}/t.csv", b"a\n1\n")
    assert h.find(project.root) == [f"{project.root}/t.csv"]
    with h.open(f"{project.root}/t.csv") as f:
        assert pd.read_csv(f)["a"].tolist() == [1]


def test_dump_load(project: Project) -> None:
    assert hdfs.dump("first", "Resources/data.json") is None
    hdfs.dump(b'{"a": 1}', "Resources/data.json")  # replaces
    assert hdfs.load("Resources/data.json") == b'{"a": 1}'
    with pytest.raises(IsADirectoryError):
        hdfs.load("Resources")
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        hdfs.load("Resources/nothing.json")


def test_ls_lsl_glob(project: Project, uri: str) -> None:
    for name in ("a.csv", "b.csv", "c.txt", "sub/d.csv"):
        hdfs.dump(name, f"data/{name}")
    assert hdfs.ls("data") == [f"{uri}/data/{n}" for n in ("a.csv", "b.csv", "c.txt", "sub")]
    assert hdfs.ls("data", True) == [
        f"{uri}/data/{n}" for n in ("a.csv", "b.csv", "c.txt", "sub", "sub/d.csv")
    ]
    assert hdfs.ls(f"{uri}/data", exclude_nn_addr=True) == hdfs.ls("data")
    assert hdfs.ls("data/a.csv") == [f"{uri}/data/a.csv"]
    assert hdfs.glob("data/*.csv") == [f"{uri}/data/a.csv", f"{uri}/data/b.csv"]
    assert hdfs.glob("data/*.csv", recursive=True) == [
        f"{uri}/data/a.csv",
        f"{uri}/data/b.csv",
        f"{uri}/data/sub/d.csv",
    ]
    assert hdfs.glob("data/?.txt") == [f"{uri}/data/c.txt"]
    assert hdfs.glob("data/*.parquet") == []
    assert hdfs.glob("data/*/d.csv") == [f"{uri}/data/sub/d.csv"]
    with pytest.raises(FileNotFoundError, match="nodir"):
        hdfs.glob("nodir/*.csv")
    entries = {e["name"]: e for e in hdfs.lsl("data")}
    a = entries[f"{uri}/data/a.csv"]
    assert (a["kind"], a["size"], a["owner"], a["path"]) == (
        "file",
        5,
        project.user,
        f"{project.root}/data/a.csv",
    )
    assert entries[f"{uri}/data/sub"]["kind"] == "directory"
    assert [e["name"] for e in hdfs.lsl("data", recursive=True)] == hdfs.ls("data", True)
    with pytest.raises(FileNotFoundError, match="nothing"):
        hdfs.ls("nothing")


def test_stat_chmod_access(project: Project, uri: str) -> None:
    hdfs.dump("abc", "f.txt")
    st = hdfs.stat("f.txt")
    assert (st.name, st.kind, st.st_size, st.st_uid, st.st_nlink) == (
        f"{uri}/f.txt",
        "file",
        3,
        project.user,
        1,
    )
    assert st.st_mtime > 1.6e9 and st.st_ctime == 0 and st.replication >= 1
    assert st.st_blocks == 1 and st.st_blksize > 0 and hdfs.stat("").kind == "directory"
    hdfs.chmod("f.txt", 0o640)
    assert hdfs.stat("f.txt").st_mode == 0o640  # the permission value alone, as pydoop
    hdfs.chmod("f.txt", 750)  # decimal 750 = 0o1356: stored and returned as given
    assert hdfs.stat("f.txt").st_mode == 750
    hdfs.chmod("f.txt", "600")
    assert hdfs.stat("f.txt").st_mode == 0o600
    hdfs.chmod("f.txt", "g+r")
    assert hdfs.stat("f.txt").st_mode == 0o640
    hdfs.chmod("f.txt", "u+x,o=r")
    assert hdfs.stat("f.txt").st_mode == 0o744
    with pytest.raises(ValueError, match="neither an int, octal"):
        hdfs.chmod("f.txt", "rwx")
    assert hdfs.access("f.txt", os.R_OK | os.W_OK | os.X_OK)  # owner bits: rwx
    hdfs.chmod("f.txt", 0o444)
    assert hdfs.access("f.txt", os.R_OK) and not hdfs.access("f.txt", os.W_OK)
    with pytest.raises(FileNotFoundError):
        hdfs.stat("nothing")


def test_exists_isdir_isfile_mkdir_delete_rmr(project: Project) -> None:
    assert hdfs.exists("") and hdfs.isdir("") and not hdfs.isfile("")
    assert hdfs.mkdir("a/b/c") is None
    hdfs.mkdir("a/b/c")  # exists already: fine
    hdfs.dump("x", "a/b/c/f")
    assert hdfs.isfile("a/b/c/f") and hdfs.isdir("a/b") and not hdfs.exists("a/zz")
    with pytest.raises(FileNotFoundError, match="a/zz"):  # hops: IOError "path ... not found"
        hdfs.isdir("a/zz")
    with pytest.raises(FileNotFoundError, match="a/zz"):
        hdfs.isfile("a/zz")
    with pytest.raises(OSError):
        hdfs.delete("a", recursive=False)  # not empty
    with pytest.raises(FileNotFoundError, match="a/missing"):
        hdfs.delete("a/missing")  # hops checks that the path exists first
    hdfs.delete("a/b/c/f")
    assert not hdfs.exists("a/b/c/f")
    hdfs.rmr("a")
    assert not hdfs.exists("a")
    with pytest.raises(FileNotFoundError, match="/a"):
        hdfs.rmr("a")


def test_rename_and_move_into_existing_directories(project: Project) -> None:
    hdfs.dump("one", "f1")
    hdfs.dump("two", "f2")
    with pytest.raises(FileExistsError, match="f2"):
        hdfs.rename("f1", "f2")
    hdfs.rename("f1", "g1")
    assert not hdfs.exists("f1") and hdfs.load("g1") == b"one"
    hdfs.mkdir("dir")
    hdfs.rename("g1", "dir")  # HDFS rename onto a directory moves into it
    assert hdfs.load("dir/g1") == b"one"
    hdfs.move("f2", "/dir")  # "/dir" is project-relative
    assert hdfs.load("dir/f2") == b"two"
    with pytest.raises(FileNotFoundError, match="missing"):
        hdfs.move("missing", "dir")


def test_cp(project: Project) -> None:
    hdfs.dump("two", "f2")
    hdfs.mkdir("dir")
    assert hdfs.cp("f2", "dir") is None  # into the directory
    assert hdfs.load("dir/f2") == b"two" and hdfs.load("f2") == b"two"
    hdfs.cp("f2", "new/deep/f3")  # missing parents are created, as pydoop's cp
    assert hdfs.load("new/deep/f3") == b"two"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        hdfs.cp("f2", "dir")
    hdfs.dump("changed", "f2")
    hdfs.cp("f2", "dir", overwrite=True)
    assert hdfs.load("dir/f2") == b"changed"
    hdfs.cp("dir", "copy")  # a tree
    assert sorted(os.path.basename(p) for p in hdfs.ls("copy")) == ["f2"]
    with pytest.raises(ValueError, match="into itself"):
        hdfs.cp("dir", "dir/inner")
    with pytest.raises(FileNotFoundError, match="missing"):
        hdfs.cp("missing", "x")


def test_copy_to_hdfs_as_hops(project: Project, tmp_path: Path, monkeypatch) -> None:
    local = tmp_path / "my_data"
    (local / "sub").mkdir(parents=True)
    (local / "a.bin").write_bytes(os.urandom(3000))
    (local / "sub" / "b.txt").write_text("bee")
    hdfs.mkdir("Resources")
    assert hdfs.copy_to_hdfs(str(local), "Resources") is None  # into an existing directory
    root = hdfs.project_path() + "Resources/my_data"
    assert hdfs.ls("Resources/my_data", recursive=True) == [
        root + "/a.bin",
        root + "/sub",
        root + "/sub/b.txt",
    ]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        hdfs.copy_to_hdfs(str(local), "Resources")
    (local / "sub" / "b.txt").unlink()
    hdfs.copy_to_hdfs(str(local), "Resources", overwrite=True)  # replaces the tree
    assert not hdfs.exists("Resources/my_data/sub/b.txt") and hdfs.isdir("Resources/my_data/sub")
    assert hdfs.get_fs().clean_tmp("Resources", older_than=0, dry_run=True) == []  # no staging
    monkeypatch.chdir(tmp_path)  # relative to $CWD
    (tmp_path / "single.txt").write_text("one file")
    hdfs.copy_to_hdfs("single.txt", "Resources/new_dir", overwrite=True)  # a missing dir: into it
    assert hdfs.isdir("Resources/new_dir") and hdfs.load("Resources/new_dir/single.txt") == (
        b"one file"
    )
    hdfs.copy_to_hdfs("single.txt", "Resources/renamed.txt")  # missing, no overwrite: that path
    assert hdfs.load("Resources/renamed.txt") == b"one file"
    with pytest.raises(FileExistsError):
        hdfs.copy_to_hdfs("single.txt", "Resources/renamed.txt")  # an existing file (pydoop)
    with pytest.raises(FileNotFoundError):
        hdfs.copy_to_hdfs(str(tmp_path / "nope"), "Resources")


def test_copy_to_local(project: Project, tmp_path: Path, monkeypatch) -> None:
    local = tmp_path / "my_data"
    (local / "sub").mkdir(parents=True)
    (local / "a.bin").write_bytes(os.urandom(3000))
    hdfs.copy_to_hdfs(str(local), "Resources/my_data")
    hdfs.dump("one file", "Resources/single.txt")
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
    (out / "my_data" / "extra").write_text("x")  # a different local copy is replaced (hops)
    hdfs.copy_to_local("Resources/my_data", str(out))
    assert not (out / "my_data" / "extra").exists()
    monkeypatch.chdir(tmp_path)
    assert hdfs.copy_to_local("Resources/single.txt") == str(tmp_path / "single.txt")
    assert sorted(os.listdir(out)) == ["my_data"]  # no staging left
    with pytest.raises(NotADirectoryError):
        hdfs.copy_to_local("Resources/single.txt", str(tmp_path / "single.txt"))


def test_chown_and_other_projects(cluster, project: Project, monkeypatch, superuser_client) -> None:
    hdfs.dump("secret", "private.txt")
    hdfs.chmod("private.txt", 0o600)
    with pytest.raises(PermissionError):
        hdfs.chown("private.txt", "someone_else", None)  # only the superuser may give files away
    hdfs.close()
    monkeypatch.setenv("HOPSFS_PROJECT", project.name)
    monkeypatch.setenv("HADOOP_USER_NAME", cluster.state.user)  # the superuser, in the project
    hdfs.chown("private.txt", None, "staff")  # the group only (None keeps the owner)
    assert (hdfs.stat("private.txt").st_uid, hdfs.stat("private.txt").st_gid) == (
        project.user,
        "staff",
    )
    hdfs.chown("private.txt", project.user, project.name)
    assert hdfs.stat("private.txt").st_gid == project.name
    hdfs.close()
    monkeypatch.delenv("HOPSFS_PROJECT")
    other = new_project(superuser_client, monkeypatch, user="bob")  # now acting as bob
    try:
        assert hdfs.project_name() == other.name
        with pytest.raises(PermissionError, match=f"project add-member {project.name} bob"):
            hdfs.load("private.txt", project=project.name)  # the facade attaches the hint
        with pytest.raises(PermissionError):
            hdfs.dump("x", "intrusion.txt", project=project.name)
    finally:
        superuser_client.delete(other.root, recursive=True)


def test_capacity(cluster, project: Project) -> None:
    jmx = cluster.jmx("FSNamesystemState")
    assert hdfs.capacity() == pytest.approx(jmx["CapacityTotal"], rel=0.01)
    assert hdfs.get_fs().capacity() == hdfs.capacity()


def test_add_module(project: Project, tmp_path: Path, monkeypatch) -> None:
    name = f"mod_{uuid.uuid4().hex[:8]}"
    hdfs.dump("ANSWER = 42\n", f"Resources/{name}.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    local = hdfs.add_module(f"Resources/{name}.py")
    assert local == str(tmp_path / "localized_deps" / f"{name}.py")
    assert sys.modules[name].ANSWER == 42
    hdfs.dump("ANSWER = 43\n", f"Resources/{name}.py")
    hdfs.add_module(f"Resources/{name}.py")  # reloaded
    assert sys.modules[name].ANSWER == 43
    with pytest.raises(ValueError, match=r"not a \.py or \.ipynb file"):
        hdfs.add_module("Resources")
    sys.modules.pop(name)
    nbformat = pytest.importorskip("nbformat")  # the notebooks extra
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("def twice(x):\n    return 2 * x")]
    )
    hdfs.dump(nbformat.writes(notebook), f"Resources/{name}_nb.ipynb")
    converted = hdfs.add_module(f"Resources/{name}_nb.ipynb")
    assert converted == str(tmp_path / "localized_deps" / f"{name}_nb.py")
    assert sys.modules[f"{name}_nb"].twice(21) == 42
    sys.modules.pop(f"{name}_nb")


def test_tls_and_webhdfs_address(cluster, project: Project) -> None:
    assert hdfs.is_tls_enabled() is None  # the test cluster's core-site.xml does not set it
    web = cluster.env()["HOPSFS_WEBHDFS_URL"]
    assert hdfs.get_webhdfs_host() == web.split("://")[1].split(":")[0]
    assert hdfs.get_webhdfs_port() == web.rsplit(":", 1)[1]
