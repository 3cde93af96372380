"""Local clusters of several NameNodes: HA (two NameNodes sharing their edits through a quorum of
three JournalNodes, manual failover) and federation (N independent nameservices sharing the
DataNodes, one viewfs:// mount table over them).

`LocalCluster(ha=True)` and `LocalCluster(federation=N)` make these subclasses (as does a
directory that holds such a cluster); they add daemons, ports and configuration to the plain
cluster's. The daemons are Hadoop's own (JournalNode, NameNode -bootstrapStandby, DFSHAAdmin)
from the same jars.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hopsfs_tools.cluster.daemons import MAIN_CLASS
from hopsfs_tools.cluster.launcher import LocalCluster
from hopsfs_tools.cluster.owner import pid_alive
from hopsfs_tools.cluster.ports import free_port
from hopsfs_tools.cluster.siteconf import HOST, NAMENODE
from hopsfs_tools.cluster.state import STATE_FILE, ClusterError
from hopsfs_tools.hadoop.jars import hadoop_jars

NAMESERVICE = "hopsfs"  # the HA nameservice, and the name of the federation's viewfs mount table
JOURNALNODES = 3
JOURNALNODE_MAIN = "org.apache.hadoop.hdfs.qjournal.server.JournalNode"
HAADMIN_MAIN = "org.apache.hadoop.hdfs.tools.DFSHAAdmin"
KINDS = {"ha": "an HA cluster", "federation": "a federated cluster", "": "a plain cluster"}
FAILOVER_PROVIDER = "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"


def _defines(props: dict[str, Any]) -> list[str]:
    """Hadoop generic options setting `props` (-D key=value ...)."""
    return [a for key, value in props.items() for a in ("-D", f"{key}={value}")]


class MultiNameNodeCluster(LocalCluster):
    """What HA and federated local clusters share: several NameNodes, each with its own name
    dir and ports, named namenode, namenode-2, ..."""

    kind = ""

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        datanodes: int = 3,
        *,
        tls: Any = False,
        kerberos: Any = None,
        owned: bool = False,
        ha: bool = False,
        federation: int = 0,
        **options: Any,  # LocalCluster's others (hosts=0, wire settings), passed on
    ) -> None:
        if tls or kerberos:
            raise ValueError(
                f"{KINDS[self.kind]} runs without TLS and Kerberos here: leave out tls= / "
                "kerberos=, or start a plain cluster for those"
            )
        super().__init__(directory, datanodes, owned=owned, **options)
        stored = (self.state.namenodes or {}).get("kind")
        if (self.directory / STATE_FILE).exists() and stored != self.kind:
            raise ValueError(
                f"the cluster in {self.directory} is {KINDS.get(stored, KINDS[''])}, not "
                f"{KINDS[self.kind]}: stop it with `hopsfs-tools cluster down` first, or use "
                "another --dir"
            )
        self._requested = self.new_layout(federation)

    def new_layout(self, federation: int) -> dict[str, Any]:
        """The `namenodes` state of a new cluster of this kind."""
        raise NotImplementedError

    @property
    def layout(self) -> dict[str, Any]:
        return self.state.namenodes or self._requested

    @property
    def namenode_names(self) -> list[str]:
        return list(self.layout["namenodes"])

    @property
    def journalnode_names(self) -> list[str]:
        return []

    @property
    def daemon_names(self) -> list[str]:
        return [*self.journalnode_names, *self.namenode_names, *self.datanode_names]

    def http_url(self, name: str) -> str:
        """The HTTP URL of NameNode `name` (its WebHDFS and JMX)."""
        return f"http://{HOST}:{self.state.ports[name]['http']}"

    def rpc_address(self, name: str) -> str:
        return f"{HOST}:{self.state.ports[name]['rpc']}"

    def is_running(self) -> bool:
        return any(_alive(self, name) for name in self.namenode_names)

    def status(self) -> dict[str, Any]:
        """The plain cluster's status plus each NameNode's id, HTTP URL and HA state."""
        result = super().status()
        result["namenodes"] = {
            name: {
                "id": ident,
                "webhdfs_url": self.http_url(name),
                "state": self.namenode_state(name),
            }
            for name, ident in self.layout["namenodes"].items()
            if self.state.ports
        }
        return result

    def namenode_state(self, name: str) -> str | None:
        """'active' or 'standby' (a federated NameNode is active); None when not answering."""
        if not _alive(self, name):
            return None
        try:
            return str(self.jmx("NameNodeStatus", 2, at=self.http_url(name))["State"])
        except (OSError, ClusterError, ValueError, KeyError):
            return None

    def namenode_properties(self, core_site: dict[str, Any], hdfs_site: dict[str, Any]) -> None:
        """Replace the single NameNode's addresses of the shared config with this layout's."""
        for key in ("dfs.namenode.rpc-address", "dfs.namenode.http-address"):
            hdfs_site.pop(key, None)

    def _allocate_ports(self) -> None:
        self.state.namenodes = self.layout
        super()._allocate_ports()
        for name in [*self.namenode_names[1:], *self.journalnode_names]:
            self.state.ports[name] = {"rpc": free_port(HOST), "http": free_port(HOST)}
        self.state.write()

    def _namenode_overrides(self, name: str) -> dict[str, Any]:
        """The -D settings of NameNode `name` (which of the configured NameNodes it is)."""
        directory = self.directory / name.replace("namenode", "name")
        return {"dfs.namenode.name.dir": directory}

    def _command(self, name: str, jars: Path) -> list[str]:
        if name in self.namenode_names:
            heap = "512m" if name == NAMENODE else "384m"
            args = _defines(self._namenode_overrides(name))
            return self._java(MAIN_CLASS[NAMENODE], jars, heap, args)
        return super()._command(name, jars)

    def _run_namenode_tool(self, name: str, step: str, *args: str) -> None:
        """NameNode -format / -bootstrapStandby ... as NameNode `name`."""
        jars = hadoop_jars(self.state.hadoop_version)
        options = [*_defines(self._namenode_overrides(name)), *args]
        self._run_java(jars, step, MAIN_CLASS[NAMENODE], options)

    def _serving(self, name: str, datanodes: int = 0) -> bool:
        """Whether NameNode `name` serves RPC out of safe mode with `datanodes` live DataNodes."""
        if self.namenode_state(name) not in ("standby", "active"):
            return False
        try:
            info = self.jmx("NameNodeInfo", 2, at=self.http_url(name))
        except (OSError, ClusterError, ValueError):
            return False
        live = json.loads(info.get("LiveNodes") or "{}").values()
        return (
            not info.get("Safemode")
            and sum(n.get("remaining", 0) > 0 for n in live) >= datanodes
            and _listening(self.rpc_address(name))
        )

    def _wait_for(self, what: str, check: Any, deadline: float, log_of: str) -> None:
        """Poll `check()` until true; ClusterError naming `what` at `deadline`."""
        while time.monotonic() < deadline:
            self._check_processes()
            if check():
                return
            time.sleep(0.3)
        raise ClusterError(f"{what} not reached in time.\n" + self._log_tail(log_of))


def _alive(cluster: LocalCluster, name: str) -> bool:
    return pid_alive(cluster.state.pids.get(name))


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


class HaCluster(MultiNameNodeCluster):
    """Two NameNodes (nn1 = `namenode`, nn2 = `namenode-2`) of nameservice `hopsfs`, their edits
    shared through three JournalNodes (QJM); one is active, `failover()` swaps them (haadmin)."""

    kind = "ha"

    def new_layout(self, federation: int) -> dict[str, Any]:
        return {"kind": self.kind, "nameservice": NAMESERVICE, "namenodes": _ids("nn", 2)}

    @property
    def journalnode_names(self) -> list[str]:
        return [f"journalnode-{i}" for i in range(1, JOURNALNODES + 1)]

    @property
    def namenode_uri(self) -> str:
        return f"hdfs://{self.layout['nameservice']}"

    @property
    def webhdfs_url(self) -> str:
        """The active NameNode's HTTP URL (the first NameNode's while none is active)."""
        return self.http_url(self.active_namenode() or NAMENODE)

    def active_namenode(self) -> str | None:
        """The name of the active NameNode (None during a failover or before start-up)."""
        for name in self.namenode_names:
            if self.namenode_state(name) == "active":
                return name
        return None

    def namenode_properties(self, core_site: dict[str, Any], hdfs_site: dict[str, Any]) -> None:
        super().namenode_properties(core_site, hdfs_site)
        ns, ids = self.layout["nameservice"], self.layout["namenodes"]
        journals = ";".join(self.rpc_address(jn) for jn in self.journalnode_names)
        hdfs_site.update(
            {
                "dfs.nameservices": ns,
                f"dfs.ha.namenodes.{ns}": ",".join(ids.values()),
                **{
                    f"dfs.namenode.rpc-address.{ns}.{i}": self.rpc_address(n)
                    for n, i in ids.items()
                },
                **{
                    f"dfs.namenode.http-address.{ns}.{i}": self.http_url(n).removeprefix("http://")
                    for n, i in ids.items()
                },
                "dfs.namenode.shared.edits.dir": f"qjournal://{journals}/{ns}",
                f"dfs.client.failover.proxy.provider.{ns}": FAILOVER_PROVIDER,
                # Manual failover: the old active is dead or told to step down by haadmin.
                "dfs.ha.automatic-failover.enabled": "false",
                "dfs.ha.fencing.methods": "shell(/bin/true)",
                # The standby follows the edits within a second (in-progress segments too), so
                # a restarted one leaves safe mode as soon as the DataNodes have reported.
                "dfs.ha.tail-edits.period": "1s",
                "dfs.ha.tail-edits.in-progress": "true",
                "dfs.ha.log-roll.period": "10s",
            }
        )

    def _command(self, name: str, jars: Path) -> list[str]:
        if name not in self.journalnode_names:
            return super()._command(name, jars)
        overrides = {
            "dfs.journalnode.edits.dir": self.directory / name,
            "dfs.journalnode.rpc-address": self.rpc_address(name),
            "dfs.journalnode.http-address": self.http_url(name).removeprefix("http://"),
        }
        return self._java(JOURNALNODE_MAIN, jars, "128m", _defines(overrides))

    def _namenode_overrides(self, name: str) -> dict[str, Any]:
        return {
            **super()._namenode_overrides(name),
            "dfs.nameservice.id": self.layout["nameservice"],
            "dfs.ha.namenode.id": self.layout["namenodes"][name],
        }

    def _format(self, jars: Path) -> None:
        """Start the JournalNodes, format the first NameNode (and the shared edits) and start it,
        then copy its namespace to the second (-bootstrapStandby)."""
        deadline = time.monotonic() + 120
        for name in self.journalnode_names:
            if not _alive(self, name):
                self._spawn(name, jars)
        for name in self.journalnode_names:
            self._wait_for(
                f"{name} RPC", lambda n=name: _listening(self.rpc_address(n)), deadline, name
            )
        self._run_namenode_tool(NAMENODE, "format", "-format", "-force", "-nonInteractive")
        self._spawn(NAMENODE, jars)
        self._wait_for(
            "the first NameNode in standby",
            lambda: self.namenode_state(NAMENODE) == "standby",
            deadline,
            NAMENODE,
        )
        second = self.namenode_names[1]
        self._run_namenode_tool(
            second, "bootstrap-standby", "-bootstrapStandby", "-force", "-nonInteractive"
        )

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Make the first running NameNode active if none is (they start as standby), once every
        running one serves RPC (haadmin asks the others first); then wait as usual."""
        deadline = time.monotonic() + timeout
        if self.active_namenode() is None:
            running = [n for n in self.namenode_names if _alive(self, n)] or [NAMENODE]
            for name in running:
                self._wait_serving(name, deadline)
            # haadmin refuses while it cannot ask a stopped NameNode, unless forced
            force = ["--forceactive"] if len(running) < len(self.namenode_names) else []
            name = self.layout["namenodes"][running[0]]
            self._haadmin("transition-to-active", "-transitionToActive", *force, name)
        super().wait_ready(max(1.0, deadline - time.monotonic()))

    def start(self, name: str, timeout: float = 120.0) -> None:
        """As for the plain cluster; a NameNode is started once it serves RPC (as standby)."""
        deadline = time.monotonic() + timeout
        super().start(name, timeout)
        if name in self.namenode_names:
            self._wait_serving(name, deadline)

    def _wait_serving(self, name: str, deadline: float) -> None:
        """Wait until NameNode `name` serves RPC (standby or active) out of safe mode (haadmin
        refuses to make a NameNode in safe mode active)."""
        self._wait_for(
            f"{name} serving RPC out of safe mode", lambda: self._serving(name), deadline, name
        )

    def failover(self, to: str | None = None, timeout: float = 120.0) -> str:
        """Make NameNode `to` (default: the other one) active, fencing the active one (which may
        be dead); returns the name of the now active NameNode."""
        if to is not None and to not in self.namenode_names:
            raise ValueError(
                f"unknown NameNode {to!r}: expected one of {', '.join(self.namenode_names)}"
            )
        active = self.active_namenode()
        others = [n for n in self.namenode_names if n != active]
        target = to or next((n for n in others if _alive(self, n)), others[0])
        if not _alive(self, target):
            raise ClusterError(
                f"{target} is not running, so it cannot become active: start it first with "
                f"`hopsfs-tools cluster start {target}`"
            )
        if target != active:
            self._wait_serving(target, time.monotonic() + timeout)
            source = active or next(n for n in self.namenode_names if n != target)
            ids = self.layout["namenodes"]
            self._haadmin("failover", "-failover", ids[source], ids[target])
        self.wait_ready(timeout)
        return target

    def _haadmin(self, step: str, *args: str) -> None:
        self._run_java(hadoop_jars(self.state.hadoop_version), step, HAADMIN_MAIN, list(args))


