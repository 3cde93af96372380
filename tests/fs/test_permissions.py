"""Permissions between projects, read-only sharing and members writing each other's files, against
the real cluster with permissions and ACLs on.

Every "as user X" action runs in a subprocess (hdfs-native binds one HDFS user per process), through
each backend that can act as that user: native, webhdfs and arrow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hdfs_native import Client

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.config import write_site_xml
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin as project_admin

BACKENDS = ("native", "webhdfs", "arrow")

# Runs `ops` (a JSON list of [op, *paths]) through HopsFileSystem(backend) and prints one JSON
# result per op: {"ok": value} or {"error": exception class, "errno": ..., "message": str(e)}.
_ACT = r"""
import json, sys
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import hints

fs = HopsFileSystem(backend=sys.argv[1], skip_instance_cache=True)

def append(path):
    with fs.open(path, "ab") as f:
        f.write(b"+appended")

OPS = {
    "read": lambda p: fs.cat_file(p).decode(),
    "list": lambda p: sorted(fs.ls(p, detail=False)),
    "write": lambda p: fs.pipe_file(p, b"written by " + fs.config.user.encode()),
    "append": append,
    "delete": lambda p: fs.rm(p, recursive=True),
    "rename": lambda src, dst: fs.mv(src, dst),
    "mkdir": lambda p: fs.mkdir(p),
}
results = []
for op, *args in json.loads(sys.argv[2]):
    try:
        results.append({"ok": OPS[op](*args)})
    except OSError as e:
        results.append({"error": type(e).__name__, "errno": e.errno, "message": str(e),
                        "explained": str(hints.explain(e, fs.project))})
