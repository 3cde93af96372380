"""TensorFlow's own readers and writers on hdfs://, viewfs:// and hopsfs:// paths.

A TF modular filesystem plugin (hdfs_filesystem.cc, libhdfs underneath) compiled with g++ at
first use against the installed TF's headers into the user cache, one build per TF version,
then loaded with `tf.experimental.register_filesystem_plugin`. After `register()`,
`tf.data.TFRecordDataset("hdfs://...")`, `tf.io.gfile`, checkpoints, SavedModel, Keras and
TensorBoard take HDFS paths unchanged, with no Python in the data path.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopsfs_tools.config import cache_dir, load_config, settings
from hopsfs_tools.config.project import current_project
from hopsfs_tools.fs.errors import kerberos
from hopsfs_tools.hadoop.identity import ticket_cache_file
from hopsfs_tools.hadoop.libhdfs import LIB_NAME, arrow_environment, libjvm_dir

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig
    from hopsfs_tools.fs import HopsFileSystem

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("hdfs_filesystem.cc")
SCHEMES = ("hdfs", "viewfs", "hopsfs")
UNUSED_DAYS = 30  # a build not loaded for this long is deleted when another one is built
_HEADER = "tensorflow/c/experimental/filesystem/filesystem_interface.h"
# What TF's C++ prints on stderr while it is imported, whatever TF_CPP_MIN_LOG_LEVEL says (absl
# logs before its InitializeLog): notices, not problems.
_IMPORT_NOTICES = re.compile(
    r"oneDNN custom operations are on|cpu_feature_guard|^To enable the following instructions"
    r"|All log messages before absl::InitializeLog"
)
_LOCK = threading.Lock()
_REGISTERED: list[Path] = []  # the plugin this process registered (TF cannot register twice)
RECORDS_MARK = "#hopsfs-records"  # see records_url (kRecordsMark in hdfs_filesystem.cc)


def tensorflow() -> Any:
    """`import tensorflow`, without the oneDNN and CPU-feature notices its C++ prints on stderr;
    anything else printed meanwhile (warnings, errors) is passed on. Unless the user set it,
    TF_CPP_MIN_LOG_LEVEL=1 keeps TF's later C++ INFO lines (buffer sizes, malloc tuning) quiet."""
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    if settings.env("TF_CPP_MIN_LOG_LEVEL") is None:  # TF's C++ reads it at import
        settings.export("TF_CPP_MIN_LOG_LEVEL", "1")
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines() if not _IMPORT_NOTICES.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
    return tf


def _jvm_settings(conf_dir: str | None) -> dict[str, str]:
    """JAVA_HOME, CLASSPATH, LIBHDFS_OPTS and libhdfs's directory for the JVM libhdfs starts.

    The one place this module asks for the JVM environment; nothing is written to os.environ
    (the plugin starts the JVM with these settings itself, or libhdfs joins a running one).
    """
    env = arrow_environment(conf_dir)
    env["CLASSPATH"] = settings.user_hadoop_classpath() or env["CLASSPATH"]  # the user's wins
    return env


def plugin_path(tf_version: str, libhdfs_dir: str, java_home: str, crc32c: str = "") -> Path:
    """Where the plugin built for this TF version, source, libhdfs, JDK and CRC32C library is
    cached."""
    digest = hashlib.sha256(
        SOURCE.read_bytes() + f"\0{libhdfs_dir}\0{java_home}\0{crc32c}\0{sys.version}".encode()
    ).hexdigest()[:12]
    return cache_dir() / "tf-plugin" / f"tf-{tf_version}-{digest}" / "libhopsfs_tf.so"


def crc32c_library() -> Path:
    """The C library google-crc32c computes with (its wheel's vendored libcrc32c, or the system's
    it was built against), which the plugin links to check TFRecords: 2-3x TF's own CRC32C
    here (13 vs 5 GB/s)."""
    import google_crc32c

    if google_crc32c.implementation != "c":
        raise RuntimeError(
            "the TensorFlow HDFS plugin needs google-crc32c's C library, but google-crc32c "
            "runs its pure-Python fallback: reinstall it from a wheel (pip install --force-reinstall "
            "google-crc32c)"
        )
    with open("/proc/self/maps") as maps:  # where the dynamic loader found it
        for line in maps:
            path = line.rstrip("\n").split(maxsplit=5)[-1]
            if re.search(r"/libcrc32c[^/]*\.so", path):
                return Path(path)
    raise RuntimeError("google-crc32c is loaded but its libcrc32c is not: reinstall google-crc32c")


