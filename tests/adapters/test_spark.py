"""hopsfs_tools.adapters.spark on the real cluster: PySpark (local mode) and hopsfs-tools share files.

One Spark JVM serves the module; it acts as the HDFS user of a project created for the module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from hopsfs_tools.adapters import spark as hspark
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.config import write_site_xml
from hopsfs_tools.config.project import Project
from hopsfs_tools.datasets import census
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin as projects

pytest.importorskip("pyspark")

# Light local Spark for a 2-core machine shared with the cluster.
SPARK_CONF = {
    "spark.driver.memory": "768m",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.showConsoleProgress": "false",
}
ROWS = 600


@pytest.fixture(scope="module")
def project(cluster: LocalCluster) -> Iterator[Project]:
    """A fresh project whose user `P__alice` this module acts as (HADOOP_USER_NAME)."""
    name = f"spark{uuid.uuid4().hex[:8]}"
    superuser = HopsFileSystem(
        backend="webhdfs",
        user=cluster.state.user,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
    )
    projects.create_project(name, "alice", fs=superuser)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in cluster.env().items():
            patch.setenv(key, value)
        for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
            patch.delenv(key, raising=False)
        patch.setenv("HADOOP_USER_NAME", f"{name}__alice")
        yield Project(name, f"{name}__alice")
        HopsFileSystem().close()  # hdfs-native binds one user per process: release it
    superuser.rm(f"/Projects/{name}", recursive=True)


@pytest.fixture(scope="module")
def fs(project: Project) -> HopsFileSystem:
    """The project user's filesystem (native backend)."""
    return HopsFileSystem()


@pytest.fixture(scope="module")
def spark_jvm(project: Project) -> Iterator[None]:
    """Start Spark for the module; stop whichever session is active at the end."""
    from pyspark.sql import SparkSession

    hspark.session(conf=SPARK_CONF)
    yield
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


@pytest.fixture
def spark(spark_jvm: None):
    """The module's SparkSession (getOrCreate: a test that stops it gets a fresh one)."""
    return hspark.session(conf=SPARK_CONF)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Census rows with a unique id, so rows can be matched after Spark reorders them."""
    data = census(ROWS, seed=7)
    data.insert(0, "id", range(ROWS))
    return data


@pytest.fixture(scope="module")
def census_files(fs: HopsFileSystem, frame: pd.DataFrame) -> dict[str, str]:
    """The census written by pandas through hopsfs:// URLs as CSV and as a Parquet file."""
    frame.to_csv("hopsfs://Resources/census.csv", index=False)
    frame.to_parquet("hopsfs://Resources/census.parquet", index=False)
    return {"csv": "Resources/census.csv", "parquet": "Resources/census.parquet"}


