"""`hopsfs-tools ls|put|get|cat|...` against the real cluster: output, one-line errors, exit codes."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hdfs_native import Client

from hopsfs_tools.cli.files import FILE_COMMANDS, human_size
from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.hopsworks.admin import create_project


@pytest.fixture(autouse=True)
def _as_superuser(cluster_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in this process act as the login user (the cluster's superuser), no project."""
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        monkeypatch.delenv(key, raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result


def fails(*args: str, code: int = 1) -> str:
    """The single `Error: ...` line a failing command prints on stderr."""
    result = run(*args)
    assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, result.stderr
    if code == 1:
        assert result.stderr.strip() == error_lines[0]  # no traceback, no usage text
    return error_lines[0]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_every_command_has_help() -> None:
    for command in FILE_COMMANDS:
        text = ok(command.name or "", "--help").stdout
        assert "--backend" in text and "--project" in text and "--user" in text, command.name
    assert "Human-readable" in ok("ls", "--help").stdout  # -h is --human-readable for ls/du
    assert "-h" in ok("du", "--help").stdout


def test_put_get_tree_roundtrip(hdfs_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    write(src / "a.txt", b"alpha")
    write(src / "sub" / "b.bin", os.urandom(3000))
    (src / "empty").mkdir()
    ok("put", str(src), f"{hdfs_dir}/tree")
    listing = ok("ls", "-R", f"{hdfs_dir}/tree").stdout.split()
    assert listing == [f"{hdfs_dir}/tree/{p}" for p in ("a.txt", "empty", "sub", "sub/b.bin")]

    out = tmp_path / "out"
    out.mkdir()
    ok("get", f"{hdfs_dir}/tree", str(out))
    for rel in ("a.txt", "sub/b.bin"):
        assert (out / "tree" / rel).read_bytes() == (src / rel).read_bytes()
    assert (out / "tree" / "empty").is_dir()


def test_put_several_files_into_directory(hdfs_dir: str, tmp_path: Path) -> None:
    files = [str(write(tmp_path / f"f{i}.txt", f"file {i}".encode())) for i in range(5)]
    ok("put", *files, hdfs_dir)
    assert ok("cat", f"{hdfs_dir}/f3.txt").stdout == "file 3"
    assert "needs an existing target directory" in fails("put", *files, f"{hdfs_dir}/nodir")


def test_put_and_get_never_overwrite_without_f(hdfs_dir: str, tmp_path: Path) -> None:
    first, second = write(tmp_path / "1", b"first"), write(tmp_path / "2", b"second")
    ok("put", str(first), f"{hdfs_dir}/x")
    error = fails("put", str(second), f"{hdfs_dir}/x")
    assert f"{hdfs_dir}/x exists (use -f to overwrite)" in error
    assert ok("cat", f"{hdfs_dir}/x").stdout == "first"
    ok("put", "-f", str(second), f"{hdfs_dir}/x")
    assert ok("cat", f"{hdfs_dir}/x").stdout == "second"

    assert f"{first} exists (use -f" in fails("get", f"{hdfs_dir}/x", str(first))
    assert first.read_bytes() == b"first"
    ok("get", "-f", f"{hdfs_dir}/x", str(first))
    assert first.read_bytes() == b"second"


def test_put_to_missing_parent_and_missing_source(hdfs_dir: str, tmp_path: Path) -> None:
    local = write(tmp_path / "x", b"x")
    assert f"{hdfs_dir}/no: No such file or directory (create the directory first" in fails(
        "put", str(local), f"{hdfs_dir}/no/x"
    )
    assert "nope" in fails("put", str(tmp_path / "nope"), hdfs_dir)
    assert "No such file or directory" in fails("get", f"{hdfs_dir}/nope", str(tmp_path))


def test_progress_bar_in_bytes_for_large_transfers(hdfs_dir: str, tmp_path: Path) -> None:
    big = write(tmp_path / "big.bin", os.urandom(3 * 2**20))
    shown = ok("put", str(big), f"{hdfs_dir}/big.bin").stderr
    assert "100%" in shown and "3.00M/3.00M" in shown
    assert ok("put", "-f", "--no-progress", str(big), f"{hdfs_dir}/big.bin").stderr == ""
    assert "100%" in ok("get", f"{hdfs_dir}/big.bin", str(tmp_path / "back.bin")).stderr
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert ok("get", "--no-progress", f"{hdfs_dir}/big.bin", str(tmp_path / "b2")).stderr == ""
    small = write(tmp_path / "small", b"tiny")
    assert ok("put", str(small), f"{hdfs_dir}/small").stderr == ""  # below 1 MiB: no bar


def test_ls_long_human(hdfs_dir: str, tmp_path: Path) -> None:
    ok("put", str(write(tmp_path / "k", b"k" * 1536)), f"{hdfs_dir}/k")
    ok("mkdir", f"{hdfs_dir}/d")
    lines = ok("ls", "-l", "-h", hdfs_dir).stdout.splitlines()
    directory, file = (line.split() for line in lines)
    assert directory[0] == "drwxr-xr-x" and directory[-1] == f"{hdfs_dir}/d"
    assert file[0] == "-rw-r--r--" and file[1] == "3" and file[2] == "root"
    assert " ".join(file[4:6]) == "1.5 K" and file[-1] == f"{hdfs_dir}/k"
    assert ok("ls", "-l", f"{hdfs_dir}/k").stdout.split()[4] == "1536"
    assert ok("ls", f"{hdfs_dir}/k").stdout.strip() == f"{hdfs_dir}/k"
    assert human_size(0) == "0" and human_size(5 * 2**30) == "5.0 G"


def test_cat_head_tail(hdfs_dir: str, tmp_path: Path) -> None:
    data = bytes(range(256)) * 8  # 2 KiB
    ok("put", str(write(tmp_path / "d", data)), f"{hdfs_dir}/d")
    assert ok("cat", f"{hdfs_dir}/d").stdout_bytes == data
    assert ok("head", f"{hdfs_dir}/d").stdout_bytes == data[:1024]
    assert ok("head", "-c", "5", f"{hdfs_dir}/d").stdout_bytes == data[:5]
    assert ok("tail", f"{hdfs_dir}/d").stdout_bytes == data[-1024:]
    assert ok("tail", "-c", "5", f"{hdfs_dir}/d").stdout_bytes == data[-5:]
    assert f"{hdfs_dir}/nope" in fails("cat", f"{hdfs_dir}/nope")
    assert "is a directory" in fails("head", hdfs_dir)
    fails("head", "-c", "-1", f"{hdfs_dir}/d", code=2)


def test_rm_refuses_directory_without_r(hdfs_dir: str) -> None:
    ok("mkdir", "-p", f"{hdfs_dir}/d/e")
    error = fails("rm", f"{hdfs_dir}/d")
    assert f"{hdfs_dir}/d is a directory (use -r" in error
    ok("test", "-d", f"{hdfs_dir}/d")
    ok("rm", "-r", f"{hdfs_dir}/d")
    assert run("test", "-e", f"{hdfs_dir}/d").exit_code == 1
    assert "No such file or directory" in fails("rm", f"{hdfs_dir}/d")
    ok("rm", "-f", f"{hdfs_dir}/d")


def test_mkdir(hdfs_dir: str) -> None:
    assert f"{hdfs_dir}/a: No such file or directory (use -p" in fails("mkdir", f"{hdfs_dir}/a/b")
    ok("mkdir", "-p", f"{hdfs_dir}/a/b")
    ok("mkdir", "-p", f"{hdfs_dir}/a/b")
    assert f"{hdfs_dir}/a/b exists" in fails("mkdir", f"{hdfs_dir}/a/b")
    ok("mkdir", f"{hdfs_dir}/a/c")
    assert ok("ls", f"{hdfs_dir}/a").stdout.split() == [f"{hdfs_dir}/a/b", f"{hdfs_dir}/a/c"]


def test_mv_and_cp(hdfs_dir: str, tmp_path: Path) -> None:
    ok("put", str(write(tmp_path / "t" / "x", b"x")), f"{hdfs_dir}/x")
    ok("put", str(tmp_path / "t"), f"{hdfs_dir}/t")
    ok("cp", f"{hdfs_dir}/t", f"{hdfs_dir}/t2")
    assert ok("cat", f"{hdfs_dir}/t2/x").stdout == "x"
    ok("cp", f"{hdfs_dir}/t", f"{hdfs_dir}/t2")  # t2 is a directory now: copies into it
    assert ok("cat", f"{hdfs_dir}/t2/t/x").stdout == "x"
    assert f"{hdfs_dir}/t2/t/x exists (use -f" in fails("cp", f"{hdfs_dir}/t", f"{hdfs_dir}/t2")
    assert "into itself" in fails("cp", f"{hdfs_dir}/t", f"{hdfs_dir}/t/x2")

    ok("mkdir", f"{hdfs_dir}/into")
    ok("mv", f"{hdfs_dir}/t2", f"{hdfs_dir}/into")
    assert ok("ls", "-R", f"{hdfs_dir}/into").stdout.split() == [
        f"{hdfs_dir}/into/t2",
        f"{hdfs_dir}/into/t2/t",
        f"{hdfs_dir}/into/t2/t/x",
        f"{hdfs_dir}/into/t2/x",
    ]
    ok("put", str(write(tmp_path / "y", b"y")), f"{hdfs_dir}/y")
    assert f"{hdfs_dir}/x exists (use -f" in fails("mv", f"{hdfs_dir}/y", f"{hdfs_dir}/x")
    ok("mv", "-f", f"{hdfs_dir}/y", f"{hdfs_dir}/x")
    assert ok("cat", f"{hdfs_dir}/x").stdout == "y"
    assert f"{hdfs_dir}/nope" in fails("mv", f"{hdfs_dir}/nope", f"{hdfs_dir}/z")
    ok("put", str(write(tmp_path / "z", b"z")), f"{hdfs_dir}/z")
    ok("put", str(tmp_path / "z"), f"{hdfs_dir}/into/z")
    assert f"{hdfs_dir}/into/z exists (use -f" in fails("mv", f"{hdfs_dir}/z", f"{hdfs_dir}/into")
    ok("mv", "-f", f"{hdfs_dir}/z", f"{hdfs_dir}/into")
    assert run("test", "-e", f"{hdfs_dir}/z").exit_code == 1


def test_du_and_stat(hdfs_dir: str, tmp_path: Path) -> None:
    write(tmp_path / "d" / "a", b"a" * 2048)
    ok("put", str(tmp_path / "d"), f"{hdfs_dir}/d")
    ok("put", str(write(tmp_path / "b", b"b" * 100)), f"{hdfs_dir}/b")
    rows = [line.split() for line in ok("du", hdfs_dir).stdout.splitlines()]
    assert rows == [["100", "300", f"{hdfs_dir}/b"], ["2048", "6144", f"{hdfs_dir}/d"]]
    assert ok("du", "-s", "-h", hdfs_dir).stdout.split() == ["2.1", "K", "6.3", "K", hdfs_dir]

    facts = dict(line.split(":", 1) for line in ok("stat", f"{hdfs_dir}/b").stdout.splitlines())
    facts = {k: v.strip() for k, v in facts.items()}
    assert facts["type"] == "file" and facts["size"] == "100"
    assert facts["mode"] == "-rw-r--r-- (0644)" and facts["owner"] == "root"
    assert facts["replication"] == "3"


def test_chmod_chown(hdfs_dir: str, superuser_client: Client) -> None:
    ok("mkdir", "-p", f"{hdfs_dir}/d/e")
    ok("chmod", "750", f"{hdfs_dir}/d")
    assert superuser_client.get_file_info(f"{hdfs_dir}/d").permission == 0o750
    assert superuser_client.get_file_info(f"{hdfs_dir}/d/e").permission == 0o755
    ok("chmod", "-R", "0700", f"{hdfs_dir}/d")
    assert superuser_client.get_file_info(f"{hdfs_dir}/d/e").permission == 0o700
    assert "not an octal mode" in fails("chmod", "9x", f"{hdfs_dir}/d", code=2)
    assert "not an octal mode" in fails("chmod", "rwx", f"{hdfs_dir}/d", code=2)

    ok("chown", "alice:team", f"{hdfs_dir}/d")
    status = superuser_client.get_file_info(f"{hdfs_dir}/d")
    assert (status.owner, status.group) == ("alice", "team")
    ok("chown", ":other", f"{hdfs_dir}/d")
    assert superuser_client.get_file_info(f"{hdfs_dir}/d").owner == "alice"
    assert superuser_client.get_file_info(f"{hdfs_dir}/d").group == "other"
    assert f"{hdfs_dir}/nope" in fails("chown", "bob", f"{hdfs_dir}/nope")


def test_test_exits_silently(hdfs_dir: str, tmp_path: Path) -> None:
    ok("put", str(write(tmp_path / "f", b"f")), f"{hdfs_dir}/f")
    cases = {
        ("-e", "f"): 0,
        ("-f", "f"): 0,
        ("-d", "f"): 1,
        ("-d", ""): 0,
        ("-f", ""): 1,
        ("-e", "nope"): 1,
        ("-d", "nope"): 1,
    }
    for (flag, name), code in cases.items():
        result = run("test", flag, f"{hdfs_dir}/{name}")
        assert (result.exit_code, result.stdout, result.stderr) == (code, "", ""), (flag, name)
    assert run("test", f"{hdfs_dir}/f").exit_code == 2


def test_usage_and_connection_errors(hdfs_dir: str) -> None:
    assert "'bogus' is not one of" in fails("ls", "--backend", "bogus", hdfs_dir, code=2)
    fails("ls", "--no-such-option", code=2)
    fails("cat", code=2)
    error = fails("ls", "--namenode", "hdfs://127.0.0.1:1", "/")
    assert "cannot reach the HDFS namenode hdfs://127.0.0.1:1" in error
    assert "scheme 's3'" in fails("ls", "s3://bucket/x")


def test_webhdfs_backend(hdfs_dir: str, tmp_path: Path) -> None:
    ok("put", "--backend", "webhdfs", str(write(tmp_path / "w", b"web")), f"{hdfs_dir}/w")
    assert ok("cat", "--backend", "webhdfs", f"{hdfs_dir}/w").stdout == "web"
    assert ok("ls", "--backend", "webhdfs", hdfs_dir).stdout.split() == [f"{hdfs_dir}/w"]


@pytest.fixture
def project_name(superuser_client: Client) -> Iterator[str]:
    name = f"cli{uuid.uuid4().hex[:8]}"
    yield name
    superuser_client.delete(f"/Projects/{name}", True)


def test_project_relative_paths(
    project_name: str, tmp_path: Path, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_project(project_name, getpass.getuser())  # --project acts as <project>__<login>
    # over WebHDFS: hdfs-native clients of this test process already act as the superuser
    monkeypatch.setenv("HOPSFS_BACKEND", "webhdfs")
    monkeypatch.setenv("HOPSFS_WEBHDFS_URL", cluster.webhdfs_url)
    local = write(tmp_path / "data.csv", b"a,b\n1,2\n")
    ok("put", "--project", project_name, str(local), "Resources/data.csv")
    root = f"/Projects/{project_name}"
    assert ok("ls", "--project", project_name, "Resources").stdout.split() == [
        f"{root}/Resources/README.md",
        f"{root}/Resources/data.csv",
    ]
    assert ok("cat", f"hopsfs:///Projects/{project_name}/Resources/data.csv").stdout == "a,b\n1,2\n"
    assert len(ok("ls", "--project", project_name).stdout.split()) == 6  # the datasets
    assert f"{root}/Resources/nope" in fails("cat", "--project", project_name, "Resources/nope")


def test_exit_codes_of_the_installed_command(cluster: LocalCluster, hdfs_dir: str) -> None:
    env = {**os.environ, **cluster.env()}
    env.pop("HADOOP_USER_NAME", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hopsfs_tools.cli", *args],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )

    missing = cli("ls", f"{hdfs_dir}/nope")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.splitlines() == [
        f"Error: {hdfs_dir}/nope: No such file or directory (check the path)"
    ]
    assert cli("ls", "-Z").returncode == 2
    assert cli("test", "-d", hdfs_dir).returncode == 0


def test_glob_patterns_expand_on_the_cluster(hdfs_dir: str, tmp_path: Path) -> None:
    files = [str(write(tmp_path / name, name.encode())) for name in ("a.csv", "b.csv", "c.txt")]
    ok("put", *files, hdfs_dir)
    assert ok("ls", f"{hdfs_dir}/*.csv").stdout.split() == [
        f"{hdfs_dir}/a.csv",
        f"{hdfs_dir}/b.csv",
    ]
    assert ok("cat", f"{hdfs_dir}/?.csv").stdout == "a.csvb.csv"
    assert f"{hdfs_dir}/*.json: No such file or directory (no file matches the pattern)" in fails(
        "cat", f"{hdfs_dir}/*.json"
    )
    ok("rm", f"{hdfs_dir}/*.csv")
    ok("rm", "-f", f"{hdfs_dir}/*.csv")
    assert ok("ls", hdfs_dir).stdout.split() == [f"{hdfs_dir}/c.txt"]


def test_a_missing_path_reads_the_same_in_every_command(hdfs_dir: str, tmp_path: Path) -> None:
    """One wording, one pair of brackets: "<path>: No such file or directory (<what to do>)"."""
    missing = f"{hdfs_dir}/nope"
    for args in (
        ["ls", missing],
        ["cat", missing],
        ["head", missing],
        ["tail", missing],
        ["get", missing, str(tmp_path)],
        ["rm", missing],
        ["mv", missing, hdfs_dir],
        ["cp", missing, hdfs_dir],
        ["du", missing],
        ["stat", missing],
        ["chmod", "700", missing],
        ["chown", "bob", missing],
    ):
        error = fails(*args)
        assert error.splitlines() == [
            f"Error: {missing}: No such file or directory (check the path)"
        ], args


def test_relative_path_without_a_project_says_none_is_set(cluster: LocalCluster) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME")
    }
    result = subprocess.run(
        [sys.executable, "-m", "hopsfs_tools.cli", "cat", "Resources/adult.csv"],
        env={**env, **cluster.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        (
            "Error: /Resources/adult.csv: No such file or directory (no project is set, so the "
            "relative path 'Resources/adult.csv' means /Resources/adult.csv: set HOPSFS_PROJECT="
            "<project> or HADOOP_USER_NAME=<project>__<user> (or pass --project P / project=P))"
        )
    ]
