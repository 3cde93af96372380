"""libhdfs.so built from pydoop's sdist: symbols pyarrow needs, caching, errors, real I/O."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow
import pytest

from hopsfs_tools.hadoop import libhdfs


def _clean_env(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """Make ensure_libhdfs look only at the cache under `cache`."""
    monkeypatch.setenv("HOPSFS_TOOLS_CACHE", str(cache))
    monkeypatch.delenv("ARROW_LIBHDFS_DIR", raising=False)
    monkeypatch.delenv("HADOOP_HOME", raising=False)


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A libhdfs.so built from scratch (sdist from PyPI + gcc) into an empty cache."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        _clean_env(mp, cache)
        built = libhdfs.ensure_libhdfs()
    assert built == cache / "libhdfs"
    return built


def _pyarrow_hdfs_symbols() -> set[str]:
    """Every libhdfs function name the installed pyarrow's libarrow looks up."""
    lib = next(Path(pyarrow.__file__).parent.glob("libarrow.so*"))
    return {
        m.decode()
        for m in re.findall(rb"(?<![A-Za-z0-9_])(hdfs[A-Z][A-Za-z]+)\x00", lib.read_bytes())
    }


def test_required_symbols_cover_what_pyarrow_loads() -> None:
    wanted = _pyarrow_hdfs_symbols()
    assert {"hdfsBuilderConnect", "hdfsPread", "hdfsGetPathInfo"} <= wanted
    assert wanted <= set(libhdfs.REQUIRED_SYMBOLS)


def test_built_library_exports_every_symbol_pyarrow_needs(fresh_build: Path) -> None:
    so = fresh_build / libhdfs.LIB_NAME
    exported = libhdfs.exported_symbols(so)
    assert set(libhdfs.REQUIRED_SYMBOLS) <= exported
    assert _pyarrow_hdfs_symbols() <= exported
    needed = subprocess.run(["ldd", str(so)], check=False, capture_output=True, text=True).stdout
    assert "libjvm.so" in needed and "not found" not in needed  # rpath to the JDK's libjvm
    assert not list(fresh_build.glob(".*partial"))  # no leftovers from the atomic build


def test_second_call_reuses_the_cache(fresh_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch, fresh_build.parent)
    so = fresh_build / libhdfs.LIB_NAME
    before = so.stat()
    start = time.monotonic()
    assert libhdfs.ensure_libhdfs() == fresh_build
    assert time.monotonic() - start < 1.0
    after = so.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_bad_java_home_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-such-jdk"))
    with pytest.raises(RuntimeError, match=r"JAVA_HOME=.*no-such-jdk.*JNI headers.*JDK"):
        libhdfs.ensure_libhdfs()
    assert not (tmp_path / "libhdfs" / libhdfs.LIB_NAME).exists()


def test_failed_rebuild_keeps_the_working_copy(
    fresh_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch, fresh_build.parent)
    so = fresh_build / libhdfs.LIB_NAME
    before = so.stat().st_ino
    monkeypatch.setenv("JAVA_HOME", "/nonexistent-jdk")
    with pytest.raises(RuntimeError, match="nonexistent-jdk"):
        libhdfs.ensure_libhdfs(rebuild=True)
    assert so.stat().st_ino == before
    assert set(libhdfs.REQUIRED_SYMBOLS) <= libhdfs.exported_symbols(so)


def test_missing_compiler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcc, no cc
    with pytest.raises(RuntimeError, match="gcc"):
        libhdfs.ensure_libhdfs()


def test_environment_overrides_win(
    fresh_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch, tmp_path / "empty-cache")
    native = tmp_path / "hadoop" / "lib" / "native"
    native.mkdir(parents=True)
    (native / libhdfs.LIB_NAME).symlink_to(fresh_build / libhdfs.LIB_NAME)
    monkeypatch.setenv("HADOOP_HOME", str(tmp_path / "hadoop"))
    assert libhdfs.ensure_libhdfs() == native
    monkeypatch.setenv("ARROW_LIBHDFS_DIR", str(fresh_build))
    assert libhdfs.ensure_libhdfs() == fresh_build
    monkeypatch.setenv("ARROW_LIBHDFS_DIR", str(tmp_path / "nothing-here"))  # no .so: falls through
    assert libhdfs.ensure_libhdfs() == native
    assert not (tmp_path / "empty-cache").exists()  # nothing was built


