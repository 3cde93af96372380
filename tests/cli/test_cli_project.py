"""`hopsfs-tools project create|add-member|ls` and hopsfs_tools.hopsworks.admin against the real cluster.

Acting as other HDFS users happens in subprocesses: hdfs-native binds one user per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hdfs_native import Client, WriteOptions

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.hopsworks import admin


@pytest.fixture(autouse=True)
def _as_superuser(cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def name(superuser_client: Client) -> Iterator[str]:
    """A unique project name; the project is deleted afterwards."""
    project = f"p{uuid.uuid4().hex[:8]}"
    yield project
    superuser_client.delete(f"/Projects/{project}", True)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def cli_as(cluster: LocalCluster, user: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `hopsfs-tools ARGS` in a new process acting as HDFS user `user` (None: the login)."""
    env = {**os.environ, **cluster.env(), "HADOOP_USER_NAME": user or ""}
    for key in ("HOPSFS_PROJECT", *(() if user else ("HADOOP_USER_NAME",))):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "hopsfs_tools.cli", *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help() -> None:
    for args in (
        ["project"],
        *(["project", c] for c in ("create", "add-member", "share", "unshare", "ls")),
    ):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Usage: main project" in result.stdout
    assert "NAME__U" in run("project", "create", "--help").stdout


def test_create_sets_owner_group_mode_and_is_idempotent(
    name: str, superuser_client: Client
) -> None:
    result = run("project", "create", name, "--user", "alice")
    assert result.exit_code == 0, result.stderr
    assert f"owned by {name}__alice:{name} (0770)" in result.stdout
    root = f"/Projects/{name}"
    for path in (root, *(f"{root}/{d}" for d in admin.DATASETS)):
        status = superuser_client.get_file_info(path)
        assert (status.owner, status.group, status.permission) == (f"{name}__alice", name, 0o770)
    for dataset in admin.DATASETS:  # Hopsworks puts a README.md in every dataset
        readme = f"{root}/{dataset}/README.md"
        status = superuser_client.get_file_info(readme)
        assert (status.owner, status.group, status.permission) == (f"{name}__alice", name, 0o660)
        with superuser_client.read(readme) as f:
            assert f.read().decode().startswith(f"# {dataset}\n\n")

    superuser_client.set_permission(f"{root}/Models", 0o755)
    superuser_client.delete(f"{root}/Logs", True)
    with superuser_client.create(f"{root}/Models/README.md", WriteOptions(overwrite=True)) as f:
        f.write(b"# Models\n\nedited")
    assert run("project", "create", name, "--user", "alice").exit_code == 0  # repairs
    assert superuser_client.get_file_info(f"{root}/Models").permission == 0o770
    assert superuser_client.get_file_info(f"{root}/Logs").owner == f"{name}__alice"
    assert superuser_client.get_file_info(f"{root}/Logs/README.md").owner == f"{name}__alice"
    with superuser_client.read(f"{root}/Models/README.md") as f:
        assert f.read() == b"# Models\n\nedited"  # an edited README is kept

    other = run("project", "create", name, "--user", "bob")
    assert other.exit_code == 1
    assert other.stderr.strip() == (
        f"Error: /Projects/{name}: project {name} exists and is owned by {name}__alice: "
        f"add {name}__bob with add-member instead"
    )


def test_invalid_names_are_one_line_errors() -> None:
    result = run("project", "create", "a__b", "--user", "alice")
    assert result.exit_code == 1 and result.stderr.startswith("Error: Project name 'a__b'")
    assert len(result.stderr.strip().splitlines()) == 1
    missing = run("project", "add-member", f"none{uuid.uuid4().hex[:6]}", "bob")
    assert (
        missing.exit_code == 1 and "create it with `hopsfs-tools project create`" in missing.stderr
    )


def test_non_superuser_cannot_create(cluster: LocalCluster, name: str) -> None:
    result = cli_as(cluster, "mallory", "project", "create", name, "--user", "mallory")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert f"creating project {name} needs the HDFS superuser" in lines[0]
    assert "Permission denied: user=mallory" in lines[0]


@pytest.mark.parametrize("backend", ["native", "webhdfs"])
def test_member_can_write_and_non_member_cannot(
    cluster: LocalCluster, name: str, superuser_client: Client, tmp_path: Path, backend: str
) -> None:
    assert run("project", "create", "--backend", backend, name, "--user", "alice").exit_code == 0
    local = tmp_path / "notes.txt"
    local.write_text("shared")
    member, outsider = f"{name}__bob", f"other{name}__eve"

    before = cli_as(cluster, member, "put", str(local), "Resources/notes.txt")
    assert before.returncode == 1 and "Permission denied" in before.stderr

    added = run("project", "add-member", "--backend", backend, name, "bob")
    assert added.exit_code == 0, added.stderr
    assert f"{member} can now read and write /Projects/{name}" in added.stdout

    put = cli_as(cluster, member, "put", str(local), "Resources/notes.txt")
    assert put.returncode == 0, put.stderr
    status = superuser_client.get_file_info(f"/Projects/{name}/Resources/notes.txt")
    assert (status.owner, status.group) == (member, name)  # the group comes from the project dir
    assert cli_as(cluster, member, "cat", "Resources/notes.txt").stdout == "shared"
    assert cli_as(cluster, f"{name}__alice", "cat", "Resources/notes.txt").stdout == "shared"

    denied = cli_as(cluster, outsider, "put", str(local), f"/Projects/{name}/Resources/x")
    assert denied.returncode == 1
    lines = denied.stderr.strip().splitlines()
    assert len(lines) == 1 and "Permission denied: user=" + outsider in lines[0]
    assert f"/Projects/{name}" in lines[0]
    as_option = cli_as(cluster, None, "ls", "--user", outsider, f"/Projects/{name}")
    assert as_option.returncode == 1 and as_option.stdout == ""
    expected = (
        f'Error: Permission denied: user={outsider}, access=READ_EXECUTE, inode="/Projects/{name}"'
        f":{name}__alice:{name}:drwxrwx--- (/Projects/{name} belongs to project {name}: ask an "
        f"HDFS administrator (the superuser) to add you (`hopsfs-tools project add-member {name} "
        f"eve`, then act as {name}__eve) or to share the dataset with project other{name} "
        f"(`hopsfs-tools project share {name} DATASET --with other{name}`))"
    )
    assert as_option.stderr.strip().splitlines() == [expected]
    listed = cli_as(cluster, None, "ls", "--user", member, "--project", name, "Resources")
    assert listed.stdout.split() == [
        f"/Projects/{name}/Resources/README.md",
        f"/Projects/{name}/Resources/notes.txt",
    ]


