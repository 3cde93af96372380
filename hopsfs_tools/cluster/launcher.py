"""A real local HDFS cluster: 1 NameNode + N DataNodes as separate `java` processes on 127.0.0.1.

The jars come from Maven Central (`hopsfs_tools.hadoop.jars`); nothing is simulated. A state
file (`cluster.json`) in the cluster directory lets other processes query, stop or kill the
daemons; the NameNode's JMX servlet is the source of truth for liveness and capacity.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from hopsfs_tools.cluster import owner as ownership
from hopsfs_tools.cluster import siteconf
from hopsfs_tools.cluster.daemons import (
    JAVA17_OPENS,
    LOG4J,
    MAIN_CLASS,
    check_prerequisites,
    namenode_health,
)
from hopsfs_tools.cluster.kdc import Kdc
from hopsfs_tools.cluster.netns import Network, check_request
from hopsfs_tools.cluster.owner import MARKER, pid_alive, reap
from hopsfs_tools.cluster.ports import free_port
from hopsfs_tools.cluster.security import WireSecurity
from hopsfs_tools.cluster.siteconf import HOST, NAMENODE
from hopsfs_tools.cluster.state import STATE_FILE, ClusterError, ClusterState, stored_kind
from hopsfs_tools.cluster.tls import TlsMaterial
from hopsfs_tools.config import default_cluster_dir, settings, write_site_xml
from hopsfs_tools.hadoop.jars import hadoop_jars

log = logging.getLogger(__name__)

# Host part of a Kerberos cluster's service principals (nn/localhost@REALM), so also the host
# SPNEGO clients must name in the NameNode's HTTPS URL.
SERVICE_HOST = "localhost"
SERVICES = {NAMENODE: "nn", "datanode": "dn", "http": "HTTP"}

MAX_NAMESERVICES = 4  # a federated local cluster's nameservices


class LocalCluster:
    """Start, query and stop a local HDFS cluster kept in `directory`.

    `tls=True` (or a `TlsMaterial`) makes every HTTP server HTTPS-only (dfs.http.policy), with a
    certificate from a CA generated into `directory`/tls unless given; clients verify it against
    `tls_material.ca_cert` (HOPSFS_CA_CERT in `env()`).

    `kerberos=Kdc(...)` (a started KDC) makes a secure cluster: Kerberos RPC authentication and
    service authorization, principals nn/, dn/ and HTTP/localhost@REALM in one keytab, block
    access tokens, SASL data transfer protection and SPNEGO for WebHDFS. Secure DataNodes on
    unprivileged ports need HTTPS, so it implies `tls=True`. `rpc_protection="privacy"` and
    `encrypt_data_transfer=True` encrypt its RPC and block traffic (cluster/security.py).

    `trash_interval`: minutes a deleted path stays in its owner's trash (fs.trash.interval; one
    day by default, 0 turns trash off); set when the cluster directory is first made.

    `owned=True` ties a cluster this process starts to this process (tests, benchmarks): if it
    dies without `down()`, a watchdog stops the daemons (cluster/owner.py). Without it (the CLI's
    `cluster up`) the daemons keep running after the starting process exits.

    `hosts=N`: N DataNodes on N "hosts" (namespaces) in `racks` racks (+ `clients` hosts without
    one), `link` speed: cluster/netns.py
    """

    kind: ClassVar[str] = ""  # "" a plain cluster; subclasses of a kind register themselves
    _kinds: ClassVar[dict[str, type[LocalCluster]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            LocalCluster._kinds[cls.kind] = cls  # HA, federation (cluster/ha.py)

    def __new__(cls, directory: str | os.PathLike | None = None, *args: Any, **kw: Any) -> Any:
        return super().__new__(cls._class_for(directory, **kw))

    @classmethod
    def _class_for(
        cls,
        directory: str | os.PathLike | None,
        *,
        ha: bool = False,
        federation: int = 0,
        hosts: int = 0,
        **_: Any,
    ) -> type[LocalCluster]:
        """The class of `LocalCluster(directory, ha=..., federation=...)`: asked for, or stored."""
        if cls is not LocalCluster:
            return cls
        if ha and federation:
            raise ValueError("a local cluster is either HA (ha=True, --ha) or federated, not both")
        if hosts and (ha or federation):
            raise ValueError(
                f"hosts={hosts} with ha/federation: a multi-host cluster (--hosts) has one "
                "NameNode; start it without --ha/--federation"
            )
        if federation and not 2 <= federation <= MAX_NAMESERVICES:
            raise ValueError(
                f"federation={federation}: a federated cluster has 2 to {MAX_NAMESERVICES} "
                "nameservices (0: not federated)"
            )
        directory = Path(directory).expanduser() if directory else default_cluster_dir()
        kind = "ha" if ha else "federation" if federation else stored_kind(directory)
        return cls._kinds.get(kind or "", LocalCluster)

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        datanodes: int = 3,
        *,
        tls: bool | TlsMaterial = False,
        kerberos: Kdc | None = None,
        owned: bool = False,
        hosts: int = 0,
        racks: int = 1,
        link: str | None = None,
        clients: int = 0,
        ha: bool = False,
        federation: int = 0,
        rpc_protection: str = "authentication",
        encrypt_data_transfer: bool | str = False,
        trash_interval: int = siteconf.DEFAULT_TRASH_INTERVAL,
    ) -> None:
        if trash_interval < 0:
            raise ValueError(f"trash_interval={trash_interval}: minutes >= 0 (0 turns trash off)")
        self.trash_interval = trash_interval
        datanodes = check_request(hosts, racks, link, clients, tls or kerberos) or datanodes
        if datanodes < 1:
            raise ValueError(f"a cluster needs at least 1 DataNode, got datanodes={datanodes}")
        self.directory = Path(directory) if directory else default_cluster_dir()
        self.directory = self.directory.expanduser().resolve()
        self.state = (
            ClusterState.read(self.directory)
            if (self.directory / STATE_FILE).exists()
            else ClusterState(directory=str(self.directory), datanodes=datanodes)
        )
        self._tls_request = tls or (kerberos is not None)
        self._kdc = kerberos
        self._owned = owned
        self._layout = (hosts, racks, link, clients)
        self.network = Network.load(self.directory)
        self._wire = WireSecurity(rpc_protection, encrypt_data_transfer).check(bool(kerberos))

    @property
    def tls_material(self) -> TlsMaterial | None:
        """The CA and keystore of an HTTPS-only cluster (None for plain HTTP)."""
        return TlsMaterial.from_dict(self.state.tls) if self.state.tls else None

    # ----------------------------------------------------------------- addresses
    @property
    def conf_dir(self) -> Path:
        return self.directory / "conf"

    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def namenode_uri(self) -> str:
        return f"hdfs://{self.address(NAMENODE)}:{self.state.ports[NAMENODE]['rpc']}"

    @property
    def principals(self) -> dict[str, str]:
        """A Kerberos cluster's service principals by role: namenode, datanode, http (SPNEGO)."""
        if not self.state.kerberos:
            return {}
        realm = self.state.kerberos["realm"]
        return {role: f"{svc}/{SERVICE_HOST}@{realm}" for role, svc in SERVICES.items()}

    @property
    def webhdfs_url(self) -> str:
        if self.state.tls:
            host = SERVICE_HOST if self.state.kerberos else HOST
            return f"https://{host}:{self.state.ports[NAMENODE]['https']}"
        return f"http://{self.address(NAMENODE)}:{self.state.ports[NAMENODE]['http']}"

    def address(self, name: str) -> str:
        """The IP address daemon `name` listens on: 127.0.0.1, or that of its host (`hosts=`)."""
        return self.network.address(name) if self.network else HOST

    @property
    def datanode_names(self) -> list[str]:
        return [f"datanode-{i}" for i in range(1, self.state.datanodes + 1)]

    @property
    def daemon_names(self) -> list[str]:
        return [NAMENODE, *self.datanode_names]

    def env(self) -> dict[str, str]:
        """The environment a client needs to use this cluster."""
        env = {
            "HADOOP_CONF_DIR": str(self.conf_dir),
            "HOPSFS_NAMENODE_URI": self.namenode_uri,
            "HOPSFS_WEBHDFS_URL": self.webhdfs_url,
        }
        if self.tls_material:
            env["HOPSFS_CA_CERT"] = str(self.tls_material.ca_cert)
        if self.state.kerberos:
            env["KRB5_CONFIG"] = self.state.kerberos["krb5_conf"]
        return env

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    # ----------------------------------------------------------------- lifecycle
    def is_running(self) -> bool:
        return pid_alive(self.state.pids.get(NAMENODE))

    def up(self, timeout: float = 240.0) -> LocalCluster:
        """Start every daemon not running yet (formatting on first start); wait until usable."""
        check_prerequisites()
        ownership.reap_orphans(
            LocalCluster
        )  # clusters left running by killed owners, this one included
        jars = hadoop_jars(self.state.hadoop_version)
        created = not (self.directory / STATE_FILE).exists()
        if created:  # also when reap_orphans just removed this very cluster
            self.state = ClusterState(directory=str(self.directory), datanodes=self.state.datanodes)
        else:
            self.state = ClusterState.read(self.directory)
            if not ownership.owner_alive(self.state.owner):
                self.state.owner = None  # the owner died: whoever starts it now owns it
        starting = not self.is_running()
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._owned and starting:  # before any daemon starts: a crash from here on is covered
            ownership.tie(self, remove=created)
        self.network = Network.ensure(self.directory, *self._layout)
        if self._tls_request and not self.state.tls:
            material = self._tls_request
            if not isinstance(material, TlsMaterial):
                material = TlsMaterial.create(self.directory / "tls")
            self.state.tls = material.to_dict()
        if self._kdc and not self.state.kerberos:
            self._create_principals(self._kdc)
        if not self.state.ports:
            self._allocate_ports()
        if not (self.conf_dir / "hdfs-site.xml").exists():
            self._write_config()
        if not (self.directory / "name" / "current").exists():
            self._format(jars)
        for name in self.daemon_names:
            if not pid_alive(self.state.pids.get(name)):
                self._spawn(name, jars)
        self.wait_ready(timeout)
        return self

    def down(self, keep: bool = False, timeout: float = 30.0) -> None:
        """Stop every daemon (and the owner's watchdog); remove the cluster directory unless `keep`."""
        ownership.release(self)
        for name in reversed(self.daemon_names):
            self.stop(name, timeout=timeout)
        if network := Network.load(self.directory):  # the plan: also of a half-made network
            network.remove()
        if not keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def stop(self, name: str, timeout: float = 30.0) -> None:
        """Stop one daemon gracefully (SIGTERM, then SIGKILL after `timeout`)."""
        self._signal(name, signal.SIGTERM, timeout)

    def kill(self, name: str) -> None:
        """kill -9 one daemon, as a crash would."""
        self._signal(name, signal.SIGKILL, 10.0)

    def start(self, name: str, timeout: float = 120.0) -> None:
        """(Re)start one stopped or killed daemon and wait until the cluster is usable again."""
        self._check_name(name)
        deadline = time.monotonic() + timeout
        spawned = not pid_alive(self.state.current_pid(name))
        if spawned:
            self._spawn(name, hadoop_jars(self.state.hadoop_version))
        if spawned and name in self.datanode_names:
            # The NameNode still counts a just-killed DataNode as live (until declared dead after
            # ~20 s), so wait for the new process itself to have registered with the NameNode.
            self._wait_registered(name, deadline)
        self.wait_ready(max(1.0, deadline - time.monotonic()))

    # ----------------------------------------------------------------- status
    def jmx(
        self, bean: str, timeout: float = 5.0, daemon: str = NAMENODE, at: str | None = None
    ) -> dict[str, Any]:
        """One JMX bean of the NameNode (e.g. 'NameNodeInfo'; `at`: another NameNode's URL) or
        of a DataNode (`daemon`, plain HTTP)."""
        url = f"{at or self.webhdfs_url}/jmx?qry=Hadoop:service=NameNode,name={bean}"
        if daemon != NAMENODE:  # DataNodes serve their JMX beans on their own HTTP port
            http = f"{self.address(daemon)}:{self.state.ports[daemon]['http']}"
            url = f"http://{http}/jmx?qry=Hadoop:service=DataNode,name={bean}"
        context = None
        if self.tls_material:
            context = ssl.create_default_context(cafile=str(self.tls_material.ca_cert))
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            beans = json.load(resp)["beans"]
        if not beans:
            raise ClusterError(f"NameNode JMX bean {bean} not available at {url}")
        return beans[0]

    def status(self) -> dict[str, Any]:
        """Live/dead datanodes, capacity, safe mode, addresses and pids (JSON-friendly)."""
        pids = {name: self.state.current_pid(name) for name in self.daemon_names}
        processes = {
            name: {"pid": pid, "running": pid_alive(pid), "log": str(self.log_path(name))}
            for name, pid in pids.items()
        }
        result: dict[str, Any] = {
            "directory": str(self.directory),
            "hadoop_version": self.state.hadoop_version,
            "fs_uri": self.namenode_uri if self.state.ports else None,
            "webhdfs_url": self.webhdfs_url if self.state.ports else None,
            "conf_dir": str(self.conf_dir),
            "superuser": self.state.user,
            "processes": processes,
            "namenode_reachable": False,
        }
        if not self.state.ports or not self.is_running():
            return result
        result.update(namenode_health(self.jmx))
        return result

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until every running DataNode is live and safe mode is off."""
        deadline = time.monotonic() + timeout
        expected = sum(pid_alive(self.state.pids.get(n)) for n in self.datanode_names)
        last = "NameNode HTTP server not answering yet"
        while time.monotonic() < deadline:
            self._check_processes()
            try:
                info = self.jmx("NameNodeInfo", timeout=2)
                safemode = info.get("Safemode")
                # A DataNode takes blocks only once its storage report has arrived.
                live = [
                    n
                    for n in json.loads(info.get("LiveNodes") or "{}").values()
                    if n.get("remaining", 0) > 0
                ]
                if len(live) >= expected and not safemode:
                    return
                last = f"{len(live)}/{expected} DataNodes live with storage, safe mode: {safemode or 'off'}"
            except (OSError, ClusterError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise ClusterError(
            f"HDFS cluster in {self.directory} not ready after {timeout:.0f}s ({last}).\n"
            + self._log_tail(NAMENODE)
        )

    def _wait_registered(self, name: str, deadline: float) -> None:
        """Wait until DataNode `name`'s own JMX says its NameNode connection is RUNNING."""
        while time.monotonic() < deadline:
            self._check_processes()
            try:
                info = self.jmx("DataNodeInfo", timeout=2, daemon=name)
                actors = json.loads(info.get("BPServiceActorInfo") or "[]")
                if actors and all(a.get("ActorState") == "RUNNING" for a in actors):
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise ClusterError(
            f"{name} did not register with the NameNode in time.\n" + self._log_tail(name)
        )

    def wait_dead(self, name: str, timeout: float = 60.0) -> None:
        """Wait until the NameNode declares DataNode `name` dead."""
        addr = f"{self.address(name)}:{self.state.ports[name]['xfer']}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = json.loads(self.jmx("NameNodeInfo").get("DeadNodes") or "{}")
            if any(v.get("xferaddr") == addr for v in dead.values()):
                return
            time.sleep(1)
        raise ClusterError(f"{name} ({addr}) not declared dead within {timeout:.0f}s")

    # ----------------------------------------------------------------- internals
    def _check_name(self, name: str) -> None:
        if name not in self.daemon_names:
            raise ValueError(
                f"unknown daemon {name!r}: expected one of {', '.join(self.daemon_names)}"
            )

    def _allocate_ports(self) -> None:
        ports = {NAMENODE: {"rpc": free_port(HOST), "http": free_port(HOST)}}
        for name in self.datanode_names:
            ports[name] = {"xfer": free_port(HOST), "http": free_port(HOST), "ipc": free_port(HOST)}
        if self.state.tls:
            for daemon in ports.values():
                daemon["https"] = free_port(HOST)
        self.state.ports = ports
        self.state.write()

    def _write_config(self) -> None:
        """core-site.xml / hdfs-site.xml shared by daemons and clients (HADOOP_CONF_DIR)."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        core_site, hdfs_site = siteconf.base_properties(self)
        tls = self.tls_material
        if tls:
            hdfs_site.update(
                {
                    "dfs.http.policy": "HTTPS_ONLY",
                    "dfs.namenode.https-address": urlsplit(self.webhdfs_url).netloc,
                }
            )
            write_site_xml(self.conf_dir / "ssl-server.xml", tls.ssl_server_properties())
            write_site_xml(self.conf_dir / "ssl-client.xml", tls.ssl_client_properties())
        if self.state.kerberos:
            core_site.update(siteconf.kerberos_core_site(self))
            hdfs_site.update(siteconf.kerberos_hdfs_site(self))
        for site, wire in zip((core_site, hdfs_site), self._wire.properties(), strict=True):
            site.update(wire)
        if self.network:
            self.network.configure(self.conf_dir, core_site, hdfs_site)
        write_site_xml(self.conf_dir / "core-site.xml", core_site)
        write_site_xml(self.conf_dir / "hdfs-site.xml", hdfs_site)
        (self.conf_dir / "log4j.properties").write_text(LOG4J)

    def _create_principals(self, kdc: Kdc) -> None:
        """The service principals, exported into one keytab the daemons log in with."""
        keytab = self.directory / "keytabs" / "hdfs.keytab"
        keytab.parent.mkdir(parents=True, exist_ok=True)
        for svc in SERVICES.values():
            kdc.add_principal(f"{svc}/{SERVICE_HOST}", keytab)
        keytab.chmod(0o600)
        self.state.kerberos = {
            "realm": kdc.realm,
            "krb5_conf": str(kdc.krb5_conf),
            "keytab": str(keytab),
        }
        self.state.write()

    def _java(self, main: str, jars: Path, heap: str, args: list[str]) -> list[str]:
        classpath = os.pathsep.join([str(self.conf_dir), str(jars / "*")])
        krb5 = self.state.kerberos
        return [
            "java",
            f"-Xmx{heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true",
            f"-Dhadoop.log.dir={self.logs_dir}",
            f"{MARKER}{self.directory}",
            *([f"-Djava.security.krb5.conf={krb5['krb5_conf']}"] if krb5 else []),
            *JAVA17_OPENS,
            "-cp",
            classpath,
            main,
            *args,
        ]

    def _format(self, jars: Path) -> None:
        self._run_java(
            jars, "format", MAIN_CLASS[NAMENODE], ["-format", "-force", "-nonInteractive"]
        )

    def _run_java(self, jars: Path, step: str, main: str, args: list[str]) -> None:
        """Run a Java tool to its end (output in logs/`step`.log); ClusterError if it fails."""
        with self.log_path(step).open("wb") as out:
            proc = subprocess.run(
                self._java(main, jars, "256m", args),
                check=False,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self._daemon_env(),
            )
        if proc.returncode != 0:
            raise ClusterError(f"{step} failed (exit {proc.returncode}).\n" + self._log_tail(step))

    def _daemon_env(self) -> dict[str, str]:
        # daemons run as the superuser who starts the cluster
        return settings.child_environment(HADOOP_USER_NAME=None, HADOOP_CONF_DIR=str(self.conf_dir))

    def _spawn(self, name: str, jars: Path) -> None:
        self._check_name(name)
        cmd = self._command(name, jars)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path(name).open("ab") as out:
            proc = subprocess.Popen(
                self.network.wrap(name, cmd) if self.network else cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._daemon_env(),
                start_new_session=True,
            )
        log.info("started %s (pid %d)", name, proc.pid)
        self.state.record_pid(name, proc.pid)

    def _command(self, name: str, jars: Path) -> list[str]:
        if name == NAMENODE:
            return self._java(MAIN_CLASS[NAMENODE], jars, "512m", [])
        ports = self.state.ports[name]
        data = self.directory / name
        data.mkdir(parents=True, exist_ok=True)
        host = self.address(name)
        overrides = {
            "dfs.datanode.data.dir": data,
            "dfs.datanode.address": f"{host}:{ports['xfer']}",
            "dfs.datanode.http.address": f"{host}:{ports['http']}",
            "dfs.datanode.ipc.address": f"{host}:{ports['ipc']}",
            **(self.network.datanode_properties(name) if self.network else {}),
        }
        if "https" in ports:
            overrides["dfs.datanode.https.address"] = f"{host}:{ports['https']}"
        args = [a for k, v in overrides.items() for a in ("-D", f"{k}={v}")]
        return self._java(MAIN_CLASS["datanode"], jars, "256m", args)

    def _signal(self, name: str, sig: signal.Signals, timeout: float) -> None:
        self._check_name(name)
        pid = self.state.current_pid(name)
        if pid_alive(pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                reap(pid)
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                while pid_alive(pid):
                    reap(pid)
                    time.sleep(0.1)
        if self.directory.exists():
            self.state.record_pid(name, None)
        else:
            self.state.pids.pop(name, None)

    def _check_processes(self) -> None:
        for name in self.daemon_names:
            pid = self.state.pids.get(name)
            if pid and not pid_alive(pid):
                raise ClusterError(
                    f"{name} (pid {pid}) exited during start-up.\n" + self._log_tail(name)
                )

    def _log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_path(name)
        try:
            tail = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no log at {path})"
        return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)