def test_arrow_environment_lists_explicit_jars(cluster: Any) -> None:
    env = libhdfs.arrow_environment(str(cluster.conf_dir))
    assert (Path(env["ARROW_LIBHDFS_DIR"]) / libhdfs.LIB_NAME).exists()
    assert (Path(env["JAVA_HOME"]) / "include" / "jni.h").exists()
    entries = env["CLASSPATH"].split(os.pathsep)
    assert entries[0] == str(cluster.conf_dir)
    assert all("*" not in e for e in entries)
    names = [Path(e).name for e in entries]
    for jar in ("hadoop-common-", "hadoop-hdfs-client-", "commons-lang3-"):
        assert any(n.startswith(jar) and n.endswith(".jar") for n in names), jar
    assert all(Path(e).exists() for e in entries)
    assert str(libhdfs.libjvm_dir(Path(env["JAVA_HOME"]))) in env["LD_LIBRARY_PATH"].split(
        os.pathsep
    )


def test_main_libhdfs_describes_the_setup(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HADOOP_CONF_DIR", str(cluster.conf_dir))
    text = libhdfs.main_libhdfs(rebuild=False)
    env = libhdfs.arrow_environment(str(cluster.conf_dir))
    assert str(Path(env["ARROW_LIBHDFS_DIR"]) / libhdfs.LIB_NAME) in text
    assert env["JAVA_HOME"] in text
    jars = sum(1 for e in env["CLASSPATH"].split(os.pathsep) if e.endswith(".jar"))
    assert re.search(rf"\b{jars} jars\b", text)


def test_fresh_build_serves_pyarrow_against_the_cluster(
    fresh_build: Path, cluster: Any, hdfs_dir: str
) -> None:
    """A new process (its own JVM) loads the freshly built .so through pyarrow and does real I/O."""
    script = f"""
import os, sys
from hopsfs_tools.hadoop.libhdfs import arrow_environment
os.environ.update(arrow_environment({str(cluster.conf_dir)!r}))
assert os.environ["ARROW_LIBHDFS_DIR"] == {str(fresh_build)!r}, os.environ["ARROW_LIBHDFS_DIR"]
import pyarrow.fs as pafs
fs = pafs.HadoopFileSystem({cluster.namenode_uri!r}, 0)
with fs.open_output_stream({hdfs_dir + "/x.bin"!r}) as f:
    f.write(b"libhdfs works")
with fs.open_input_file({hdfs_dir + "/x.bin"!r}) as f:
    sys.stdout.write(f.read_at(5, 8).decode())
try:
    fs.open_input_file({hdfs_dir + "/missing"!r})
except FileNotFoundError:
    pass
"""
    env = {**os.environ, "ARROW_LIBHDFS_DIR": str(fresh_build)}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "works"
    # Java stack traces work: the build points libhdfs at commons-lang3 (Hadoop 3 ships no lang2).
    assert "java.io.FileNotFoundException" in proc.stderr
    assert "unable to get stack trace" not in proc.stderr


def test_sdist_with_another_sha256_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real PyPI download checked against a pin it does not match: nothing is built."""
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setattr(libhdfs, "PYDOOP_SHA256", "0" * 64)
    with pytest.raises(
        RuntimeError, match=r"pydoop-2\.0\.0\.tar\.gz has sha256 c7eb2ad8.*expected 0{64}"
    ):
        libhdfs.ensure_libhdfs()
    assert not (tmp_path / "libhdfs" / libhdfs.LIB_NAME).exists()


def test_libhdfs_jvm_logs_errors_only_unless_told(
    fresh_build: Path, cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster's conf dir has a daemon log4j.properties (INFO on stderr); the arrow backend's
    JVM still logs only errors, and a log4j config in the user's LIBHDFS_OPTS wins."""
    assert "log4j.rootLogger=INFO" in (cluster.conf_dir / "log4j.properties").read_text()
    script = f"""
import os
from hopsfs_tools.hadoop.libhdfs import arrow_environment
os.environ.update(arrow_environment({str(cluster.conf_dir)!r}))
import pyarrow.fs as pafs
fs = pafs.HadoopFileSystem({cluster.namenode_uri!r}, 0)
print(fs.get_file_info("/").type.name)
"""
    base = {k: v for k, v in os.environ.items() if k not in ("CLASSPATH", "LIBHDFS_OPTS")}
    base["ARROW_LIBHDFS_DIR"] = str(fresh_build)

    def stderr_of(env: dict[str, str]) -> str:
        proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip
        assert proc.returncode == 0 and "Directory" in proc.stdout, proc.stderr[-2000:]
        return proc.stderr

    assert stderr_of(base) == ""  # no "WARN util.NativeCodeLoader: Unable to load ..."
    debug = tmp_path / "log4j.properties"
    debug.write_text("log4j.rootLogger=DEBUG,e\nlog4j.appender.e=org.apache.log4j.ConsoleAppender\n"
                     "log4j.appender.e.target=System.err\n"
                     "log4j.appender.e.layout=org.apache.log4j.SimpleLayout\n")  # fmt: skip
    verbose = stderr_of({**base, "LIBHDFS_OPTS": f"-Dlog4j.configuration=file:{debug}"})
    assert "DEBUG - " in verbose