def test_project_ls_and_api(name: str) -> None:
    info = admin.create_project(name, "alice")
    assert (info.owner, info.group, info.permission) == (f"{name}__alice", name, 0o770)
    assert admin.add_member(name, "bob") == 1 + 2 * len(admin.DATASETS)  # + READMEs
    listed = {p.name: p for p in admin.list_projects()}
    assert listed[name].members == (f"{name}__alice", f"{name}__bob")

    result = run("project", "ls")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["PROJECT", "OWNER", "GROUP", "MODE", "MEMBERS"]
    row = next(line.split() for line in result.stdout.splitlines() if line.startswith(name + " "))
    assert row == [name, f"{name}__alice", name, "0770", f"{name}__alice,{name}__bob"]


def test_share_and_unshare(
    cluster: LocalCluster, name: str, superuser_client: Client, tmp_path: Path
) -> None:
    other = f"{name}q"
    try:
        assert run("project", "create", name, "--user", "alice").exit_code == 0
        assert run("project", "create", other, "--user", "bob").exit_code == 0
        assert run("project", "add-member", other, "ben").exit_code == 0
        local = tmp_path / "data.csv"
        local.write_text("a,b\n")
        assert run("put", f"{local}", f"/Projects/{name}/DataSets/data.csv").exit_code == 0
        reader = f"{other}__ben"

        shared = run("project", "share", name, "DataSets", "--with", other)
        assert shared.exit_code == 0, shared.stderr
        assert shared.stdout == (
            f"members of {other} ({other}__ben, {other}__bob) can now read "
            f"/Projects/{name}/DataSets\n"
        )
        read = cli_as(cluster, reader, "cat", f"/Projects/{name}/DataSets/data.csv")
        assert read.stdout == "a,b\n"
        denied = cli_as(cluster, reader, "put", str(local), f"/Projects/{name}/DataSets/new.csv")
        assert denied.returncode == 1 and f"user={reader}" in denied.stderr

        widened = run("project", "share", name, "DataSets", "--with", other, "--read-write")
        assert "can now read and write" in widened.stdout
        put = cli_as(cluster, reader, "put", str(local), f"/Projects/{name}/DataSets/new.csv")
        assert put.returncode == 0, put.stderr

        unshared = run("project", "unshare", name, "DataSets", "--with", other)
        assert unshared.exit_code == 0, unshared.stderr
        assert unshared.stdout == (
            f"/Projects/{name}/DataSets is no longer shared with {other} "
            f"({other}__ben, {other}__bob)\n"
        )
        gone = cli_as(cluster, reader, "cat", f"/Projects/{name}/DataSets/data.csv")
        assert gone.returncode == 1 and "Permission denied" in gone.stderr

        for args, message in (
            (
                ("unshare", name, "DataSets", "--with", other),
                f"Error: /Projects/{name}/DataSets is not shared with project {other}",
            ),
            (
                ("share", name, "Nope", "--with", other),
                (
                    f"Error: /Projects/{name}/Nope: No such file or directory (project {name} has no "
                    "dataset Nope)"
                ),
            ),
            (
                ("share", name, "DataSets/data.csv", "--with", other),
                "Error: Dataset 'DataSets/data.csv' is not a directory name",
            ),
        ):
            result = run("project", *args)
            assert result.exit_code == 1 and result.stderr.startswith(message), result.stderr
        assert run("project", "share", name, "DataSets").exit_code == 2  # --with is required
    finally:
        superuser_client.delete(f"/Projects/{other}", True)


def test_non_superuser_cannot_share(
    cluster: LocalCluster, name: str, superuser_client: Client
) -> None:
    other = f"{name}q"
    try:
        for project in (name, other):
            assert run("project", "create", project, "--user", "alice").exit_code == 0
        # the superuser's file in the dataset: alice owns the directories, not everything
        superuser_client.create(f"/Projects/{name}/Resources/admin.txt").close()
        result = cli_as(
            cluster, f"{name}__alice", "project", "share", name, "Resources", "--with", other
        )
        assert result.returncode == 1
        assert result.stderr.startswith(
            f"Error: sharing /Projects/{name}/Resources with project {other} needs the HDFS "
            f"superuser"
        ), result.stderr
        assert f"user={name}__alice" in result.stderr
    finally:
        superuser_client.delete(f"/Projects/{other}", True)
