"""PySpark on the project: a SparkSession whose Hadoop client acts as the project user.

Spark's JVM has its own Hadoop client. `configure` gives it what hopsfs-tools knows about the
cluster: `fs.defaultFS` and every property of HADOOP_CONF_DIR's core-site.xml / hdfs-site.xml
(HA nameservices, `dfs.client.use.datanode.hostname`, ...) as `spark.hadoop.*`, and the HDFS
user, which Hadoop reads from HADOOP_USER_NAME once, when the JVM starts. `uri` turns every path
form hopsfs-tools accepts into the "hdfs://host:port/..." URI Spark reads and writes.
PySpark (extra `[spark]`) is imported only when these functions run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hadoop import identity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import SparkSession

DEFAULT_APP_NAME = "hopsfs-tools"
DEFAULT_MASTER = "local[2]"
# A light local session: no web UI to bind, and few shuffle partitions (Spark's 200 suit clusters).
LOCAL_DEFAULTS = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}
_INSTALL = "install it with `pip install 'hopsfs-tools[spark]'`"


def uri(
    path: str | os.PathLike[str], *, project: str | None = None, fs: HopsFileSystem | None = None
) -> str:
    """The URI Spark understands: "Resources/x" -> "hdfs://host:port/Projects/P/Resources/x".

    Project-relative paths and "hopsfs://rel" join the project root; "/abs" and "hopsfs:///abs"
    get the cluster's namenode URI; "hdfs://host:port/abs" keeps its authority.
    """
    fs = _filesystem(fs, project=project)
    text = os.fspath(path)
    scheme, has_scheme, _ = text.partition("://")
    if has_scheme and scheme != "hopsfs":
        parts = urlsplit(text)
        return f"{parts.scheme}://{parts.netloc}{fs.resolve(text)}"
    return fs.config.namenode_uri + fs.resolve(text)


def hadoop_conf(
    *, project: str | None = None, user: str | None = None, fs: HopsFileSystem | None = None
) -> dict[str, str]:
    """The Hadoop client configuration for the cluster: HADOOP_CONF_DIR's properties, fs.defaultFS.

    These are what `configure` sets as "spark.hadoop.<name>" (usable with spark-submit --conf).
    """
    fs = _filesystem(fs, project=project, user=user)
    return {**fs.config.properties, "fs.defaultFS": fs.config.namenode_uri}


def configure(
    builder: SparkSession.Builder,
    *,
    project: str | None = None,
    user: str | None = None,
    fs: HopsFileSystem | None = None,
) -> SparkSession.Builder:
    """`builder` set up to use the cluster as the project user (call `.getOrCreate()` on it).

    Exports HADOOP_USER_NAME in this process's environment, which the Spark JVM inherits when it
    starts (see `hadoop.identity.bind_spark`; hdfs-native clients of this process then act as that
    user too). Raises ValueError if Spark already runs in this process with another fs.defaultFS
    or HDFS user.
    """
    fs = _filesystem(fs, project=project, user=user)
    hadoop = hadoop_conf(fs=fs)
    spark_user = fs.config.user
    _check_running_spark(hadoop["fs.defaultFS"], spark_user)
    if spark_user:
        identity.bind_spark(spark_user)
    return builder.config(map={f"spark.hadoop.{name}": value for name, value in hadoop.items()})


def session(
    app_name: str = DEFAULT_APP_NAME,
    master: str = DEFAULT_MASTER,
    *,
    project: str | None = None,
    user: str | None = None,
    fs: HopsFileSystem | None = None,
    conf: Mapping[str, Any] | None = None,
) -> SparkSession:
    """A SparkSession on the cluster acting as the project user; the running one if it matches.

    Relative paths given to Spark ("Resources/x.csv") resolve against the project root.
    `conf` adds Spark settings; local masters default to `LOCAL_DEFAULTS` (no web UI, 4 shuffle
    partitions), which `conf` overrides.
    """
    builder = _pyspark().sql.SparkSession.builder.appName(app_name).master(master)
    fs = _filesystem(fs, project=project, user=user)
    defaults = LOCAL_DEFAULTS if master.startswith("local") else {}
    builder = builder.config(map={**defaults, **(conf or {})})
    spark = configure(builder, fs=fs).getOrCreate()
    if fs.project:
        _set_working_directory(spark, fs.project.root)
    return spark


def _filesystem(
    fs: HopsFileSystem | None, *, project: str | None = None, user: str | None = None
) -> HopsFileSystem:
    """`fs`, else the filesystem of `project` / `user` (which no I/O happens through)."""
    if fs is None:
        return HopsFileSystem(project=project, user=user)
    if project is not None or user is not None:
        raise ValueError(
            "pass either fs= or project=/user=, not both: the filesystem already names its "
            f"project ({fs.project.name if fs.project else None}) and user"
        )
    return fs


def _set_working_directory(spark: SparkSession, directory: str) -> None:
    """Make Spark resolve relative paths in `directory`.

    Spark qualifies a relative path against the working directory of the JVM's cached Hadoop
    client for fs.defaultFS (by default the home directory /user/<user>), so set it there.
    """
    context = spark.sparkContext
    hadoop_fs = context._jvm.org.apache.hadoop.fs
    client = hadoop_fs.FileSystem.get(context._jsc.hadoopConfiguration())
    client.setWorkingDirectory(hadoop_fs.Path(directory))


def _pyspark() -> Any:
    """The pyspark package (with pyspark.sql), or an ImportError saying how to install it."""
    try:
        import pyspark.sql
    except ImportError as e:
        raise ImportError(f"hopsfs_tools.adapters.spark needs PySpark: {_INSTALL} ({e})") from e
    return pyspark


def _check_running_spark(default_fs: str, user: str | None) -> None:
    """Raise ValueError if Spark already runs in this process for another cluster or HDFS user.

    A stopped SparkContext leaves its JVM running, and the next session reuses it: the HDFS user
    is fixed for the life of the Python process, fs.defaultFS for the life of a session.
    """
    spark_context = _pyspark().SparkContext
    jvm = spark_context._jvm  # None until this process starts Spark's JVM
    if jvm is None:
        return
    ugi = jvm.org.apache.hadoop.security.UserGroupInformation
    running_user = ugi.getCurrentUser().getShortUserName()
    if user and running_user != user:
        raise ValueError(
            f"Spark already runs in this process as HDFS user {running_user!r}, not {user!r}: its "
            "JVM reads HADOOP_USER_NAME once, when it starts. Restart the Python process (Jupyter "
            f"kernel) with HADOOP_USER_NAME={user} and get Spark from hopsfs_tools.adapters.spark.session() "
            "before anything else starts it"
        )
    active = spark_context._active_spark_context  # None after stop()
    if active is None:
        return
    running_fs = active._jsc.hadoopConfiguration().get("fs.defaultFS")
    if (running_fs or "").rstrip("/") != default_fs.rstrip("/"):
        raise ValueError(
            f"A SparkSession is already running with fs.defaultFS={running_fs}, not {default_fs}: "
            "stop it (spark.stop()) and call hopsfs_tools.adapters.spark.session() again, or create it "
            "with hopsfs_tools.adapters.spark.configure(SparkSession.builder).getOrCreate()"
        )


__all__ = ["LOCAL_DEFAULTS", "configure", "hadoop_conf", "session", "uri"]
