"""Settings: the one reader of the process environment (fsspec's `apply_config` pattern).

`options(**explicit)` turns a filesystem's keyword arguments into explicit ones, filling in what
the environment says, before fsspec computes the instance-cache key: instances built under
different environments differ, and `storage_options` are complete and picklable (a worker
process rebuilds the same filesystem whatever its own environment). `resolve` then builds
`Settings(cluster, identity)` from them.

Values hopsfs-tools itself writes into the environment for a client library that reads only
the environment (HADOOP_USER_NAME for hdfs-native, see `hadoop.identity`) are "shadowed": the
resolver keeps reading what the user had set, so a later filesystem is never silently someone
else.
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hopsfs_tools.config.cluster import ClusterConfig, build_config

PROJECT_SEP = "__"  # Hopsworks project users are named "<project>__<user>"
# keyword argument -> the environment variable giving it when not passed explicitly
ENVIRONMENT = {
    "namenode": "HOPSFS_NAMENODE_URI",
    "webhdfs_url": "HOPSFS_WEBHDFS_URL",
    "backend": "HOPSFS_BACKEND",
    "conf_dir": "HADOOP_CONF_DIR",
    "timeout": "HOPSFS_TIMEOUT",
    "ca_cert": "HOPSFS_CA_CERT",
    "retries": "HOPSFS_RETRIES",
    "retry_backoff": "HOPSFS_RETRY_BACKOFF",
    "user": "HADOOP_USER_NAME",
    "ticket_cache": "KRB5CCNAME",  # another ticket cache may hold another principal
    "token_file": "HADOOP_TOKEN_FILE_LOCATION",  # delegation tokens: another identity
}
PROJECT_VARIABLES = ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME")

# variable -> (the user's value, the value hopsfs-tools set) while hopsfs-tools holds it
_shadowed: dict[str, tuple[str | None, str | None]] = {}
_shadow_lock = threading.Lock()


def env(name: str) -> str | None:
    """An environment variable as the user set it (None when unset or blank): while hopsfs-tools
    holds it (`set_shadowed`) and nobody changed it since, the user's earlier value."""
    with _shadow_lock:
        value = os.environ.get(name)
        if name in _shadowed and _shadowed[name][1] == value:
            value = _shadowed[name][0]
    value = (value or "").strip()
    return value or None


def set_shadowed(name: str, value: str | None) -> None:
    """Set (None: unset) `name` in os.environ for a client library that reads only the
    environment, while `env(name)` keeps answering the user's own value; `unshadow` restores it."""
    with _shadow_lock:
        current = os.environ.get(name)
        held = _shadowed.get(name)
        original = held[0] if held is not None and held[1] == current else current
        _shadowed[name] = (original, value)
        _put(name, value)


def unshadow(name: str) -> None:
    """Give `name` back the value the user had set before `set_shadowed` (unless the user has
    changed it since)."""
    with _shadow_lock:
        if name in _shadowed:
            original, ours = _shadowed.pop(name)
            if os.environ.get(name) == ours:
                _put(name, original)


def export(name: str, value: str) -> None:
    """Set `name` as if the user had exported it (e.g. for a JVM started later, which inherits
    it); what hopsfs-tools held it at is forgotten."""
    with _shadow_lock:
        _shadowed.pop(name, None)
        _put(name, value)


