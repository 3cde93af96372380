"""Building the TF filesystem plugin: cached per TF version, and one clear line for what is
missing (compiler, TF's C header, a JDK). The `hopsfs-tools tf-plugin` command."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from click.testing import CliRunner

tf = pytest.importorskip("tensorflow")

from hopsfs_tools.cli.main import main
from hopsfs_tools.tensorflow import plugin


def test_cli_builds_and_names_the_plugin():
    result = CliRunner().invoke(main, ["tf-plugin"])
    assert result.exit_code == 0, result.output
    path = result.output.splitlines()[0]
    assert path == str(plugin.build())
    assert f"/tf-{tf.__version__}-" in path
    assert "schemes: hdfs://, viewfs://, hopsfs://" in result.output


def test_the_cache_is_keyed_by_tensorflow_version():
    here = plugin.plugin_path(tf.__version__, "/lib", "/jdk")
    assert plugin.plugin_path("9.9.9", "/lib", "/jdk") != here
    assert plugin.plugin_path(tf.__version__, "/lib", "/other-jdk") != here
    assert plugin.plugin_path(tf.__version__, "/lib", "/jdk") == here


def test_missing_compiler_is_one_clear_line(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if "++" in name else real(name))
    with pytest.raises(RuntimeError, match=r"needs a C\+\+ compiler: install g\+\+"):
        plugin.build(rebuild=True)


def test_missing_tensorflow_header_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setattr(tf.sysconfig, "get_include", lambda: str(tmp_path))
    with pytest.raises(RuntimeError, match="ships no C filesystem header"):
        plugin.build(rebuild=True)


def test_missing_jdk_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match=f"JAVA_HOME={tmp_path}"):
        plugin.build(rebuild=True)


def test_a_new_build_deletes_builds_unused_for_a_month(monkeypatch, tmp_path):
    """Each use touches its build; building another deletes those untouched for UNUSED_DAYS."""
    monkeypatch.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path))
    builds = tmp_path / "tf-plugin"
    old, recent = builds / "tf-0.1-old", builds / "tf-0.1-recent"
    for build, days in ((old, plugin.UNUSED_DAYS + 1), (recent, plugin.UNUSED_DAYS - 1)):
        build.mkdir(parents=True)
        (build / "libhopsfs_tf.so").write_bytes(b"an earlier build")
        when = time.time() - days * 86400
        os.utime(build / "libhopsfs_tf.so", (when, when))
    new = plugin.build()
    assert new.parent.parent == builds and new.exists()
    assert sorted(p.name for p in builds.iterdir()) == sorted([new.parent.name, recent.name])
    os.utime(new, (0, 0))
    assert plugin.build() == new
    assert time.time() - new.stat().st_mtime < 60  # used now: kept by the next prune
