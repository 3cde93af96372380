"""Jupyter's REST contents API served from HDFS by real `hopsfs-tools jupyter` server processes:
two members of project A (alice, amy) and a user of project B (bob), against the real cluster.

The servers start once for the module; every test works in its own directory of A's Jupyter
dataset (or its own file).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
import requests
from hdfs_native import Client
from jupyter_servers import Server, server_env, start

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin as projects

TEMP = ".hopsfs-tmp-"


class Team:
    """Projects A (alice owns, amy is a member) and B (bob), A's DataSets shared read-only with
    B; a server for each of alice, amy and bob (bob's serves /Projects, to reach A's paths)."""

    def __init__(self, cluster: LocalCluster, home: Path) -> None:
        tag = uuid.uuid4().hex[:6]
        self.a, self.b = f"ja{tag}", f"jb{tag}"
        self.admin = HopsFileSystem(
            namenode=cluster.namenode_uri, user=cluster.state.user, skip_instance_cache=True
        )
        projects.create_project(self.a, "alice", self.admin)
        projects.add_member(self.a, "amy", self.admin)
        projects.create_project(self.b, "bob", self.admin)
        projects.share_dataset(self.a, "DataSets", self.b, read_only=True, fs=self.admin)
        self.servers: list[Server] = []
        try:
            self.alice = self._start(cluster, home, self.a, "alice")
            self.amy = self._start(cluster, home, self.a, "amy")
            self.bob = self._start(cluster, home, self.b, "bob", "--root", "/Projects")
        except BaseException:
            self.close()
            raise

    def _start(
        self, cluster: LocalCluster, home: Path, project: str, user: str, *options: str
    ) -> Server:
        server = start(cluster, home / user, project, user, *options)
        self.servers.append(server)
        return server

    def hdfs(self, path: str) -> str:
        """The HDFS path of a path in A's Jupyter dataset (alice's and amy's API root)."""
        return f"/Projects/{self.a}/Jupyter/{path}".rstrip("/")

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.admin.rm([f"/Projects/{self.a}", f"/Projects/{self.b}"], recursive=True)
        self.admin.close()


@pytest.fixture(scope="module")
def team(
    cluster: LocalCluster, superuser_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Team]:
    team = Team(cluster, tmp_path_factory.mktemp("jupyter-servers"))
    try:
        yield team
    finally:
        team.close()


@pytest.fixture
def folder(team: Team) -> str:
    """A fresh directory in A's Jupyter dataset, made by alice through her server."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    reply = team.alice.contents("PUT", name, json={"type": "directory"})
    assert reply.status_code == 201, reply.text
    return name


def notebook(*sources: str) -> dict:
    """A notebook JSON with one code cell per source."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return json.loads(nbformat.writes(nb))


def save(server: Server, path: str, nb: dict, **extra: object) -> dict:
    reply = server.contents("PUT", path, json={"type": "notebook", "content": nb, **extra})
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def sources(server: Server, path: str) -> list[str]:
    reply = server.contents("GET", path)
    assert reply.status_code == 200, reply.text
    return [c["source"] for c in reply.json()["content"]["cells"]]


def raw_names(client: Client, path: str) -> list[str]:
    """Every name in an HDFS directory, hidden and temporary ones included."""
    return sorted(s.path.rsplit("/", 1)[-1] for s in client.list_status(path))


def test_create_save_get_on_hdfs(team: Team, folder: str, superuser_client: Client) -> None:
    created = team.alice.contents("POST", folder, json={"type": "notebook"})
    assert created.status_code == 201, created.text
    path = created.json()["path"]
    assert path == f"{folder}/Untitled.ipynb"
    saved = save(team.alice, path, notebook("print('on hdfs')"))
    info = team.admin.info(team.hdfs(path))
    assert info["owner"] == f"{team.a}__alice"
    assert datetime.fromisoformat(saved["last_modified"]).timestamp() == pytest.approx(
        info["mtime"], abs=0.001
    )
    assert sources(team.alice, path) == ["print('on hdfs')"]
    on_hdfs = nbformat.reads(team.admin.cat_file(team.hdfs(path)).decode(), as_version=4)
    assert [c.source for c in on_hdfs.cells] == ["print('on hdfs')"]
    # the save went through a temporary file renamed over the notebook: none is left behind
    names = raw_names(superuser_client, team.hdfs(folder))
    assert "Untitled.ipynb" in names and not [n for n in names if TEMP in n], names
    # /files/ (downloads, images in Markdown) serves the bytes on HDFS
    raw = requests.get(
        f"{team.amy.url}/files/{path}",
        headers={"Authorization": f"token {team.amy.token}"},
        timeout=60,
    )
    assert raw.status_code == 200 and raw.content == team.admin.cat_file(team.hdfs(path))
    listing = team.alice.contents("GET", folder).json()["content"]
    assert [(e["name"], e["type"], e["writable"]) for e in listing] == [
        ("Untitled.ipynb", "notebook", True)
    ]


def test_rename_copy_delete(team: Team, folder: str) -> None:
    save(team.alice, f"{folder}/a.ipynb", notebook("1"))
    moved = team.alice.contents("PATCH", f"{folder}/a.ipynb", json={"path": f"{folder}/b.ipynb"})
    assert moved.status_code == 200 and moved.json()["name"] == "b.ipynb", moved.text
    assert not team.admin.exists(team.hdfs(f"{folder}/a.ipynb"))
    save(team.alice, f"{folder}/a.ipynb", notebook("new a"))
    clash = team.alice.contents("PATCH", f"{folder}/a.ipynb", json={"path": f"{folder}/b.ipynb"})
    assert clash.status_code == 409, clash.text
    assert sources(team.alice, f"{folder}/b.ipynb") == ["1"]
    copied = team.alice.contents("POST", folder, json={"copy_from": f"{folder}/b.ipynb"})
    assert copied.status_code == 201 and copied.json()["name"] == "b-Copy1.ipynb", copied.text
    assert sources(team.amy, f"{folder}/b-Copy1.ipynb") == ["1"]
    assert team.alice.contents("PUT", f"{folder}/sub", json={"type": "directory"}).ok
    save(team.alice, f"{folder}/sub/c.ipynb", notebook("in sub"))
    tree = team.alice.contents("POST", folder, json={"copy_from": f"{folder}/sub"})
    assert tree.status_code == 201 and tree.json()["name"] == "sub-Copy1", tree.text
    assert sources(team.alice, f"{folder}/sub-Copy1/c.ipynb") == ["in sub"]
    assert team.alice.contents("DELETE", f"{folder}/b.ipynb").status_code == 204
    assert not team.admin.exists(team.hdfs(f"{folder}/b.ipynb"))
    assert team.alice.contents("DELETE", f"{folder}/b.ipynb").status_code == 404
    assert team.amy.contents("DELETE", folder).status_code == 204  # non-empty, alice's: amy may
    assert not team.admin.exists(team.hdfs(folder))


def test_checkpoints_on_hdfs_for_every_member(team: Team, folder: str) -> None:
    path = f"{folder}/cp.ipynb"
    save(team.alice, path, notebook("version 1"))
    made = team.alice.api("POST", f"contents/{path}/checkpoints")
    assert made.status_code == 201, made.text
    checkpoint = made.json()["id"]
    assert team.admin.exists(team.hdfs(f"{folder}/.ipynb_checkpoints/cp-checkpoint.ipynb"))
    save(team.alice, path, notebook("version 2"))
    listed = team.amy.api("GET", f"contents/{path}/checkpoints")  # the other member sees it
    assert [c["id"] for c in listed.json()] == [checkpoint], listed.text
    restored = team.amy.api("POST", f"contents/{path}/checkpoints/{checkpoint}")
    assert restored.status_code == 204, restored.text
    assert sources(team.alice, path) == ["version 1"]
    assert team.alice.api("DELETE", f"contents/{path}/checkpoints/{checkpoint}").status_code == 204
    assert team.alice.api("GET", f"contents/{path}/checkpoints").json() == []
    gone = team.alice.api("POST", f"contents/{path}/checkpoints/{checkpoint}")
    assert gone.status_code == 404, gone.text


def upload(server: Server, path: str, chunk: bytes, number: int) -> requests.Response:
    """One chunk of a chunked upload, as JupyterLab sends it (the last one numbered -1)."""
    name = path.rsplit("/", 1)[-1]
    model = {
        "type": "file",
        "format": "base64",
        "name": name,
        "path": path,
        "chunk": number,
        "content": base64.b64encode(chunk).decode(),
    }
    return server.contents("PUT", path, json=model)


