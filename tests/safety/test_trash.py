"""The trash against the real cluster, whose NameNode keeps deleted paths a day
(fs.trash.interval=1440, the local cluster's default): deletes by a project user through each
backend, the CLI, JupyterLab and the hops facade land in /user/<user>/.Trash/Current/<path> as
with `hdfs dfs -rm`, come back with restore, and what the trash cannot take is kept.

"As user X" runs in a subprocess (hdfs-native binds one HDFS user per process).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from click.testing import CliRunner

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin

BACKENDS = ("native", "arrow", "webhdfs")

# Runs the trash's round trip as $HADOOP_USER_NAME through backend argv[1] on file argv[2];
# prints one JSON object of what each step gave.
_ROUND_TRIP = r"""
import json, sys
from hopsfs_tools.fs import HopsFileSystem
fs = HopsFileSystem(backend=sys.argv[1], skip_instance_cache=True)
path = sys.argv[2]
out = {"interval": fs.trash_can.interval}
fs.pipe_file(path, b"first")
out["first"] = fs.trash(path)
out["gone"] = not fs.exists(path)
fs.pipe_file(path, b"second")
fs.rm(path, trash=True)
out["listed"] = sorted(e.location for e in fs.trash_list(path.rsplit("/", 1)[0]))
out["restored"] = fs.trash_restore(path)
out["content"] = fs.cat_file(path).decode()
fs.pipe_file(path + ".tmp", b"scratch")
fs.rm(path + ".tmp")  # fsspec's rm: for good
out["tmp_in_trash"] = [e.path for e in fs.trash_list(path + ".tmp")]
for name, call in [("restore_missing", lambda: fs.trash_restore(path + ".nothing")),
                   ("restore_onto_existing", lambda: fs.trash_restore(path))]:
    try:
        call()
    except OSError as e:
        out[name] = [type(e).__name__, str(e)]
out["still_in_trash"] = [e.path for e in fs.trash_list(path)]
fs.close()
print(json.dumps(out))
"""


def as_user(cluster: LocalCluster, user: str, script: str, *args: str) -> dict[str, Any]:
    """Run `script` as HDFS user `user` in a new process; the JSON it prints last."""
    env = {**os.environ, **cluster.env(), "HADOOP_USER_NAME": user}
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        env.pop(key, None)
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
def project(admin_fs: HopsFileSystem) -> Iterator[str]:
    """A new project (owner `<P>__ann`), deleted afterwards with its owner's home."""
    name = f"t{uuid.uuid4().hex[:8]}"
    admin.create_project(name, "ann", admin_fs)
    yield name
    admin_fs.rm(f"/Projects/{name}", recursive=True)
    if admin_fs.exists(f"/user/{name}__ann"):
        admin_fs.rm(f"/user/{name}__ann", recursive=True)


def test_project_create_makes_the_users_home(admin_fs: HopsFileSystem, project: str) -> None:
    home = admin_fs.info(f"/user/{project}__ann")
    assert (home["owner"], home["permission"]) == (f"{project}__ann", 0o700)


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_as_a_project_user(cluster: LocalCluster, project: str, backend: str) -> None:
    user = f"{project}__ann"
    path = f"/Projects/{project}/DataSets/train.csv"
    out = as_user(cluster, user, _ROUND_TRIP, backend, path)
    current = f"/user/{user}/.Trash/Current"
    assert out["interval"] == 1440  # the NameNode's server defaults
    assert out["first"] == current + path and out["gone"]
    # the second delete of the same name got Hadoop's millisecond suffix
    assert out["listed"][0] == current + path
    assert out["listed"][1].startswith(current + path) and out["listed"][1][-13:].isdigit()
    assert (out["restored"], out["content"]) == (path, "second")  # the latest delete comes back
    assert out["tmp_in_trash"] == []
    error, message = out["restore_missing"]
    assert error == "FileNotFoundError" and "not in the trash of" in message
    error, message = out["restore_onto_existing"]
    assert error == "FileExistsError" and "restore to another path" in message
    assert out["still_in_trash"] == [path]  # the failed restore moved nothing


@pytest.mark.parametrize("backend", BACKENDS)
def test_project_user_without_a_home_uses_the_projects_trash(
    cluster: LocalCluster, admin_fs: HopsFileSystem, project: str, backend: str
) -> None:
    user = f"{project}__ann"
    admin_fs.rm(f"/user/{user}", recursive=True)  # as a project made by another tool
    admin_fs.chmod("/user", 0o755)
    path = f"/Projects/{project}/DataSets/train.csv"
    out = as_user(cluster, user, _ROUND_TRIP, backend, path)
    current = f"/Projects/{project}/.Trash/{user}/Current"
    assert out["first"] == current + path and out["gone"]
    assert (out["restored"], out["content"]) == (path, "second")
    assert out["still_in_trash"] == [path]
    assert not admin_fs.exists(f"/user/{user}")