def build(*, rebuild: bool = False) -> Path:
    """The plugin's shared library for the installed TF, compiled (g++) if missing or stale."""
    tf = tensorflow()

    env = _jvm_settings(settings.env("HADOOP_CONF_DIR"))
    java_home = Path(env["JAVA_HOME"])
    crc32c = crc32c_library()
    target = plugin_path(tf.__version__, env["ARROW_LIBHDFS_DIR"], str(java_home), str(crc32c))
    if target.exists() and not rebuild:
        _mark_used(target)
        return target
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError(
            "building the TensorFlow HDFS plugin needs a C++ compiler: install g++ "
            "(e.g. `apt-get install g++`)"
        )
    include = Path(tf.sysconfig.get_include())
    if not (include / _HEADER).exists():
        raise RuntimeError(
            f"TensorFlow {tf.__version__} ships no C filesystem header ({include}/{_HEADER}): "
            "install a tensorflow / tensorflow-cpu wheel that has tensorflow/include"
        )
    jni = java_home / "include"
    if not (jni / "jni.h").exists():
        raise RuntimeError(
            f"JAVA_HOME={java_home} has no JNI headers ({jni}/jni.h): point JAVA_HOME at a JDK, "
            "not a JRE (e.g. `apt-get install openjdk-17-jdk-headless`)"
        )
    jvm_dir = libjvm_dir(java_home)
    libhdfs_dir = env["ARROW_LIBHDFS_DIR"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    cmd = [
        compiler,
        "-shared",
        "-fPIC",
        "-O2",
        "-fvisibility=hidden",
        *tf.sysconfig.get_compile_flags(),
        f"-I{jni}",
        f"-I{jni / 'linux'}",
        "-o",
        str(partial),
        str(SOURCE),
        f"-L{libhdfs_dir}",
        f"-l:{LIB_NAME}",
        f"-Wl,-rpath,{libhdfs_dir}",
        f"-L{jvm_dir}",
        "-ljvm",
        f"-Wl,-rpath,{jvm_dir}",
        f"-L{crc32c.parent}",
        f"-l:{crc32c.name}",
        f"-Wl,-rpath,{crc32c.parent}",
        *tf.sysconfig.get_link_flags(),
    ]
    log.info("compiling the TensorFlow HDFS plugin for TF %s into %s", tf.__version__, target)
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        raise RuntimeError(f"g++ failed to compile the TensorFlow HDFS plugin:\n{tail}")
    os.replace(partial, target)
    _prune(keep=target)
    return target


def _mark_used(library: Path) -> None:
    """Touch a cached build (its mtime says when it was last used: see `_prune`)."""
    try:
        os.utime(library)
    except OSError:  # a read-only cache: it is only not pruned
        pass


def _prune(keep: Path) -> None:
    """Delete the builds (of other TF versions, JDKs, sources) not used for UNUSED_DAYS."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    for library in keep.parent.parent.glob(f"*/{keep.name}"):
        try:
            unused = library != keep and library.stat().st_mtime < cutoff
        except FileNotFoundError:  # pruned by another process meanwhile
            continue
        if unused:
            log.info("removing the TensorFlow HDFS plugin build %s (unused)", library.parent)
            shutil.rmtree(library.parent, ignore_errors=True)


def _settings_text() -> str:
    """The plugin's settings ("key=value" lines): cluster, identity, project, JVM."""
    try:
        config: ClusterConfig | None = load_config()
    except ValueError:  # no default cluster: hdfs://host:port URLs still work
        config = None
    project = current_project()
    env = _jvm_settings(config.conf_dir if config else settings.env("HADOOP_CONF_DIR"))
    kerberos = config is not None and config.kerberos
    user = None if kerberos else (config and config.user) or (project.user if project else None)
    rpc = config.namenode_uri if config else ""
    lines = {
        "default_fs": rpc if rpc.startswith(("hdfs://", "viewfs://")) else "",
        "no_default": f"the cluster is configured by its WebHDFS address only ({rpc}), and "
        "this plugin's client, libhdfs, speaks RPC: set HOPSFS_NAMENODE_URI=hdfs://host:port "
        "(or HADOOP_CONF_DIR with fs.defaultFS), or write hdfs://host:port/path"
        if rpc.startswith(("webhdfs://", "swebhdfs://"))
        else "",
        "user": user or "",
        # a token file (HADOOP_TOKEN_FILE_LOCATION) logs Java in without a ticket: no cache login then
        "ticket_cache": (ticket_cache_file(config.ticket_cache) or "")
        if kerberos and not config.token_file
        else "",
        "project_root": project.root if project else "",
        "no_project": "no project is set (set HOPSFS_PROJECT=<project> or "
        "HADOOP_USER_NAME=<project>__<user>), so hopsfs://relative paths have no root; "
        "write hopsfs:///absolute/path or hdfs://...",
        "classpath": env["CLASSPATH"],
        "kerberos_hint": _kerberos_hint(config) if kerberos else "",
    }
    text = "".join(f"{key}={_escape(value)}\n" for key, value in lines.items())
    text += "".join(f"jvm_option={_escape(opt)}\n" for opt in env["LIBHDFS_OPTS"].split() if opt)
    timeout = config.timeout if config else 20.0
    conf = {
        "ipc.client.connect.max.retries": "1",
        "ipc.client.connect.timeout": str(max(int(timeout * 1000 / 3), 1000)),
        "ipc.client.connect.max.retries.on.timeouts": "1",
        **(config.properties if config else {}),
    }
    if any("\n" in key or "=" in key for key in conf):
        raise ValueError("a Hadoop property name holds a newline or '='; fix it in the XML")
    return text + "".join(f"conf.{key}={_escape(value)}\n" for key, value in conf.items())


def _escape(value: str) -> str:
    """A settings value on one line (the plugin's Unescape reverses it)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _kerberos_hint(config: ClusterConfig) -> str:
    """What the plugin says when the cluster refuses to authenticate it (how to get a ticket)."""
    return kerberos("", "no valid Kerberos ticket", config.properties).strerror


def register() -> Path:
    """Register hdfs://, viewfs:// and hopsfs:// with TensorFlow (once per process).

    Calling it again re-reads the cluster, user and project (HOPSFS_PROJECT, HADOOP_USER_NAME)
    for paths opened afterwards. Returns the plugin's path; RuntimeError names what is missing.
    """
    tf = tensorflow()

    with _LOCK:
        path = _REGISTERED[0] if _REGISTERED else build()
        settings = _settings_text().encode()
        _library(path).hopsfs_tf_configure(settings)  # same handle TF dlopens
        if not _REGISTERED:
            tf.experimental.register_filesystem_plugin(str(path))
            _REGISTERED.append(path)
            log.info("registered %s with TensorFlow from %s", ", ".join(SCHEMES), path)
        return path


def records_url(url: str) -> str:
    """`url` of a TFRecord file marked so that the plugin checks its records while TF reads it:
    a bad or cut-off record fails the read with an error naming the file and the record's offset
    (RecordCheck in hdfs_filesystem.cc)."""
    return f"{url}{RECORDS_MARK}"


_LIBRARIES: dict[Path, ctypes.CDLL] = {}


def _library(path: Path) -> ctypes.CDLL:
    """The plugin's library, through the handle TF dlopens too (dlopen returns the same one)."""
    if path not in _LIBRARIES:
        _LIBRARIES[path] = ctypes.CDLL(str(path))
    return _LIBRARIES[path]


def registered() -> bool:
    """Whether this process registered the plugin with TensorFlow."""
    return bool(_REGISTERED)


def uri_maker(fs: HopsFileSystem) -> Callable[[str], str]:
    """A function from absolute HDFS paths of `fs`'s cluster to URLs TF opens via the plugin."""
    namenode = fs.config.namenode_uri
    if not namenode.startswith(("hdfs://", "viewfs://")):
        raise ValueError(
            f"the cluster {namenode} is reached over WebHDFS only; TF's hdfs:// plugin needs the "
            "namenode's RPC address: use strategy='cache' or 'stream'"
        )
    register()
    return lambda path: namenode.rstrip("/") + fs.resolve(path)
