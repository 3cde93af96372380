"""Which route gives polars' lazy parquet scans of cluster URLs their pushdown, in bytes served.

A parquet file of 20 float columns, sorted by `key`, in row groups of ROW_GROUP rows, is scanned
with 2 of its 20 columns selected and a filter matching one row group, by each route:

- `full`: polars reading a file object (no pushdown: what polars does with a file handle);
- `io_source`: an IO plug-in (`register_io_source`) reading only the projected columns with
  pyarrow and applying polars' predicate to what it read (it gets a polars expression);
- `dataset`: a pyarrow dataset over this filesystem handed to `pl.scan_pyarrow_dataset`
  (hopsfs_tools.adapters.polars): columns and row-group statistics both pushed down.

The measure is the DataNodes' JMX BytesRead, not a timer (each reading waits for the counters to
settle: about 30 s per route and round). Prints bytes per route, min-max over rounds, and the
ratio to the file's size. Usage:

    python benchmarks/bench_polars.py [--rows 200000] [--rounds 2] [--cluster-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from benchmark_cluster import benchmark_cluster

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from byte_counters import bytes_read_during

import hopsfs_tools.adapters.polars  # noqa: F401  (routes cluster URLs)
from hopsfs_tools import HopsFileSystem

COLUMNS, ROW_GROUP = 20, 20_000


def io_source_scan(fs: HopsFileSystem, path: str) -> pl.LazyFrame:
    """The IO plug-in route: projection by pyarrow, the predicate applied after reading."""
    schema = pl.from_arrow(pq.read_schema(fs.open(path, "rb")).empty_table()).schema

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch: int | None,
    ) -> Iterator[pl.DataFrame]:
        with fs.open(path, "rb", cache_type="none") as f:  # exact ranges, as the dataset's
            for record_batch in pq.ParquetFile(f).iter_batches(columns=with_columns):
                frame = pl.from_arrow(record_batch)
                yield frame.filter(predicate) if predicate is not None else frame

    return pl.io.plugins.register_io_source(source, schema=schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cluster-dir", default=None)
    args = parser.parse_args()
    with benchmark_cluster(args.cluster_dir) as cluster:
        fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
        path = f"/tmp/bench-polars-{uuid.uuid4().hex[:8]}/wide.parquet"
        rng = np.random.default_rng(0)
        data = {"key": np.arange(args.rows)} | {
            f"c{i}": rng.random(args.rows) for i in range(1, COLUMNS)
        }
        pl.DataFrame(data).write_parquet(
            f"hopsfs://{path}", row_group_size=ROW_GROUP, statistics=True
        )
        size = fs.info(path)["size"]
        url = f"hopsfs://{path}"

        def query(frame: pl.LazyFrame) -> pl.DataFrame:
            return frame.filter(pl.col("key") < ROW_GROUP).select("key", "c1").collect()

        routes = {
            "full": lambda: query(pl.read_parquet(fs.open(path, "rb")).lazy()),
            "io_source": lambda: query(io_source_scan(fs, path)),
            "dataset": lambda: query(pl.scan_parquet(url)),
        }
        served: dict[str, list[int]] = {name: [] for name in routes}
        for _ in range(args.rounds):
            for name, route in routes.items():
                count, frame = bytes_read_during(cluster, route)
                assert frame.shape == (ROW_GROUP, 2), frame.shape
                served[name].append(count)
        print(
            f"file: {size:,} bytes, {args.rows:,} rows x {COLUMNS} columns, "
            f"row groups of {ROW_GROUP:,}; query: 2 columns, 1 row group; {args.rounds} rounds"
        )
        for name, counts in served.items():
            print(
                f"{name:10s} {min(counts):>12,} - {max(counts):>12,} bytes  "
                f"({min(counts) / size:.3f} - {max(counts) / size:.3f} of the file)"
            )
        fs.rm(path.rsplit("/", 1)[0], recursive=True)


if __name__ == "__main__":
    main()