_NO_HOME = r"""
import json, sys
from hopsfs_tools.fs import HopsFileSystem
fs = HopsFileSystem(backend=sys.argv[1], skip_instance_cache=True)
path = sys.argv[2]
fs.pipe_file(path, b"keep me")
try:
    fs.rm(path, trash=True)
    out = {"error": None}
except OSError as e:
    out = {"error": type(e).__name__, "message": str(e)}
out["kept"] = fs.cat_file(path).decode()
fs.close()
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_home_keeps_the_data_and_says_what_to_do(
    cluster: LocalCluster, admin_fs: HopsFileSystem, hdfs_dir: str, backend: str
) -> None:
    admin_fs.makedirs("/user", exist_ok=True)  # the superuser's, 0755: no one else creates in it
    user = f"homeless{uuid.uuid4().hex[:6]}__bo"
    out = as_user(cluster, user, _NO_HOME, backend, f"{hdfs_dir}/data.bin")
    assert out["error"] == "PermissionError", out
    assert f"has no home /user/{user}" in out["message"] and "--skip-trash" in out["message"]
    assert out["kept"] == "keep me"


def test_quota_full_trash_keeps_the_data(
    admin_fs: HopsFileSystem, hdfs_dir: str, cluster: LocalCluster
) -> None:
    """A home whose namespace quota is used up cannot take the delete: error, data kept."""
    user = admin_fs.trash_can.user
    admin_fs.pipe_file(f"{hdfs_dir}/big.bin", b"x")
    admin_fs.trash(f"{hdfs_dir}/big.bin")  # the home and trash exist now
    home = f"/user/{user}"
    used = admin_fs.content_summary(home)
    count = used["file_count"] + used["directory_count"]
    admin_fs.pipe_file(f"{hdfs_dir}/more/data.bin", b"precious")
    set_quota(cluster, home, count)
    try:
        with pytest.raises(OSError, match="could not move .* to the trash, it is kept"):
            admin_fs.rm(f"{hdfs_dir}/more", recursive=True, trash=True)
    finally:
        set_quota(cluster, home, -1)
    assert admin_fs.cat_file(f"{hdfs_dir}/more/data.bin") == b"precious"


def set_quota(cluster: LocalCluster, path: str, names: int) -> None:
    """The namespace quota of `path` (-1: none), set as the superuser through WebHDFS SETQUOTA
    (what `hdfs dfsadmin -setQuota` does; no client library here sets quotas)."""
    query = urlencode(
        {
            "op": "SETQUOTA",
            "namespacequota": names,
            "storagespacequota": -1,
            "user.name": cluster.state.user,
        }
    )
    request = Request(f"{cluster.webhdfs_url}/webhdfs/v1{path}?{query}", method="PUT")
    with urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def test_cli_rm_trash_ls_restore_expunge(admin_fs: HopsFileSystem, hdfs_dir: str) -> None:
    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, list(args))

    admin_fs.pipe_file(f"{hdfs_dir}/d/a.txt", b"a")
    done = cli("rm", "-r", f"{hdfs_dir}/d")
    assert done.exit_code == 0 and "to the trash at /user/" in done.output, done.output
    listed = cli("trash", "ls", hdfs_dir)
    assert "Current" in listed.output and f"{hdfs_dir}/d/a.txt" in listed.output
    assert cli("trash", "restore", f"{hdfs_dir}/d/a.txt").exit_code == 0
    assert admin_fs.cat_file(f"{hdfs_dir}/d/a.txt") == b"a"
    bad = cli("trash", "restore", f"{hdfs_dir}/never-deleted")
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1
    assert "not in the trash" in bad.output and "trash ls" in bad.output
    skipped = cli("rm", "--skip-trash", f"{hdfs_dir}/d/a.txt")
    assert skipped.exit_code == 0 and skipped.output.startswith("Deleted"), skipped.output
    assert not any(e.path == f"{hdfs_dir}/d/a.txt" for e in admin_fs.trash_list(hdfs_dir))
    admin_fs.pipe_file(f"{hdfs_dir}/e.txt", b"e")
    cli("rm", f"{hdfs_dir}/e.txt")
    rolled = cli("trash", "expunge")  # Current becomes a checkpoint: still restorable
    assert rolled.exit_code == 0, rolled.output
    [entry] = admin_fs.trash_list(f"{hdfs_dir}/e.txt")
    assert entry.checkpoint != "Current" and entry.checkpoint[:12].isdigit()
    assert admin_fs.trash_restore(f"{hdfs_dir}/e.txt") == f"{hdfs_dir}/e.txt"


def test_jupyterlab_delete_goes_to_the_trash(cluster_env: dict[str, str], hdfs_dir: str) -> None:
    from hopsfs_tools.jupyter import HopsContentsManager

    cm = HopsContentsManager(root_dir=hdfs_dir)
    cm.fs.pipe_file(f"{hdfs_dir}/nb.ipynb", b"{}")
    asyncio.run(cm.delete_file("nb.ipynb"))
    assert not cm.fs.exists(f"{hdfs_dir}/nb.ipynb")
    assert [e.path for e in cm.fs.trash_list(f"{hdfs_dir}/nb.ipynb")] == [f"{hdfs_dir}/nb.ipynb"]


def test_facade_delete_and_rmr_go_to_the_trash(
    cluster_env: dict[str, str],
    admin_fs: HopsFileSystem,
    project: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hops-util-py's delete/rmr are permanent (pydoop); the facade's move to the trash."""
    from hopsfs_tools import hdfs
    from hopsfs_tools.fs.trash import Trash

    root, user = f"/Projects/{project}/DataSets", f"{project}__ann"
    for name in ("f.csv", "tree/g.csv", "gone.csv"):
        admin_fs.pipe_file(f"{root}/{name}", b"1")
    monkeypatch.setenv("HADOOP_USER_NAME", user)
    monkeypatch.setenv("HOPSFS_BACKEND", "webhdfs")  # this process's native client is the admin
    hdfs.delete("DataSets/f.csv")
    hdfs.rmr("DataSets/tree")
    hdfs.delete("DataSets/gone.csv", skip_trash=True)
    in_trash = {e.path for e in Trash(admin_fs.client, user).entries(root)}
    assert in_trash == {f"{root}/f.csv", f"{root}/tree/g.csv"}
    assert not any(admin_fs.exists(f"{root}/{n}") for n in ("f.csv", "tree", "gone.csv"))
