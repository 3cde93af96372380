"""Ray Data on project paths: through this filesystem (`filesystem=`, no JVM), read by 2 Ray
workers (streaming_split, as Ray Train shards data) and written back; and
`ray.data.read_parquet("hdfs://...")` unchanged through pyarrow's own HadoopFileSystem after
`export_hadoop_environment()`."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tool_process import run_python

pytest.importorskip("ray.data")

from hopsfs_tools import hdfs

# Ray's raylet gives its agents 10 s to start by default: too little on a busy 2-core machine.
RAY_ENV = {"RAY_raylet_start_wait_time_s": "300", "RAY_USAGE_STATS_ENABLED": "0"}
FILES, ROWS = 4, 10

THROUGH_HOPSFS = """
import os
import ray
from hopsfs_tools import HopsFileSystem
ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
fs = HopsFileSystem()
ds = ray.data.read_parquet("hopsfs://DataSets/ray_in", filesystem=fs)

@ray.remote(num_cpus=1)
class Worker:
    def consume(self, shard):
        values = [int(x) for batch in shard.iter_batches(batch_format="numpy") for x in batch["x"]]
        return os.getpid(), values

workers = [Worker.remote() for _ in range(2)]
shards = ds.streaming_split(2, equal=True)
results = ray.get([w.consume.remote(s) for w, s in zip(workers, shards)])
values = [v for _, part in results for v in part]
print(len(values), sum(values), len({{pid for pid, _ in results}}), min(len(p) for _, p in results))
ds.write_parquet("hopsfs://DataSets/ray_out", filesystem=fs)
print(ray.data.read_parquet("hopsfs://DataSets/ray_out", filesystem=fs).count())
"""

THROUGH_THE_JVM = """
import ray
from hopsfs_tools.hadoop.environment import export_hadoop_environment
export_hadoop_environment()
ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
print(ray.data.read_parquet({url!r}).count())
"""


@pytest.fixture
def parquet_files(project: str) -> list[int]:
    """FILES parquet files of ROWS rows each in DataSets/ray_in; their values."""
    fs = hdfs.get_fs()
    values = []
    for i in range(FILES):
        part = list(range(i * ROWS, (i + 1) * ROWS))
        with fs.open(f"/Projects/{project}/DataSets/ray_in/part-{i}.parquet", "wb") as f:
            pq.write_table(pa.table({"x": part}), f)
        values += part
    return values


@pytest.mark.slow
def test_read_by_two_workers_and_written_without_a_jvm(
    project: str, parquet_files: list[int]
) -> None:
    out = run_python(THROUGH_HOPSFS.format(files=FILES), no_jvm=True, env=RAY_ENV, timeout=600)
    count, total, workers, smallest, written = out.split()[-5:]
    assert (int(count), int(total)) == (len(parquet_files), sum(parquet_files))  # each row once
    assert workers == "2" and int(smallest) > 0  # two Ray worker processes, each got a part
    assert int(written) == len(parquet_files)
    fs = hdfs.get_fs()
    out_files = fs.ls(f"/Projects/{project}/DataSets/ray_out", detail=True)
    assert out_files and {f["owner"] for f in out_files} == {f"{project}__alice"}


@pytest.mark.slow
def test_an_hdfs_url_unchanged_through_the_jvm(native_project: str) -> None:
    fs = hdfs.get_fs()
    with fs.open(f"/Projects/{native_project}/DataSets/jvm.parquet", "wb") as f:
        pq.write_table(pa.table({"x": list(range(7))}), f)
    url = hdfs.project_path() + "DataSets/jvm.parquet"
    env = RAY_ENV | {"HOPSFS_BACKEND": os.environ.get("HOPSFS_BACKEND", "native")}
    out = run_python(THROUGH_THE_JVM.format(url=url), env=env, timeout=600)
    assert out.split()[-1] == "7"
