"""polars' own calls on hopsfs:// and hdfs:// URLs after `import hopsfs_tools.adapters.polars`,
against the real cluster: reads, lazy scans with pushdown (measured in the DataNodes' byte
counters), writes committed as the project user, and the filesystem's one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from byte_counters import bytes_read_during
from tool_process import run_python

pl = pytest.importorskip("polars")

import hopsfs_tools.adapters.polars  # noqa: F401  (the one import)
from hopsfs_tools import hdfs

FRAME = pl.DataFrame({"age": [39, 50, 38], "workclass": ["State-gov", "Private", "Private"]})


def test_parquet_and_csv_round_trips_on_both_schemes(project: str) -> None:
    for root in ("hopsfs://DataSets/", hdfs.project_path() + "DataSets/"):
        FRAME.write_parquet(root + "adult.parquet")
        FRAME.write_csv(root + "adult.csv")
        assert pl.read_parquet(root + "adult.parquet").equals(FRAME)
        assert pl.read_parquet(root + "adult.parquet", columns=["age"]).equals(FRAME[["age"]])
        assert (
            pl.scan_parquet(root + "adult.parquet")
            .filter(pl.col("age") > 38)
            .collect()
            .equals(FRAME[:2])
        )
        assert pl.read_csv(root + "adult.csv").equals(FRAME)
        lazy = pl.scan_csv(root + "adult.csv").filter(pl.col("workclass") == "Private")
        assert lazy.select("age").collect()["age"].to_list() == [50, 38]
    fs = hdfs.get_fs()
    for name in ("adult.parquet", "adult.csv"):
        assert fs.info(f"/Projects/{project}/DataSets/{name}")["owner"] == f"{project}__alice"
    assert sorted(fs.ls(f"/Projects/{project}/DataSets", detail=False)) == sorted(
        f"/Projects/{project}/DataSets/{name}"
        for name in ("README.md", "adult.csv", "adult.parquet")
    )  # no temporary file left behind


def test_a_partitioned_directory_and_storage_options(project: str) -> None:
    """Another project's directory named with storage_options, hive partitions as columns."""
    root = "hopsfs://DataSets/parts"
    for year in (2025, 2026):
        FRAME.write_parquet(f"{root}/year={year}/part-0.parquet")
    options = {"project": project}
    scanned = pl.scan_parquet(root, storage_options=options).filter(pl.col("year") == 2026)
    assert scanned.collect().sort("age")["age"].to_list() == [38, 39, 50]
    assert pl.read_parquet(root, n_rows=2).height == 2


def test_missing_files_and_projects_give_the_filesystems_one_line_errors(project: str) -> None:
    for call in (
        lambda: pl.read_parquet("hopsfs://DataSets/missing.parquet"),
        lambda: pl.scan_parquet("hopsfs://DataSets/missing.parquet"),
        lambda: pl.read_csv("hopsfs://DataSets/missing.csv"),
        lambda: pl.scan_csv(hdfs.project_path() + "DataSets/missing.csv"),
    ):
        with pytest.raises(FileNotFoundError) as error:
            call()
        message = str(error.value)
        assert "missing." in message and "check the path" in message
        assert len(message.splitlines()) == 1 and "org.apache" not in message
    with pytest.raises((FileNotFoundError, PermissionError)) as error:
        pl.read_parquet("hopsfs:///Projects/no_such_project/DataSets/t.parquet")
    assert "/Projects/no_such_project" in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_an_option_polars_cannot_take_here_is_a_type_error(project: str) -> None:
    FRAME.write_parquet("hopsfs://DataSets/adult.parquet")
    with pytest.raises(TypeError, match="low_memory.*fsspec.open"):
        pl.read_parquet("hopsfs://DataSets/adult.parquet", low_memory=True)


def test_other_sources_go_to_polars_unchanged(tmp_path) -> None:
    FRAME.write_parquet(tmp_path / "local.parquet")
    assert pl.read_parquet(str(tmp_path / "local.parquet")).equals(FRAME)
    assert pl.scan_parquet(tmp_path / "local.parquet").collect().equals(FRAME)


@pytest.mark.slow
def test_a_lazy_scan_reads_a_fraction_of_the_bytes(native_project: str, cluster) -> None:
    """2 of 20 columns and 1 of 10 row groups: the DataNodes serve a few percent of the file."""
    rows, group = 100_000, 10_000
    rng = np.random.default_rng(0)
    wide = pl.DataFrame({"key": np.arange(rows)} | {f"c{i}": rng.random(rows) for i in range(19)})
    url = "hopsfs://DataSets/wide.parquet"
    wide.write_parquet(url, row_group_size=group)
    size = hdfs.get_fs().info(f"/Projects/{native_project}/DataSets/wide.parquet")["size"]

    def query() -> pl.DataFrame:
        return pl.scan_parquet(url).filter(pl.col("key") < group).select("key", "c1").collect()

    served, result = bytes_read_during(cluster, query)
    assert result.equals(wide.filter(pl.col("key") < group).select("key", "c1"))
    assert 0 < served < size * 0.05, (served, size)


def test_one_import_in_a_fresh_process_and_none_by_the_package(project: str) -> None:
    """`import hopsfs_tools` imports no polars; the adapter's import is all polars needs."""
    out = run_python(
        "import sys, hopsfs_tools\n"
        "assert 'polars' not in sys.modules\n"
        "import polars as pl, hopsfs_tools.adapters.polars\n"
        "pl.DataFrame({'a': [1, 2]}).write_parquet('hopsfs://Resources/a.parquet')\n"
        "print(pl.read_parquet('hopsfs://Resources/a.parquet')['a'].sum())\n"
    )
    assert out.split() == ["3"]