def child_environment(**changes: str | None) -> dict[str, str]:
    """This process's environment with `changes` (None: removed), for a child process to get."""
    with _shadow_lock:
        child = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            child.pop(name, None)
        else:
            child[name] = value
    return child


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def cache_dir() -> Path:
    """The hopsfs-tools cache root: $HOPSFS_TOOLS_CACHE, else $XDG_CACHE_HOME or ~/.cache."""
    own = env("HOPSFS_TOOLS_CACHE")
    if own:
        return Path(own).expanduser()
    xdg = env("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hopsfs-tools"


def default_cluster_dir() -> Path:
    """Where `hopsfs-tools cluster up` keeps the embedded local cluster by default."""
    return cache_dir() / "cluster"


def environment_project() -> str | None:
    """The project the environment names: $HOPSFS_PROJECT, else $HOPSWORKS_PROJECT_NAME."""
    return next((v for v in map(env, PROJECT_VARIABLES) if v), None)


@dataclass(frozen=True)
class Identity:
    """Who acts on the cluster: the project (if any) and the HDFS user.

    `user` is the explicit user, else $HADOOP_USER_NAME, else the project user "<project>__<login>"
    when a project is set, else None (the login name). Every backend and Spark act as `user`.
    """

    project: str | None
    user: str | None


def identity(project: str | None = None, user: str | None = None) -> Identity:
    """The project and acting user: explicit > environment > P of a "P__u" user; the project
    user "<project>__<login>" when a project is set without a user."""
    user = user if user is not None else env("HADOOP_USER_NAME")
    if project is None:
        project = environment_project()
    if project is None and user is not None and PROJECT_SEP in user:
        project = user.split(PROJECT_SEP)[0] or None
    if user is None and project is not None:
        user = f"{project}{PROJECT_SEP}{getpass.getuser()}"
    return Identity(project, user)


@dataclass(frozen=True)
class Settings:
    """Everything a filesystem is configured by: the cluster and the identity acting on it."""

    cluster: ClusterConfig
    identity: Identity


def options(**explicit: Any) -> dict[str, Any]:
    """`explicit` with every setting the environment gives filled in (see module docstring).

    Keys other than the settings (fsspec's own, `batch_size`, ...) pass through unchanged.
    A `project` given as a `Project` object is kept (it carries its user).
    """
    out = dict(explicit)
    for key, variable in ENVIRONMENT.items():
        if out.get(key) is None:
            out[key] = env(variable)
    if out.get("project") is None:
        out["project"] = environment_project()
    if out["conf_dir"] is None and not (out["namenode"] or out["webhdfs_url"]):
        default = default_cluster_dir() / "conf"  # the local default cluster (`cluster up`)
        out["conf_dir"] = str(default) if default.is_dir() else None
    return out


def resolve(**explicit: Any) -> Settings:
    """The settings of a filesystem: explicit arguments > environment > HADOOP_CONF_DIR XML >
    the local default cluster. `project` may be a name or a `Project` (its user acts)."""
    given = options(**explicit)
    project = given.get("project")
    if project is not None and not isinstance(project, str):  # a Project: name and user
        who = Identity(project.name, project.user)
    else:
        who = identity(project, given.get("user"))
    cluster = build_config(
        namenode=given["namenode"],
        webhdfs_url=given["webhdfs_url"],
        backend=given["backend"],
        conf_dir=given["conf_dir"],
        user=who.user,
        timeout=given["timeout"],
        ca_cert=given["ca_cert"],
        retries=given["retries"],
        retry_backoff=given["retry_backoff"],
        ticket_cache=given["ticket_cache"],
        token_file=given["token_file"],
    )
    return Settings(cluster, who)


def load_config(**explicit: Any) -> ClusterConfig:
    """Find the cluster: explicit args > env > HADOOP_CONF_DIR XML > the local default cluster."""
    return resolve(**explicit).cluster


# -- TensorFlow (hopsfs_tools.tensorflow): the environment its plugin and tf.data input read ----


def tfrecord_cache_dir() -> str | None:
    """$HOPSFS_CACHE_DIR: where tfrecord_dataset's "cache" strategy copies shards (None: the
    temp dir)."""
    return env("HOPSFS_CACHE_DIR")


def user_hadoop_classpath() -> str | None:
    """$CLASSPATH when it is the user's own Hadoop class path (explicit jars, as `hadoop
    classpath --glob` prints): the JVM the TF plugin starts then uses it."""
    value = env("CLASSPATH")
    return value if value and "hadoop-common" in value and "*" not in value else None


# -- the Java side (hadoop/): where Java, Hadoop and libhdfs are, what the libhdfs JVM is given ---


@dataclass(frozen=True)
class JavaSettings:
    """What the environment says about Java, a Hadoop install and libhdfs (read here only; the
    JVM environment hadoop/jvm.py builds from it is given to libhdfs's JVM, not left behind)."""

    java_home: str | None  # JAVA_HOME (else the JDK of `java` on PATH)
    hadoop_home: str | None  # HADOOP_HOME: its `hadoop classpath` and lib/native/libhdfs.so
    libhdfs_dir: str | None  # ARROW_LIBHDFS_DIR: a directory holding libhdfs.so
    ld_library_path: str | None  # LD_LIBRARY_PATH (libjvm.so's directory is added for libhdfs)
    libhdfs_opts: str | None  # LIBHDFS_OPTS: the user's own JVM options for libhdfs
    classpath: str | None  # CLASSPATH: the user's own Hadoop jars win over ours
    krb5_config: str | None  # KRB5_CONFIG: MIT's config, passed to Java (which reads only /etc)
    conf_dir: str | None  # HADOOP_CONF_DIR


@contextmanager
def exported_for_block(values: dict[str, str]) -> Iterator[None]:
    """Within the block os.environ also holds `values` (for a library that reads only the C
    environment, as libhdfs's JVM does); each variable gets its previous value back after."""
    with _shadow_lock:
        previous = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
    try:
        yield
    finally:
        with _shadow_lock:
            for name, value in previous.items():
                _put(name, value)


def java() -> JavaSettings:
    """The Java side's settings, as the environment gives them now."""
    return JavaSettings(
        java_home=env("JAVA_HOME"),
        hadoop_home=env("HADOOP_HOME"),
        libhdfs_dir=env("ARROW_LIBHDFS_DIR"),
        ld_library_path=env("LD_LIBRARY_PATH"),
        libhdfs_opts=env("LIBHDFS_OPTS"),
        classpath=env("CLASSPATH"),
        krb5_config=env("KRB5_CONFIG"),
        conf_dir=env(ENVIRONMENT["conf_dir"]),
    )


__all__ = [
    "ENVIRONMENT",
    "Identity",
    "JavaSettings",
    "Settings",
    "cache_dir",
    "default_cluster_dir",
    "env",
    "environment_project",
    "export",
    "exported_for_block",
    "identity",
    "java",
    "load_config",
    "options",
    "resolve",
    "set_shadowed",
    "tfrecord_cache_dir",
    "unshadow",
    "user_hadoop_classpath",
]