def test_chunked_upload_appears_only_when_complete(
    team: Team, folder: str, superuser_client: Client
) -> None:
    data = bytes(range(256)) * 4096 * 3  # 3 MiB: three 1 MiB chunks, as JupyterLab sends them
    path = f"{folder}/big.bin"
    old = {"type": "file", "format": "text", "content": "the previous version"}
    assert team.alice.contents("PUT", path, json=old).status_code == 201
    chunks = [data[i : i + 2**20] for i in range(0, len(data), 2**20)]
    for number, chunk in enumerate(chunks, 1):
        reply = upload(team.alice, path, chunk, -1 if number == len(chunks) else number)
        assert reply.status_code in (200, 201), reply.text
        if number < len(chunks):  # the previous version until the last chunk: never half a file
            assert team.amy.contents("GET", path).json()["content"] == "the previous version"
            listing = team.amy.contents("GET", folder).json()["content"]
            assert [(e["name"], e["size"]) for e in listing] == [("big.bin", 20)]
    got = team.amy.contents("GET", path, params={"format": "base64", "hash": "1"}).json()
    assert base64.b64decode(got["content"]) == data
    assert got["hash"] == hashlib.sha256(data).hexdigest()
    assert raw_names(superuser_client, team.hdfs(folder)) == ["big.bin"]
    # a chunk of an upload whose start was lost is refused, and changes nothing
    lost = upload(team.alice, path, b"tail", -1)
    assert lost.status_code == 400 and "upload the file again" in lost.json()["message"]
    assert team.admin.cat_file(team.hdfs(path)) == data


def test_members_edit_each_others_notebooks(team: Team, folder: str) -> None:
    path = f"{folder}/shared.ipynb"
    save(team.alice, path, notebook("alice"))
    assert team.amy.contents("GET", path).json()["writable"] is True
    save(team.amy, path, notebook("alice", "amy"))
    assert team.admin.info(team.hdfs(path))["owner"] == f"{team.a}__amy"
    save(team.alice, path, notebook("alice", "amy", "alice again"))  # amy's file: alice writes
    assert sources(team.amy, path) == ["alice", "amy", "alice again"]
    assert team.admin.info(team.hdfs(path))["permission"] & 0o060 == 0o060  # the ACL mask: rw
    entries = team.admin.acl_entries(team.hdfs(path))
    assert f"user:{team.a}__alice:rwx" in entries and f"user:{team.a}__amy:rwx" in entries


def test_conflicting_save_is_refused(team: Team, folder: str) -> None:
    """alice opened the notebook, amy saved it since: JupyterLab's check before saving (hash and
    last_modified of a content-less GET) sees the change, and a save that names the version it
    edited (hash) is refused with 409 instead of overwriting amy's work."""
    path = f"{folder}/race.ipynb"
    save(team.alice, path, notebook("base"))
    opened = team.alice.contents("GET", path, params={"hash": "1"}).json()
    save(team.amy, path, notebook("base", "amy's cell"))
    check = team.alice.contents("GET", path, params={"content": "0", "hash": "1"}).json()
    assert check["hash"] != opened["hash"]  # JupyterLab shows its "File Changed" dialog on this
    assert check["last_modified"] > opened["last_modified"]
    refused = team.alice.contents(
        "PUT",
        path,
        json={
            "type": "notebook",
            "content": notebook("base", "alice's cell"),
            "hash": opened["hash"],
        },
    )
    assert refused.status_code == 409, refused.text
    message = refused.json()["message"]
    assert f"{team.a}__amy" in message and "reload" in message, message
    assert sources(team.alice, path) == ["base", "amy's cell"]
    save(team.alice, path, notebook("mine"), hash=check["hash"])  # based on amy's version: fine
    assert sources(team.amy, path) == ["mine"]


def test_user_of_another_project_is_refused(team: Team) -> None:
    save(team.alice, "private.ipynb", notebook("secret"))
    bob_path = f"{team.a}/Jupyter/private.ipynb"
    for reply in (
        team.bob.contents("GET", bob_path),
        team.bob.contents("GET", f"{team.a}/Jupyter"),
        team.bob.contents(
            "PUT",
            f"{team.a}/Jupyter/mine.ipynb",
            json={"type": "notebook", "content": notebook("x")},
        ),
    ):
        assert reply.status_code == 403, reply.text
        message = reply.json()["message"]
        assert "\n" not in message
        assert f"user={team.b}__bob" in message and f"/Projects/{team.a}" in message, message
        assert f"hopsfs-tools project add-member {team.a} bob" in message, message
    assert not team.admin.exists(team.hdfs("mine.ipynb"))


def test_read_only_shared_dataset_opens_read_only(team: Team) -> None:
    shared = f"/Projects/{team.a}/DataSets/report.ipynb"
    save(team.alice, "report.ipynb", notebook("shared result"))
    team.admin.copy(team.hdfs("report.ipynb"), shared)  # inherits the share's default ACLs
    bob_path = f"{team.a}/DataSets/report.ipynb"
    model = team.bob.contents("GET", bob_path).json()
    assert model["writable"] is False and model["content"]["cells"][0]["source"] == "shared result"
    listing = team.bob.contents("GET", f"{team.a}/DataSets").json()
    entries = sorted((e["name"], e["writable"]) for e in listing["content"])
    assert entries == [("README.md", False), ("report.ipynb", False)]  # README: `project create`'s
    refused = team.bob.contents(
        "PUT", bob_path, json={"type": "notebook", "content": notebook("bob's edit")}
    )
    assert refused.status_code == 403, refused.text
    assert sources(team.bob, bob_path) == ["shared result"]


def test_hidden_and_temporary_files_are_not_listed(team: Team, folder: str) -> None:
    for name in (".secret", f".x.ipynb{TEMP}{uuid.uuid4().hex}", "__pycache__", "seen.txt"):
        team.admin.pipe_file(team.hdfs(f"{folder}/{name}"), b"x")
    listing = team.alice.contents("GET", folder).json()["content"]
    assert [e["name"] for e in listing] == ["seen.txt"]
    assert team.alice.contents("GET", f"{folder}/.secret").status_code == 404
    hidden = team.alice.contents(
        "PUT", f"{folder}/.new", json={"type": "file", "format": "text", "content": "x"}
    )
    assert hidden.status_code == 400, hidden.text


def test_kernel_acts_as_the_member(team: Team) -> None:
    code = (
        "from hopsfs_tools import hdfs\n"
        "hdfs.dump('from the kernel', 'Jupyter/kernel.txt')\n"
        "print(hdfs.project_name(), hdfs.project_user())"
    )
    out = asyncio.run(team.amy.run_code(code))
    assert out.split() == [team.a, f"{team.a}__amy"]
    assert team.admin.info(team.hdfs("kernel.txt"))["owner"] == f"{team.a}__amy"
    assert team.alice.contents("GET", "kernel.txt").json()["content"] == "from the kernel"


def test_cli_refuses_a_project_it_cannot_serve(
    team: Team, cluster: LocalCluster, tmp_path: Path
) -> None:
    for args, expected in (
        (["--project", f"none{uuid.uuid4().hex[:6]}", "--user", "x"], "does not exist"),
        (
            ["--project", team.b, "--user", "bob", "--root", f"/Projects/{team.a}/Jupyter"],
            f"user={team.b}__bob",
        ),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "hopsfs_tools.cli", "jupyter", *args],
            env=server_env(cluster, tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], lines


def test_launch_takes_project_and_user_from_the_environment(
    team: Team, cluster: LocalCluster, tmp_path: Path
) -> None:
    """As the demo's hint runs it: `hopsfs-tools jupyter` after `export HADOOP_USER_NAME=P__u`."""
    show = (
        "import json\nfrom hopsfs_tools.jupyter.app import lab_launch\n"
        "launch = lab_launch(None, None)\n"
        "print(json.dumps([launch.root, launch.command[1:], launch.env['HADOOP_USER_NAME'], "
        "launch.env['HOPSFS_PROJECT'], launch.env['HADOOP_CONF_DIR']]))"
    )
    env = {**server_env(cluster, tmp_path), "HADOOP_USER_NAME": f"{team.a}__amy"}
    done = subprocess.run(
        [sys.executable, "-c", show],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    root, command, user, project, conf = json.loads(done.stdout)
    assert root == f"/Projects/{team.a}/Jupyter"
    assert command == [
        "-m",
        "jupyterlab",
        "--ServerApp.contents_manager_class=hopsfs_tools.jupyter.HopsContentsManager",
        f"--HopsContentsManager.root_dir={root}",
    ]
    assert (user, project, conf) == (f"{team.a}__amy", team.a, str(cluster.conf_dir))
