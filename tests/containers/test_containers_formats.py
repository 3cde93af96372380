"""dask and pyarrow datasets against the container cluster: a partitioned Parquet dataset
written by dask through hopsfs:// URLs and read back by dask and pyarrow."""

from __future__ import annotations

import pandas as pd
import pyarrow.dataset as ds
import pytest
from pyarrow.fs import FSSpecHandler, PyFileSystem

from hopsfs_tools.config import BACKENDS
from hopsfs_tools.fs import HopsFileSystem

dd = pytest.importorskip("dask.dataframe")

FRAME = pd.DataFrame(
    {"id": range(40), "score": [i / 4 for i in range(40)], "country": ["se", "fr", "de", "no"] * 10}
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dask_partitioned_parquet_round_trip(cluster, hdfs_dir, backend):
    options = {
        "backend": backend,
        "namenode": cluster.namenode_uri,
        "webhdfs_url": cluster.webhdfs_url,
    }
    url = f"hopsfs://{hdfs_dir}/scores"
    frame = dd.from_pandas(FRAME, npartitions=4)
    frame.to_parquet(url, partition_on=["country"], storage_options=options, write_index=False)
    back = dd.read_parquet(url, storage_options=options).compute()
    back = back.assign(country=back["country"].astype(str)).sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(back[FRAME.columns.tolist()], FRAME, check_dtype=False)

    fs = HopsFileSystem(**options)
    assert sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{hdfs_dir}/scores", detail=False)) == [
        "country=de",
        "country=fr",
        "country=no",
        "country=se",
    ]
    dataset = ds.dataset(
        f"{hdfs_dir}/scores", filesystem=PyFileSystem(FSSpecHandler(fs)), partitioning="hive"
    )
    sweden = dataset.to_table(filter=ds.field("country") == "se").to_pandas()
    assert sorted(sweden["id"]) == list(range(0, 40, 4))
