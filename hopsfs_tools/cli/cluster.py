"""`hopsfs-tools cluster ...`: start, inspect, fault-inject and stop the local HDFS cluster."""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path
from typing import Any

import click

from hopsfs_tools.cluster import ClusterError, LocalCluster
from hopsfs_tools.cluster.containers import ContainerCluster, is_container_cluster
from hopsfs_tools.cluster.ha import HaCluster
from hopsfs_tools.cluster.image import ENGINES
from hopsfs_tools.cluster.launcher import MAX_NAMESERVICES
from hopsfs_tools.cluster.netns import NetworkError
from hopsfs_tools.cluster.owner import reap_orphans
from hopsfs_tools.cluster.security import RPC_PROTECTIONS
from hopsfs_tools.cluster.siteconf import DEFAULT_TRASH_INTERVAL
from hopsfs_tools.config import settings

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Cluster directory (default: ~/.cache/hopsfs-tools/cluster, or $HOPSFS_TOOLS_CACHE/cluster).",
)


def _cluster(directory: Path | None, datanodes: int = 3, **layout: Any) -> LocalCluster:
    return _run(lambda: LocalCluster(directory, datanodes=datanodes, **layout))


def _existing(directory: Path | None) -> LocalCluster | ContainerCluster:
    if is_container_cluster(directory):
        return ContainerCluster(directory)
    local = _cluster(directory)
    if not local.state.ports and not local.network:
        raise click.ClickException(
            f"no cluster in {local.directory}: start one with `hopsfs-tools cluster up`"
        )
    return local


def _run(action):
    try:
        return action()
    except (ClusterError, NetworkError, ValueError) as exc:
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
@click.option(
    "--hosts",
    default=0,
    type=click.IntRange(0, 16),
    help="Run N DataNodes on N hosts: network namespaces with own addresses and names (root).",
)
@click.option("--racks", default=1, show_default=True, help="Racks the hosts are split into.")
@click.option("--link", default=None, help="Shape each host's link, e.g. 1gbit or 10gbit (tc).")
@click.option("--clients", default=0, help="With --hosts: this many more hosts without a DataNode.")
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
@click.option("--ha", is_flag=True, help="Two NameNodes (nameservice hopsfs) and 3 JournalNodes.")
@click.option(
    "--federation",
    type=click.IntRange(2, MAX_NAMESERVICES),
    default=None,
    help="N nameservices sharing the DataNodes, one tree through viewfs://hopsfs.",
)
@click.option(
    "--trash-interval",
    type=click.IntRange(0),
    default=DEFAULT_TRASH_INTERVAL,
    show_default=True,
    help="Minutes a deleted path stays in its owner's trash (fs.trash.interval); 0 turns it off "
    "(set when the cluster directory is first made).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Run the cluster in containers (compose/docker-compose.yml) with podman or Docker.",
)
@click.option(
    "--base",
    default=None,
    help="With --engine: the image the cluster image is built FROM (default: debian:bookworm-slim "
    "for Docker; for podman a base made with debootstrap, no registry needed).",
)
def up(
    datanodes: int,
    hosts: int,
    racks: int,
    link: str | None,
    clients: int,
    directory: Path | None,
    timeout: float,
    ha: bool,
    federation: int | None,
    encrypt_data_transfer: bool,
    rpc_protection: str,
    trash_interval: int,
    engine: str | None,
    base: str | None,
) -> None:
    """Start the cluster (idempotent: reports the running cluster if already up).

    First stops clusters left running by killed tests or benchmarks (their owner process died).
    """
    if engine or is_container_cluster(directory):
        layout = {"--datanodes": datanodes != 3, "--hosts": hosts, "--racks": racks != 1}
        layout.update(
            {"--link": link, "--clients": clients, "--ha": ha, "--federation": federation}
        )
        layout["--encrypt-data-transfer"] = encrypt_data_transfer
        layout["--rpc-protection"] = rpc_protection != "authentication"
        layout["--trash-interval"] = trash_interval != DEFAULT_TRASH_INTERVAL
        if unsupported := [option for option, given in layout.items() if given]:
            raise click.ClickException(
                f"{', '.join(unsupported)}: not for a container cluster (compose/docker-compose.yml "
                "is 1 NameNode and 3 DataNodes); drop them or --engine"
            )
        _up_containers(directory, engine, base, timeout)
        return
    for orphan in reap_orphans(LocalCluster):
        click.echo(f"stopped the cluster in {orphan}: the process that owned it is gone", err=True)
    wire = {"encrypt_data_transfer": encrypt_data_transfer, "rpc_protection": rpc_protection}
    local = _cluster(
        directory,
        datanodes,
        hosts=hosts,
        racks=racks,
        link=link,
        clients=clients,
        ha=ha,
        federation=federation or 0,
        trash_interval=trash_interval,
        **wire,
    )
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
    _echo_hosts(local)
    click.echo(
        f'  eval "$(hopsfs-tools cluster env{dir_arg(directory)})"   # to point clients at it'
    )