def by_id(data: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by id with a fresh index; text columns as object with None for missing."""
    data = data.sort_values("id").reset_index(drop=True)
    for column in data.columns:
        if not pd.api.types.is_numeric_dtype(data[column]):
            data[column] = data[column].astype(object).where(data[column].notna(), None)
    return data


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(by_id(actual), by_id(expected), check_dtype=False)


def part_files(fs: HopsFileSystem, directory: str, suffix: str) -> list[str]:
    """The data files of a directory Spark wrote, after checking its commit marker."""
    names = sorted(fs.ls(directory, detail=False))  # in the form asked: project-relative here
    assert f"{directory}/_SUCCESS" in names
    assert not [n for n in names if "_temporary" in n], names
    parts = [n for n in names if os.path.basename(n).startswith("part-") and n.endswith(suffix)]
    assert parts, names
    return parts


# -- import and path mapping -------------------------------------------------------------------


def test_importing_the_package_does_not_import_pyspark():
    code = (
        "import sys, hopsfs_tools, hopsfs_tools.adapters.spark\n"
        "from hopsfs_tools import hdfs\n"
        "assert 'pyspark' not in sys.modules, 'pyspark imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_pyspark_names_the_extra():
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from hopsfs_tools.adapters import spark\n"
        "try:\n"
        "    spark.session()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert "hopsfs_tools.adapters.spark needs PySpark" in out.stdout
    assert "pip install 'hopsfs-tools[spark]'" in out.stdout


def test_uri_for_each_path_form(cluster: LocalCluster, project: Project):
    nn = cluster.namenode_uri
    root = f"{nn}/Projects/{project.name}"
    assert hspark.uri("Resources/x.csv") == f"{root}/Resources/x.csv"
    assert hspark.uri("") == root
    assert hspark.uri("Logs/../Models/") == f"{root}/Models"
    assert hspark.uri("hopsfs://Resources/x") == f"{root}/Resources/x"
    assert hspark.uri("hopsfs:///tmp/x") == f"{nn}/tmp/x"
    assert hspark.uri("/Projects/other/y") == f"{nn}/Projects/other/y"
    assert hspark.uri(Path("Resources/p.parquet")) == f"{root}/Resources/p.parquet"
    assert hspark.uri(f"{nn}/a//b/./c") == f"{nn}/a/b/c"
    assert hspark.uri("hdfs://elsewhere:9000/a/../b") == "hdfs://elsewhere:9000/b"
    assert hspark.uri("x", project="other") == f"{nn}/Projects/other/x"
    with pytest.raises(ValueError, match="scheme 's3'"):
        hspark.uri("s3://bucket/key")
    with pytest.raises(ValueError, match="either fs= or project="):
        hspark.uri("x", project="other", fs=HopsFileSystem())


# -- session configuration ---------------------------------------------------------------------


def test_session_uses_the_cluster_as_the_project_user(
    spark, cluster: LocalCluster, project: Project
):
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    assert hadoop.get("fs.defaultFS") == cluster.namenode_uri
    assert hadoop.get("dfs.replication") == "3"  # from the cluster's hdfs-site.xml
    assert spark.sparkContext.sparkUser() == project.user
    assert spark.conf.get("spark.ui.enabled") == "false"  # LOCAL_DEFAULTS
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"  # conf= overrides them
    assert hspark.session(conf=SPARK_CONF) is spark  # a matching running session is reused


def test_spark_writes_as_the_project_user(spark, fs: HopsFileSystem, project: Project):
    spark.range(10).write.parquet("Resources/owned.parquet")
    for name in fs.ls("Resources/owned.parquet", detail=False):
        info = fs.info(name)
        assert (info["owner"], info["group"]) == (project.user, project.name), info


def test_explicit_user_reaches_a_new_spark_jvm(
    cluster: LocalCluster, fs: HopsFileSystem, project: Project
):
    """Without HADOOP_USER_NAME, session(user=...) sets it before Spark's JVM starts."""
    env = {**os.environ, **cluster.env(), "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("HADOOP_USER_NAME")
    code = (
        "import os\n"
        "from hopsfs_tools.adapters import spark as hspark\n"
        f"spark = hspark.session(user={project.user!r}, conf={SPARK_CONF!r})\n"
        "spark.range(5).write.parquet('Resources/new_jvm.parquet')\n"
        "print(spark.sparkContext.sparkUser(), os.environ['HADOOP_USER_NAME'])\n"
        "spark.stop()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.stdout.split() == [project.user, project.user]
    assert fs.info("Resources/new_jvm.parquet/_SUCCESS")["owner"] == project.user


def test_conflicting_sessions_raise(spark, cluster: LocalCluster, project: Project):
    elsewhere = HopsFileSystem(namenode="hdfs://127.0.0.1:1")
    with pytest.raises(
        ValueError, match=f"fs.defaultFS={cluster.namenode_uri}, not hdfs://127.0.0.1:1: stop it"
    ):
        hspark.session(fs=elsewhere)
    with pytest.raises(
        ValueError,
        match=f"as HDFS user '{project.user}', not 'other__bob'.*Restart the Python process",
    ):
        hspark.configure(type(spark).builder, user="other__bob")
    assert os.environ["HADOOP_USER_NAME"] == project.user  # nothing changed before raising
    assert spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS") == (
        cluster.namenode_uri
    )


def test_a_stopped_session_keeps_its_user(spark, project: Project, census_files):
    spark.stop()  # the JVM stays up, acting as the project user
    with pytest.raises(ValueError, match=f"as HDFS user '{project.user}', not 'other__bob'"):
        hspark.session(user="other__bob", conf=SPARK_CONF)
    again = hspark.session(conf=SPARK_CONF)
    assert again is not spark
    assert again.read.parquet(census_files["parquet"]).count() == ROWS


def test_ha_nameservice_and_datanode_hostname_from_the_conf_dir(
    spark, cluster: LocalCluster, project: Project, census_files, tmp_path: Path
):
    """A logical nameservice resolves only with the HA properties: Spark gets them all."""
    rpc = cluster.namenode_uri.removeprefix("hdfs://")
    props = {
        "fs.defaultFS": "hdfs://hopsns",
        "dfs.nameservices": "hopsns",
        "dfs.ha.namenodes.hopsns": "nn1",
        "dfs.namenode.rpc-address.hopsns.nn1": rpc,
        "dfs.client.failover.proxy.provider.hopsns": "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider",
        "dfs.client.use.datanode.hostname": "true",  # DataNodes register as 127.0.0.1
    }
    write_site_xml(tmp_path / "core-site.xml", {"fs.defaultFS": props["fs.defaultFS"]})
    write_site_xml(tmp_path / "hdfs-site.xml", props)
    ha = HopsFileSystem(namenode="hdfs://hopsns", conf_dir=str(tmp_path))
    assert hspark.hadoop_conf(fs=ha) == props
    assert hspark.uri("Resources/x", fs=ha) == f"hdfs://hopsns/Projects/{project.name}/Resources/x"

    spark.stop()
    on_ha = hspark.session(fs=ha, conf=SPARK_CONF)
    try:
        hadoop = on_ha.sparkContext._jsc.hadoopConfiguration()
        assert hadoop.get("fs.defaultFS") == "hdfs://hopsns"
        assert hadoop.get("dfs.client.use.datanode.hostname") == "true"
        assert on_ha.read.parquet(census_files["parquet"]).count() == ROWS  # relative path
        assert on_ha.read.parquet(hspark.uri(census_files["parquet"], fs=ha)).count() == ROWS
    finally:
        on_ha.stop()


# -- files in both directions ------------------------------------------------------------------


def test_spark_reads_what_pandas_wrote(spark, frame: pd.DataFrame, census_files):
    from_parquet = spark.read.parquet(hspark.uri(census_files["parquet"]))
    assert from_parquet.columns == list(frame.columns)
    assert_same_rows(from_parquet.toPandas(), frame)
    from_csv = spark.read.csv(census_files["csv"], header=True, inferSchema=True)  # relative
    assert_same_rows(from_csv.toPandas(), frame)


def test_pandas_reads_the_parquet_directory_spark_wrote(
    spark, fs: HopsFileSystem, frame: pd.DataFrame, census_files
):
    out = "Resources/from_spark.parquet"
    spark.read.parquet(census_files["parquet"]).repartition(3).write.parquet(out)
    assert len(part_files(fs, out, ".parquet")) == 3
    assert_same_rows(pd.read_parquet(f"hopsfs://{out}"), frame)


def test_pandas_reads_the_csv_directory_spark_wrote(
    spark, fs: HopsFileSystem, frame: pd.DataFrame, census_files
):
    out = "Resources/from_spark.csv"
    source = spark.read.parquet(hspark.uri(census_files["parquet"]))
    source.coalesce(2).write.csv(hspark.uri(out), header=True)
    parts = part_files(fs, out, ".csv")
    written = pd.concat([pd.read_csv(f"hopsfs://{p}") for p in parts])
    assert_same_rows(written, frame)


def test_aggregate_round_trip(spark, fs: HopsFileSystem, frame: pd.DataFrame, census_files):
    """Spark aggregates pandas' Parquet and writes the result; pandas gets the same numbers."""
    from pyspark.sql import functions as F

    out = "Resources/by_education.parquet"
    (
        spark.read.parquet(census_files["parquet"])
        .groupBy("education")
        .agg(
            F.count("*").alias("people"),
            F.avg((F.col("income") == ">50K").cast("double")).alias("share_over_50k"),
        )
        .write.mode("overwrite")
        .parquet(out)
    )
    got = pd.read_parquet(f"hopsfs://{out}").sort_values("education").reset_index(drop=True)
    grouped = frame.assign(rich=frame["income"] == ">50K").groupby("education")
    expected = pd.DataFrame({"people": grouped.size(), "share_over_50k": grouped["rich"].mean()})
    expected = expected.reset_index()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["people"].sum() == ROWS