class FederatedCluster(MultiNameNodeCluster):
    """N NameNodes, one per nameservice ns1..nsN, with their own namespaces and the same
    DataNodes; clients see one tree through viewfs://hopsfs: ns1 at / (the mount table's
    fallback), nsK at /nsK."""

    kind = "federation"

    def new_layout(self, federation: int) -> dict[str, Any]:
        count = federation or 2
        return {
            "kind": self.kind,
            "mounttable": NAMESERVICE,
            "cluster_id": f"CID-{NAMESERVICE}-federation",
            "namenodes": _ids("ns", count),
        }

    @property
    def namenode_uri(self) -> str:
        return f"viewfs://{self.layout['mounttable']}"

    def namenode_uri_of(self, name: str) -> str:
        """hdfs://host:port of NameNode `name` (one nameservice, without the mount table)."""
        return f"hdfs://{self.rpc_address(name)}"

    def mounts(self) -> dict[str, str]:
        """The viewfs mount table: mount point -> target. "/" (the fallback) is ns1's root; /nsK
        is /nsK of nameservice K (the same path on both sides, as production tables mount)."""
        names = self.namenode_names
        mounts = {"/": f"{self.namenode_uri_of(names[0])}/"}
        for name in names[1:]:
            point = f"/{self.layout['namenodes'][name]}"
            mounts[point] = self.namenode_uri_of(name) + point
        return mounts

    def env(self) -> dict[str, str]:
        """As the plain cluster's, without HOPSFS_WEBHDFS_URL: WebHDFS serves one nameservice."""
        env = super().env()
        env.pop("HOPSFS_WEBHDFS_URL")
        return env

    def namenode_properties(self, core_site: dict[str, Any], hdfs_site: dict[str, Any]) -> None:
        super().namenode_properties(core_site, hdfs_site)
        ids = self.layout["namenodes"]
        table = f"fs.viewfs.mounttable.{self.layout['mounttable']}"
        for point, target in self.mounts().items():
            core_site[f"{table}.linkFallback" if point == "/" else f"{table}.link.{point}"] = target
        hdfs_site["dfs.nameservices"] = ",".join(ids.values())
        for name, ns in ids.items():
            hdfs_site[f"dfs.namenode.rpc-address.{ns}"] = self.rpc_address(name)
            hdfs_site[f"dfs.namenode.http-address.{ns}"] = self.http_url(name).removeprefix(
                "http://"
            )

    def _namenode_overrides(self, name: str) -> dict[str, Any]:
        return {
            **super()._namenode_overrides(name),
            "dfs.nameservice.id": self.layout["namenodes"][name],
            # The NameNode names itself to WebHDFS's DataNodes by fs.defaultFS.
            "fs.defaultFS": self.namenode_uri_of(name),
        }

    def _format(self, jars: Path) -> None:
        """Format every NameNode with the same cluster id (one cluster, N namespaces)."""
        for name in self.namenode_names:
            step = "format" if name == NAMENODE else f"format-{name}"
            args = ["-format", "-clusterId", self.layout["cluster_id"], "-force", "-nonInteractive"]
            self._run_namenode_tool(name, step, *args)

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until the first NameNode is ready, then until every other one sees the DataNodes
        live and has left safe mode."""
        deadline = time.monotonic() + timeout
        super().wait_ready(timeout)
        expected = sum(_alive(self, n) for n in self.datanode_names)
        for name in self.namenode_names[1:]:
            if _alive(self, name):
                self._wait_for(
                    f"{name}: {expected} live DataNodes, safe mode off",
                    lambda n=name: self._serving(n, expected),
                    deadline,
                    name,
                )
                self._make_mount_target(name)

    def _make_mount_target(self, name: str) -> None:
        """Create the directory NameNode `name` serves its mount point from (world-writable,
        as /tmp: users make their own directories in it)."""
        point = f"/{self.layout['namenodes'][name]}"
        query = urlencode({"op": "MKDIRS", "permission": "1777", "user.name": self.state.user})
        request = urllib.request.Request(
            f"{self.http_url(name)}/webhdfs/v1{point}?{query}", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            if not json.load(resp).get("boolean"):
                raise ClusterError(f"{name} did not create its mount target {point}")


def _ids(prefix: str, count: int) -> dict[str, str]:
    """{namenode: <prefix>1, namenode-2: <prefix>2, ...}."""
    return {
        (NAMENODE if i == 1 else f"{NAMENODE}-{i}"): f"{prefix}{i}" for i in range(1, count + 1)
    }
