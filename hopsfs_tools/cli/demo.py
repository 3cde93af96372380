"""`hopsfs-tools demo`: runs `hopsfs_tools.cli.demo_workflow`, printing a line per step, then a table."""

from __future__ import annotations

from pathlib import Path

import click

from hopsfs_tools.cli.base import FsCommand, human_size, one_line
from hopsfs_tools.cli.cluster import DIR_OPTION, dir_arg
from hopsfs_tools.cli.demo_workflow import (
    PARQUET_PATH,
    PROJECT,
    TFRECORD_SHARDS,
    DemoResult,
    Step,
    run_demo,
)
from hopsfs_tools.cluster import ClusterError
from hopsfs_tools.config import settings


@click.command(cls=FsCommand)
@click.option(
    "--rows",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Rows of the census-like CSV.",
)
@click.option(
    "--images",
    default=5_000,
    show_default=True,
    type=click.IntRange(TFRECORD_SHARDS),
    help="MNIST-like images written as TFRecords and trained on.",
)
@click.option("--project", default=PROJECT, show_default=True, help="Project to create and use.")
@click.option(
    "--user",
    default=None,
    metavar="U",
    help="The project user is PROJECT__U (default: the login name).",
)
@click.option(
    "--superuser",
    default=None,
    metavar="USER",
    help="HDFS superuser that creates the project (default: the local cluster's, else "
    "$HADOOP_USER_NAME, else the login name).",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave a local cluster the demo started running, for exploring.",
)
@DIR_OPTION
@click.option(
    "--datanodes",
    "-n",
    default=3,
    show_default=True,
    type=click.IntRange(1, 16),
    help="DataNodes of a local cluster the demo starts.",
)
def demo(
    rows: int,
    images: int,
    project: str,
    user: str | None,
    superuser: str | None,
    keep_running: bool,
    directory: Path | None,
    datanodes: int,
) -> None:
    """Run the end-to-end demo: cluster, project, CSV -> pandas -> Parquet, TFRecords -> Keras.

    Uses the configured cluster (HADOOP_CONF_DIR, HOPSFS_NAMENODE_URI, HOPSFS_WEBHDFS_URL), else the
    local one, started if needed and stopped at the end unless it was running or --keep-running.
    Needs the extras tf and pandas. Rerunning it overwrites its files.
    """
    if settings.env("TF_CPP_MIN_LOG_LEVEL") is None:  # TensorFlow's C++ start-up chatter
        settings.export("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        result = run_demo(
            rows=rows,
            images=images,
            project=project,
            user=user,
            superuser=superuser,
            cluster_dir=directory,
            datanodes=datanodes,
            keep_running=keep_running,
            progress=lambda name: click.echo(f"-> {name} ..."),
        )
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None  # as `cluster up`: with the log tail
    except ImportError as exc:
        raise click.ClickException(one_line(exc)) from None
    click.echo()
    for line in table(result.steps):
        click.echo(line)
    click.echo()
    for line in next_steps(result, directory):
        click.echo(line)


def table(steps: list[Step]) -> list[str]:
    """The steps as aligned rows: step, HDFS path, size, time, throughput, notes."""
    rows = [("STEP", "HDFS PATH", "SIZE", "TIME", "THROUGHPUT", "NOTES")]
    for step in steps:
        size = human_size(step.size) if step.size is not None else ""
        items = f"{step.items:,} {step.unit}" if step.items is not None else ""
        rows.append(
            (
                step.name,
                step.path,
                size,
                f"{step.seconds:.2f} s",
                _throughput(step),
                ", ".join(filter(None, (items, step.detail))),
            )
        )
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    right = {2, 3, 4}
    return [
        "  ".join(
            [
                *(
                    (v.rjust(w) if c in right else v.ljust(w))
                    for c, (v, w) in enumerate(zip(row, widths, strict=False))
                ),
                row[5],
            ]
        ).rstrip()
        for row in rows
    ]


def _throughput(step: Step) -> str:
    """Bytes per second when the step moved bytes, else items per second; blank for neither."""
    seconds = max(step.seconds, 1e-6)
    if step.size:
        return f"{human_size(int(step.size / seconds))}/s"
    if step.items:
        return f"{step.items / seconds:,.0f} {step.unit}/s"
    return ""


def next_steps(result: DemoResult, directory: Path | None) -> list[str]:
    """How to explore what the demo wrote, or how to keep the cluster for that."""
    local = result.local_cluster
    if not result.cluster_running:
        keep = f"hopsfs-tools demo --keep-running{dir_arg(directory)}"
        return [f"The local cluster the demo started is stopped again; `{keep}` leaves it up."]
    lines = ["Explore the project on the cluster:"]
    if local is not None:
        lines.append(f'  eval "$(hopsfs-tools cluster env{dir_arg(directory)})"')
    lines += [
        f"  export HADOOP_USER_NAME={result.project.user}",
        "  hopsfs-tools ls -l -h -R Resources DataSets Models",
        f"  python -c \"import pandas as pd; print(pd.read_parquet('hopsfs://{PARQUET_PATH}'))\"",
        "  # JupyterLab on its notebooks (extra jupyter; stop it with Ctrl-C): hopsfs-tools jupyter",
    ]
    if local is not None:
        lines.append(
            f"  hopsfs-tools cluster down{dir_arg(directory)}   # stop it and delete its data"
        )
    return lines
