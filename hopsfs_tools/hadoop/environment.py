"""The Hadoop/JVM environment for tools that open HDFS through pyarrow's own HadoopFileSystem.

pyarrow's `HadoopFileSystem` (and the tools built on it, e.g. PyIceberg's PyArrowFileIO) loads
libjvm from $JAVA_HOME, libhdfs.so from $ARROW_LIBHDFS_DIR, and starts a JVM with the Hadoop
jars and the conf dir from $CLASSPATH.
This project builds that libhdfs and resolves those jars for its arrow backend; here they are
handed to everyone else: as shell exports (`eval "$(hopsfs-tools env)"`) or, for a running
notebook, written into this process's environment (`export_hadoop_environment()`) before the
tool first connects.
"""

from __future__ import annotations

import shlex

from hopsfs_tools.config import settings
from hopsfs_tools.hadoop.libhdfs import arrow_environment


def hadoop_environment(conf_dir: str | None = None) -> dict[str, str]:
    """JAVA_HOME, CLASSPATH (Hadoop jars + conf dir), ARROW_LIBHDFS_DIR, LD_LIBRARY_PATH and
    LIBHDFS_OPTS for pyarrow's HadoopFileSystem; `conf_dir` defaults to $HADOOP_CONF_DIR.

    A missing JDK is a one-line RuntimeError saying what to install; libhdfs.so is built once
    (gcc) when no Hadoop install or earlier build provides it."""
    conf_dir = conf_dir or settings.java().conf_dir
    env = arrow_environment(conf_dir)
    if conf_dir:
        env["HADOOP_CONF_DIR"] = conf_dir
    return env


def shell_exports(env: dict[str, str]) -> str:
    """`export NAME=value` lines a POSIX shell can `eval`."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items()))


def export_hadoop_environment(conf_dir: str | None = None) -> dict[str, str]:
    """Write `hadoop_environment()` into os.environ (for a running notebook) and return it.

    Call it before the first `pyarrow.fs.HadoopFileSystem(...)` of the process: the JVM reads
    CLASSPATH once, when it starts."""
    env = hadoop_environment(conf_dir)
    for name, value in env.items():
        settings.export(name, value)
    return env


__all__ = ["export_hadoop_environment", "hadoop_environment", "shell_exports"]
