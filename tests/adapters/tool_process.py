"""Fresh interpreters for the tools' tests: a tool's documented call run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

NO_JVM_LOADED = """
with open("/proc/self/maps") as maps:
    assert "libjvm" not in maps.read(), "a JVM was loaded"
"""
JVM_VARIABLES = ("JAVA_HOME", "CLASSPATH", "ARROW_LIBHDFS_DIR", "LIBHDFS_OPTS", "HADOOP_HOME")


def run_python(
    code: str, *, no_jvm: bool = False, timeout: float = 300, env: dict[str, str] | None = None
) -> str:
    """`code` run in a fresh interpreter with this environment; its stdout, or an AssertionError
    with its stderr. `no_jvm`: without the JVM's variables, no `java` on PATH, and the run fails
    if a JVM was loaded into the process all the same. `env`: variables set on top of ours."""
    env = os.environ | (env or {})
    if no_jvm:
        for name in JVM_VARIABLES:
            env.pop(name, None)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + "/usr/local/bin"
        code += NO_JVM_LOADED
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout
