"""The JVM environment of libhdfs (the arrow backend), given to the JVM without leaking.

libhdfs starts the process's JVM at its first connection, reading CLASSPATH and LIBHDFS_OPTS
from the C environment, and pyarrow finds libhdfs.so through ARROW_LIBHDFS_DIR / JAVA_HOME when
it first loads it. Those values are set only for that moment (`jvm_environment`) and the
previous environment is restored after, so child processes started later inherit exactly what
the user had (a CLASSPATH of Hadoop jars would beat the conf dir a child asks for).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hopsfs_tools.config import settings
from hopsfs_tools.hadoop.libhdfs import arrow_environment

_lock = threading.Lock()
_environment: dict[str, str] | None = None  # what the process's (single) JVM is started with


def libhdfs_environment(conf_dir: str | None) -> dict[str, str]:
    """The variables libhdfs's JVM needs (computed once per process: there is one JVM)."""
    global _environment
    with _lock:
        if _environment is None:
            env = arrow_environment(conf_dir)
            if _has_hadoop_jars(settings.java().classpath or ""):
                env.pop("CLASSPATH")  # the user's own Hadoop CLASSPATH wins
            _environment = env
        return dict(_environment)


@contextmanager
def jvm_environment(conf_dir: str | None) -> Iterator[dict[str, str]]:
    """Within the block, os.environ also holds libhdfs's variables; restored on exit.

    The one write of the Java side into os.environ: libhdfs and the JVM it starts read only the
    C environment (getenv), so the values must be there while pyarrow loads libhdfs.so and
    connects the first time."""
    env = libhdfs_environment(conf_dir)
    with _lock, settings.exported_for_block(env):
        yield env


def _has_hadoop_jars(classpath: str) -> bool:
    """Whether `classpath` lists Hadoop client jars explicitly (the JNI JVM expands no `*`)."""
    return (
        "hadoop-common" in classpath and "hadoop-hdfs-client" in classpath and "*" not in classpath
    )


__all__ = ["jvm_environment", "libhdfs_environment"]