def _up_containers(
    directory: Path | None, engine: str | None, base: str | None, timeout: float
) -> None:
    """`up --engine`: build the image (cached) and start compose/docker-compose.yml (an existing
    container cluster: its own engine)."""
    containers = ContainerCluster(directory, engine or "podman", base)
    if engine and containers.plan.engine != engine:
        raise click.ClickException(
            f"the cluster in {containers.directory} runs under {containers.plan.engine}: "
            "`cluster down` first, or use another --dir"
        )
    was_running = containers.plan.image and containers.is_running()
    started = time.monotonic()
    _run(lambda: containers.up(timeout=timeout))
    status = containers.status()
    verb = "already running" if was_running else f"started in {time.monotonic() - started:.1f}s"
    click.echo(
        f"HDFS cluster in {containers.plan.engine} containers {verb}: "
        f"{status['fs_uri']} ({status['num_live_datanodes']} live DataNodes), "
        f"WebHDFS {status['webhdfs_url']}"
    )
    click.echo(
        f'  eval "$(hopsfs-tools cluster env{dir_arg(directory)})"   # to point clients at it'
    )


def _hosts(local: LocalCluster) -> list[dict]:
    """Each host of a multi-host cluster: name, address, rack, DataNode (None: a client host)."""
    net = local.network
    return [
        {
            "name": name,
            "address": net.host_address(k),
            "rack": net.rack(k),
            "datanode": f"datanode-{k}" if k <= net.hosts else None,
        }
        for k, name in enumerate(net.host_names if net else [], 1)
    ]


def _echo_hosts(local: LocalCluster) -> None:
    """One line per host of a multi-host cluster: name, address, rack, DataNode."""
    for h in _hosts(local):
        role = h["datanode"] or "client host"
        click.echo(f"  {h['name']:<22} {h['address']:<13} {h['rack']:<7} {role}")


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
    if getattr(local, "network", None):
        info["hosts"] = _hosts(local)
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
        if proc.get("container"):
            state += f" container {proc['container'][:12]}"
        namenode = info.get("namenodes", {}).get(name)  # HA / federation: id and HA state
        if namenode:
            state += f" {namenode['id']} {namenode['state'] or 'not answering'}"
        click.echo(f"  {name:<12} {state}")
    if isinstance(local, LocalCluster):
        _echo_hosts(local)
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
    """Stop every daemon and remove the cluster directory (unless --keep).

    A container cluster: removes every container, network and volume it made (--keep: no)."""
    if is_container_cluster(directory):
        if keep:
            raise click.ClickException("--keep is for local clusters: containers are removed")
        containers = ContainerCluster(directory)
        _run(containers.down)
        click.echo(f"containers, networks and volumes of {containers.plan.project} removed")
        return
    local = _cluster(directory)
    if not local.state.ports and not local.network:  # a half-started one may have a network
        click.echo(f"no cluster in {local.directory}")
        return
    _run(lambda: local.down(keep=keep))
    click.echo(
        f"cluster in {local.directory} stopped" + (" (data kept)" if keep else " and removed")
    )


@cluster.command()
@click.option("--to", "target", default=None, help="NameNode to make active (default: the other).")
@DIR_OPTION
def failover(target: str | None, directory: Path | None) -> None:
    """Make the standby NameNode of an HA cluster active (haadmin -failover; the active one may
    be dead: it is fenced)."""
    local = _existing(directory)
    if not isinstance(local, HaCluster):
        raise click.ClickException(
            f"the cluster in {local.directory} is not HA: start one with `hopsfs-tools cluster up "
            "--ha`"
        )
    active = _run(lambda: local.failover(target))
    click.echo(f"{active} is the active NameNode of {local.namenode_uri}")


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


@cluster.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@DIR_OPTION
def exec_(host: str, command: tuple[str, ...], directory: Path | None) -> None:
    """Run COMMAND as if on HOST of a multi-host cluster (its namespace, its host name), with the
    cluster's environment: `hopsfs-tools cluster exec host1 -- hopsfs-tools ls /`."""
    local = _existing(directory)
    if not local.network:
        raise click.ClickException(
            f"the cluster in {local.directory} has no hosts: start one with `cluster up --hosts N`"
        )
    cmd = _run(lambda: local.network.exec_command(host, list(command)))
    os.execvpe(cmd[0], cmd, settings.child_environment(**local.env()))
