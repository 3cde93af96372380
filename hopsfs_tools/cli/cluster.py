"""`hopsfs-tools cluster ...`: start, inspect, fault-inject and stop the local HDFS cluster."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import click

from hopsfs_tools.cluster import ClusterError, LocalCluster
from hopsfs_tools.cluster.owner import reap_orphans
from hopsfs_tools.cluster.security import RPC_PROTECTIONS

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Cluster directory (default: ~/.cache/hopsfs-tools/cluster, or $HOPSFS_TOOLS_CACHE/cluster).",
)


def _cluster(directory: Path | None, datanodes: int = 3) -> LocalCluster:
    return LocalCluster(directory, datanodes=datanodes)


def _existing(directory: Path | None) -> LocalCluster:
    local = _cluster(directory)
    if not local.state.ports:
        raise click.ClickException(
            f"no cluster in {local.directory}: start one with `hopsfs-tools cluster up`"
        )
    return local


def _run(action):
    try:
        return action()
    except (ClusterError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def cluster() -> None:
    """A real local HDFS cluster (Apache Hadoop 3.5 daemons from Maven Central)."""


@cluster.command()
@click.option(
    "--datanodes",
    "-n",
    default=3,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Number of DataNode processes.",
)
@DIR_OPTION
@click.option(
    "--timeout", default=240.0, show_default=True, help="Seconds to wait for the cluster."
)
@click.option(
    "--encrypt-data-transfer",
    is_flag=True,
    help="dfs.encrypt.data.transfer=true: blocks are encrypted between clients and DataNodes "
    "(set when the cluster directory is first made).",
)
@click.option(
    "--rpc-protection",
    type=click.Choice(RPC_PROTECTIONS),
    default="authentication",
    help="hadoop.rpc.protection (anything but authentication needs a Kerberos cluster: the API's "
    "LocalCluster(kerberos=Kdc(...)).",
)
def up(
    datanodes: int,
    directory: Path | None,
    timeout: float,
    encrypt_data_transfer: bool,
    rpc_protection: str,
) -> None:
    """Start the cluster (idempotent: reports the running cluster if already up).

    First stops clusters left running by killed tests or benchmarks (their owner process died).
    """
    for orphan in reap_orphans():
        click.echo(f"stopped the cluster in {orphan}: the process that owned it is gone", err=True)
    wire = {"encrypt_data_transfer": encrypt_data_transfer, "rpc_protection": rpc_protection}
    local = _run(lambda: LocalCluster(directory, datanodes=datanodes, **wire))
    was_running = local.is_running()
    if was_running and local.state.datanodes != datanodes:
        click.echo(
            f"note: the running cluster has {local.state.datanodes} DataNodes; "
            "`cluster down` first to change that",
            err=True,
        )
    started = time.monotonic()
    _run(lambda: local.up(timeout=timeout))
    status = local.status()
    verb = "already running" if was_running else f"started in {time.monotonic() - started:.1f}s"
    click.echo(
        f"HDFS cluster {verb}: {status['fs_uri']} "
        f"({status['num_live_datanodes']} live DataNodes), WebHDFS {status['webhdfs_url']}"
    )
    click.echo(
        f'  eval "$(hopsfs-tools cluster env{dir_arg(directory)})"   # to point clients at it'
    )


def dir_arg(directory: Path | None) -> str:
    """The ` --dir DIR` of a command hint (empty without --dir)."""
    return f" --dir {shlex.quote(str(directory))}" if directory else ""


@cluster.command()
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(directory: Path | None, as_json: bool) -> None:
    """Live/dead DataNodes, capacity, addresses and pids."""
    local = _existing(directory)
    info = local.status()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"directory:   {info['directory']}")
    click.echo(f"fs URI:      {info['fs_uri']}")
    click.echo(f"WebHDFS:     {info['webhdfs_url']}")
    click.echo(f"conf dir:    {info['conf_dir']}")
    if info["namenode_reachable"]:
        gib = 1024**3
        click.echo(
            f"datanodes:   {info['num_live_datanodes']} live, {info['num_dead_datanodes']} dead"
        )
        click.echo(f"safe mode:   {'on' if info['safemode'] else 'off'}")
        click.echo(
            f"capacity:    {info['capacity_used'] / gib:.2f} GiB used, "
            f"{info['capacity_remaining'] / gib:.1f} GiB free"
        )
    else:
        click.echo("namenode:    not reachable")
    for name, proc in info["processes"].items():
        state = f"running (pid {proc['pid']})" if proc["running"] else "stopped"
        click.echo(f"  {name:<12} {state}")
    if not info["namenode_reachable"]:
        raise SystemExit(1)


@cluster.command()
@DIR_OPTION
def env(directory: Path | None) -> None:
    """Print `export` lines pointing clients at the cluster."""
    local = _existing(directory)
    for key, value in local.env().items():
        click.echo(f"export {key}={shlex.quote(value)}")


@cluster.command()
@DIR_OPTION
@click.option("--keep", is_flag=True, help="Keep the data directory (restart later with `up`).")
def down(directory: Path | None, keep: bool) -> None:
    """Stop every daemon and remove the cluster directory (unless --keep)."""
    local = _cluster(directory)
    if not local.state.ports:
        click.echo(f"no cluster in {local.directory}")
        return
    _run(lambda: local.down(keep=keep))
    click.echo(
        f"cluster in {local.directory} stopped" + (" (data kept)" if keep else " and removed")
    )


def _daemon_command(verb: str, doc: str):
    @cluster.command(name=verb, help=doc)
    @click.argument("name")
    @DIR_OPTION
    def command(name: str, directory: Path | None) -> None:
        local = _existing(directory)
        _run(lambda: getattr(local, verb)(name))
        click.echo(f"{name}: {verb} done")

    return command


_daemon_command("stop", "Stop one daemon gracefully (namenode, datanode-1, ...).")
_daemon_command("kill", "kill -9 one daemon (namenode, datanode-1, ...), as a crash would.")
_daemon_command("start", "Start one stopped or killed daemon and wait until the cluster is ready.")