fs.close()
print(json.dumps(results))
"""


def act(
    cluster: LocalCluster, user: str, backend: str, *ops: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Run file operations as HDFS user `user` through `backend` in a new process."""
    env = {**os.environ, **cluster.env(), "HADOOP_USER_NAME": user}
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        env.pop(key, None)
    done = subprocess.run(
        [sys.executable, "-c", _ACT, backend, json.dumps(ops)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def ok(result: dict[str, Any]) -> Any:
    """The value of a successful op (fails the test with the error otherwise)."""
    assert "ok" in result, result
    return result["ok"]


def assert_denied(result: dict[str, Any], user: str, project: str) -> None:
    """A PermissionError naming the user and the project's path; the hint the facade and the
    CLI attach (hints.explain) says how to get access, the filesystem's own names no command."""
    assert result.get("error") == "PermissionError", result
    message, explained = result["message"], result["explained"]
    assert f"user={user}" in message and f"/Projects/{project}" in message, message
    assert "hopsfs-tools" not in message, message
    theirs = user.split("__")[0]
    assert f"`hopsfs-tools project share {project} DATASET --with {theirs}`" in explained
    assert f"`hopsfs-tools project add-member {project} {user.split('__')[1]}`" in explained


@dataclass(frozen=True)
class Projects:
    """Project `a` (owner alice, member amy) holding data, project `b` (owner bob)."""

    a: str
    b: str

    def path(self, rel: str) -> str:
        return f"/Projects/{self.a}/{rel}"


@pytest.fixture
def fs(cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[HopsFileSystem]:
    """A filesystem acting as the HDFS superuser (the administrator running project_admin.*)."""
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    admin = HopsFileSystem(skip_instance_cache=True)
    yield admin
    admin.close()


@pytest.fixture
def two(fs: HopsFileSystem, superuser_client: Client) -> Iterator[Projects]:
    """Projects a and b with some data in a (created as the superuser); deleted afterwards."""
    tag = uuid.uuid4().hex[:6]
    p = Projects(f"a{tag}", f"b{tag}")
    project_admin.create_project(p.a, "alice", fs)
    project_admin.add_member(p.a, "amy", fs)
    project_admin.create_project(p.b, "bob", fs)
    fs.pipe_file(p.path("Resources/data.csv"), b"x,y\n1,2\n")
    fs.pipe_file(p.path("Resources/sub/deep.txt"), b"deep")
    fs.pipe_file(p.path("Models/model.bin"), b"weights")
    fs.pipe_file(f"/Projects/{p.b}/Resources/mine.txt", b"bob's")
    yield p
    for name in (p.a, p.b):
        superuser_client.delete(f"/Projects/{name}", True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_projects_users_are_kept_out(
    cluster: LocalCluster, fs: HopsFileSystem, two: Projects, backend: str
) -> None:
    bob = f"{two.b}__bob"
    results = act(
        cluster,
        bob,
        backend,
        ("read", two.path("Resources/data.csv")),
        ("list", f"/Projects/{two.a}"),
        ("list", two.path("Resources")),
        ("write", two.path("Resources/new.csv")),
        ("append", two.path("Resources/data.csv")),
        ("delete", two.path("Resources/data.csv")),
        ("rename", f"/Projects/{two.b}/Resources/mine.txt", two.path("Resources/mine.txt")),
        ("mkdir", two.path("Resources/bobs")),
        ("read", f"/Projects/{two.b}/Resources/mine.txt"),  # bob's own project still works
    )
    for result in results[:-1]:
        assert_denied(result, bob, two.a)
    assert ok(results[-1]) == "bob's"
    assert fs.cat_file(two.path("Resources/data.csv")) == b"x,y\n1,2\n"  # nothing changed
    assert fs.ls(two.path("Resources"), detail=False) == [
        two.path("Resources/README.md"),
        two.path("Resources/data.csv"),
        two.path("Resources/sub"),
    ]


def test_group_entries_reach_no_project_user(
    cluster: LocalCluster, fs: HopsFileSystem, two: Projects
) -> None:
    """Why sharing uses named-user entries: the namenode's (shell-based) group mapping knows no
    `b__bob`, so a `group:b` entry does not let him in."""
    fs.modify_acl_entries(f"/Projects/{two.a}", [f"group:{two.b}:r-x"])
    fs.modify_acl_entries(two.path("Resources"), [f"group:{two.b}:r-x"])
    bob = f"{two.b}__bob"
    assert_denied(act(cluster, bob, "webhdfs", ("list", two.path("Resources")))[0], bob, two.a)


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_only_share(
    cluster: LocalCluster, fs: HopsFileSystem, two: Projects, backend: str
) -> None:
    share = project_admin.share_dataset(two.a, "Resources", two.b, fs=fs)
    bob, alice = f"{two.b}__bob", f"{two.a}__alice"
    assert share == project_admin.Share(
        two.a, "Resources", two.path("Resources"), two.b, True, (bob,)
    )
    # alice adds a file after sharing: it inherits the share (default ACL entries)
    ok(act(cluster, alice, "native", ("write", two.path("Resources/sub/later.txt")))[0])

    results = act(
        cluster,
        bob,
        backend,
        ("read", two.path("Resources/data.csv")),
        ("list", two.path("Resources")),
        ("read", two.path("Resources/sub/later.txt")),
        ("write", two.path("Resources/new.csv")),
        ("append", two.path("Resources/data.csv")),
        ("delete", two.path("Resources/data.csv")),
        ("rename", two.path("Resources/data.csv"), f"/Projects/{two.b}/Resources/data.csv"),
        ("rename", f"/Projects/{two.b}/Resources/mine.txt", two.path("Resources/mine.txt")),
        ("mkdir", two.path("Resources/sub/bobs")),
        ("list", f"/Projects/{two.a}"),  # the project root can be crossed, not listed
        ("read", two.path("Models/model.bin")),  # another dataset stays closed
    )
    assert ok(results[0]) == "x,y\n1,2\n"
    assert ok(results[1]) == [
        two.path("Resources/README.md"),
        two.path("Resources/data.csv"),
        two.path("Resources/sub"),
    ]
    assert ok(results[2]) == f"written by {alice}"
    for result in results[3:]:
        assert_denied(result, bob, two.a)
    assert fs.cat_file(two.path("Resources/data.csv")) == b"x,y\n1,2\n"
    assert project_admin.project_info(two.a, fs).members == (alice, f"{two.a}__amy")

    unshared = project_admin.unshare_dataset(two.a, "Resources", two.b, fs=fs)
    assert unshared == share
    after = act(
        cluster,
        bob,
        backend,
        ("read", two.path("Resources/data.csv")),
        ("read", two.path("Resources/sub/later.txt")),
    )
    for result in after:
        assert_denied(result, bob, two.a)
    for path in (f"/Projects/{two.a}", two.path("Resources"), two.path("Resources/sub/later.txt")):
        assert not any(bob in entry for entry in fs.acl_entries(path)), path
    assert project_admin.shared_with(two.b, fs) == []


def test_read_write_share_and_members_added_later(
    cluster: LocalCluster, fs: HopsFileSystem, two: Projects
) -> None:
    project_admin.share_dataset(two.a, "Resources", two.b, fs=fs)
    project_admin.share_dataset(two.a, "Models", two.b, read_only=False, fs=fs)
    own = 1 + 2 * len(project_admin.DATASETS) + 1  # b's root, datasets, their READMEs, mine.txt
    # + a's Resources and Models trees (with their READMEs)
    assert project_admin.add_member(two.b, "ben", fs) == own + 5 + 3
    ben, alice = f"{two.b}__ben", f"{two.a}__alice"
    assert [(s.dataset, s.read_only, s.users) for s in project_admin.shared_with(two.b, fs)] == [
        ("Models", False, (f"{two.b}__ben", f"{two.b}__bob")),
        ("Resources", True, (f"{two.b}__ben", f"{two.b}__bob")),
    ]
    results = act(
        cluster,
        ben,
        "native",
        ("read", two.path("Resources/sub/deep.txt")),
        ("write", two.path("Resources/ben.txt")),
        ("write", two.path("Models/ben.bin")),
        ("append", two.path("Models/model.bin")),
        ("mkdir", two.path("Models/runs")),
    )
    assert ok(results[0]) == "deep"
    assert_denied(results[1], ben, two.a)
    for result in results[2:]:
        ok(result)
    assert fs.cat_file(two.path("Models/model.bin")) == b"weights+appended"
    # what ben wrote into a's dataset stays a's: alice can rewrite and delete it
    results = act(
        cluster,
        alice,
        "native",
        ("read", two.path("Models/ben.bin")),
        ("write", two.path("Models/ben.bin")),
        ("delete", two.path("Models/runs")),
    )
    assert ok(results[0]) == f"written by {ben}"
    for result in results[1:]:
        ok(result)

    # unsharing one dataset keeps the way through the project root for the other
    project_admin.unshare_dataset(two.a, "Models", two.b, fs=fs)
    assert any(ben in e for e in fs.acl_entries(f"/Projects/{two.a}"))
    assert ok(act(cluster, ben, "webhdfs", ("read", two.path("Resources/data.csv")))[0])
    project_admin.unshare_dataset(two.a, "Resources", two.b, fs=fs)
    assert not any(two.b in e for e in fs.acl_entries(f"/Projects/{two.a}"))


def test_share_refuses_what_is_not_a_dataset(fs: HopsFileSystem, two: Projects) -> None:
    with pytest.raises(ValueError, match="datasets are the directories directly in"):
        project_admin.share_dataset(two.a, "Resources/sub", two.b, fs=fs)
    with pytest.raises(FileNotFoundError, match=f"project {two.a} has no dataset Nope"):
        project_admin.share_dataset(two.a, "Nope", two.b, fs=fs)
    with pytest.raises(FileNotFoundError, match=f"no project {two.b}x"):
        project_admin.share_dataset(two.a, "Resources", f"{two.b}x", fs=fs)
    with pytest.raises(ValueError, match="its members can already use it"):
        project_admin.share_dataset(two.a, "Resources", two.a, fs=fs)
    with pytest.raises(ValueError, match=f"is not shared with project {two.b}"):
        project_admin.unshare_dataset(two.a, "Resources", two.b, fs=fs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_members_write_each_others_files(
    cluster: LocalCluster, fs: HopsFileSystem, two: Projects, backend: str
) -> None:
    """As on Hopsworks, members of one project work in each other's directories: what one
    creates gets the project's default ACL with a mask that lets the others write (dirs 0770,
    files 0660), not the umask's 0755/0644."""
    alice, amy = f"{two.a}__alice", f"{two.a}__amy"
    shared = two.path("Resources/team")
    for result in act(cluster, alice, backend, ("mkdir", shared), ("write", f"{shared}/a.txt")):
        ok(result)
    assert fs.info(shared)["permission"] == 0o770
    assert fs.info(f"{shared}/a.txt")["permission"] == 0o660
    assert (fs.info(f"{shared}/a.txt")["owner"], fs.info(f"{shared}/a.txt")["group"]) == (
        alice,
        two.a,
    )
    results = act(
        cluster,
        amy,
        backend,
        ("append", f"{shared}/a.txt"),
        ("read", f"{shared}/a.txt"),
        ("write", f"{shared}/b.txt"),
        ("mkdir", f"{shared}/amy"),
        ("delete", f"{shared}/a.txt"),
    )
    assert ok(results[1]) == f"written by {alice}+appended"
    for result in results:
        ok(result)
    assert fs.ls(shared, detail=False) == [f"{shared}/amy", f"{shared}/b.txt"]
    assert ok(act(cluster, alice, backend, ("delete", f"{shared}/b.txt"))[0]) is None


@pytest.mark.parametrize("backend", ["native", "webhdfs"])
def test_umask_applies_without_default_acl(
    cluster: LocalCluster, hdfs_dir: str, tmp_path: Path, fs: HopsFileSystem, backend: str
) -> None:
    """Outside ACL'd directories new files get 0666/0777 minus fs.permissions.umask-mode."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "hdfs-site.xml").write_bytes((cluster.conf_dir / "hdfs-site.xml").read_bytes())
    write_site_xml(
        conf / "core-site.xml",
        {"fs.defaultFS": cluster.namenode_uri, "fs.permissions.umask-mode": "027"},
    )
    client = HopsFileSystem(backend=backend, conf_dir=str(conf), skip_instance_cache=True)
    try:
        assert client.config.umask == 0o027
        client.mkdir(f"{hdfs_dir}/d/e")
        client.pipe_file(f"{hdfs_dir}/d/f", b"x")
        client.mkdir(f"{hdfs_dir}/explicit", permission=0o701)
    finally:
        client.close()
    modes = {p: fs.info(f"{hdfs_dir}/{p}")["permission"] for p in ("d", "d/e", "d/f", "explicit")}
    assert modes == {"d": 0o750, "d/e": 0o750, "d/f": 0o640, "explicit": 0o701}


@pytest.mark.parametrize("backend", BACKENDS)
def test_acl_entries_added_and_removed_through_every_backend(
    fs: HopsFileSystem, superuser_client: Client, hdfs_dir: str, backend: str
) -> None:
    """share/unshare rest on modify_acl_entries / remove_acl_entries: both work on each backend."""
    admin = HopsFileSystem(backend=backend, skip_instance_cache=True)
    try:
        admin.modify_acl_entries(
            hdfs_dir, ["user:x__one:r-x", "user:x__two:rwx", "default:user:x__one:r-x"]
        )
        assert {"user:x__one:r-x", "user:x__two:rwx"} <= set(admin.acl_entries(hdfs_dir))
        admin.remove_acl_entries(hdfs_dir, ["user:x__one", "default:user:x__one"])
        assert not any("x__one" in e for e in admin.acl_entries(hdfs_dir))
        assert "user:x__two:rwx" in admin.acl_entries(hdfs_dir)
    finally:
        admin.close()
    entries = superuser_client.get_acl_status(hdfs_dir).entries
    assert not any(e.name == "x__one" for e in entries)  # the default entry is gone too
    assert any(e.name == "x__two" and e.scope == "access" for e in entries)
