"""A fresh `python3 -m venv` with only the base install, as a new user has it.

The venv keeps the pip it was created with (ensurepip's, 23.2 on Python 3.11.7) and gets the
current setuptools and wheel (no `pkg_resources`): the arrow backend must set itself up there
from a cold cache, and every CLI command must start without numpy, pandas or any extra.
To stay quick the project is installed with `--no-deps` and only its base dependencies are
added (from pip's cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from hopsfs_tools.cluster import LocalCluster

REPO = Path(__file__).resolve().parents[2]


def run(*cmd: str | Path, env: dict[str, str] | None = None, timeout: float = 600):
    """Run `cmd`; fail with its output unless it exits 0."""
    proc = subprocess.run(
        [str(c) for c in cmd], check=False, capture_output=True, text=True, env=env,
        timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding hopsfs-tools and its base dependencies only."""
    venv = tmp_path_factory.mktemp("base-venv")
    started = time.monotonic()
    # The interpreter behind this venv, so the new venv's pip is the one ensurepip bundles.
    base_python = Path(sys.base_prefix, "bin", "python3")
    run(base_python, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(*pip, "--upgrade", "setuptools", "wheel")
    install = run(*pip, "-v", "--no-deps", "--no-build-isolation", REPO)  # -v: setuptools' output
    warnings = [line for line in (install.stdout + install.stderr).splitlines()
                if "warning" in line.lower() or "deprecat" in line.lower()]  # fmt: skip
    assert warnings == []  # e.g. SetuptoolsDeprecationWarning for a `license = {text = ...}` table
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    run(*pip, *dependencies)
    print(f"base venv ready in {time.monotonic() - started:.1f} s")
    return venv / "bin"


def venv_env(cluster: LocalCluster, cache: Path) -> dict[str, str]:
    """This environment minus the test venv and our PYTHONPATH, pointed at `cluster`."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "ARROW_LIBHDFS_DIR", "HADOOP_HOME", "CLASSPATH",
            "LIBHDFS_OPTS", "HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSFS_BACKEND")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, **cluster.env(), "HOPSFS_TOOLS_CACHE": str(cache)}


def test_the_venv_is_what_a_new_user_has(base_venv: Path) -> None:
    probe = run(base_venv / "python", "-c", textwrap.dedent("""
        import importlib.util
        from importlib.metadata import version
        print(version("pip"), version("setuptools"))
        for module in ("numpy", "pandas", "pkg_resources", "tensorflow"):
            assert importlib.util.find_spec(module) is None, module
    """))  # fmt: skip
    pip_version, setuptools_version = probe.stdout.split()
    assert int(setuptools_version.split(".")[0]) >= 81  # no pkg_resources: what broke pip download
    print(f"pip {pip_version}, setuptools {setuptools_version}")


def test_every_command_starts_on_the_base_install(
    base_venv: Path, cluster: LocalCluster, tmp_path: Path
) -> None:
    """`--help` of every command and subcommand works; the demo names the extras it needs."""
    script = textwrap.dedent("""
        import click
        from click.testing import CliRunner
        from hopsfs_tools.cli import main

        def walk(group, prefix):
            for name, command in group.commands.items():
                yield [*prefix, name]
                if isinstance(command, click.Group):
                    yield from walk(command, [*prefix, name])

        runner = CliRunner()
        for args in [[], *walk(main, [])]:
            result = runner.invoke(main, [*args, "--help"])
            assert result.exit_code == 0, (args, result.output, result.exception)
            print(" ".join(args) or "(main)")
    """)
    env = venv_env(cluster, tmp_path / "cache")
    helped = run(base_venv / "python", "-c", script, env=env).stdout.splitlines()
    assert {"(main)", "ls", "put", "demo", "cluster", "cluster up", "libhdfs", "project"} <= set(
        helped
    )
    run(base_venv / "hopsfs-tools", "--version", env=env)
    listing = run(base_venv / "hopsfs-tools", "ls", "/", env={**env, "HADOOP_USER_NAME": "x"})
    assert "/Projects" in listing.stdout or "/tests" in listing.stdout
    status = run(
        base_venv / "hopsfs-tools", "cluster", "status", "--dir", cluster.directory, env=env
    )
    assert "datanodes:   3 live" in status.stdout
    demo = subprocess.run(
        [base_venv / "hopsfs-tools", "demo"], check=False, capture_output=True, text=True, env=env
    )
    assert demo.returncode == 1
    assert demo.stderr.strip().splitlines() == [
        "Error: the demo needs pandas and tensorflow: pip install 'hopsfs-tools[pandas,tf]'"
    ]


@pytest.mark.slow
def test_arrow_backend_bootstraps_from_a_cold_cache(
    base_venv: Path, cluster: LocalCluster, hdfs_dir: str, tmp_path: Path
) -> None:
    """`hopsfs-tools libhdfs` resolves the jars and builds libhdfs.so into an empty cache (pydoop's
    sdist fetched and verified, never executed); the arrow backend then reads from the cluster,
    with no log4j chatter on stderr."""
    cache = tmp_path / "cold-cache"
    env = venv_env(cluster, cache)
    started = time.monotonic()
    built = run(base_venv / "hopsfs-tools", "libhdfs", env=env)
    print(f"cold bootstrap: {time.monotonic() - started:.1f} s")
    assert f"libhdfs.so:  {cache / 'libhdfs' / 'libhdfs.so'}" in built.stdout
    assert "pydoop-2.0.0.tar.gz" in (cache / "libhdfs" / "BUILD_INFO.json").read_text()
    assert not list(cache.rglob("setup.py"))  # only src/libhdfs was unpacked, nothing kept

    script = textwrap.dedent(f"""
        import fsspec
        fs = fsspec.filesystem("hopsfs", backend="arrow", user={cluster.state.user!r})
        fs.pipe_file({hdfs_dir + "/hello.txt"!r}, b"hello from a fresh venv")
        print(fs.cat_file({hdfs_dir + "/hello.txt"!r}).decode())
        try:
            fs.info({hdfs_dir + "/missing"!r})
        except FileNotFoundError:
            print("missing: FileNotFoundError")
    """)
    proc = run(base_venv / "python", "-c", script, env=env, timeout=300)
    assert proc.stdout.splitlines() == ["hello from a fresh venv", "missing: FileNotFoundError"]
    noise = [line for line in proc.stderr.splitlines() if " WARN " in line or "log4j" in line]
    assert noise == [], proc.stderr
