"""The cluster in containers: compose/docker-compose.yml run by `podman-compose` or `docker compose`.

The same daemons, jars and settings as `LocalCluster`, one container per daemon on a bridge
network (each DataNode its own host). Clients on the host reach every daemon by its container
address, which each DataNode registers under (compose/entrypoint.sh): no published ports, no
host names to add to /etc/hosts. The plan (`containers.json`: engine, compose project name) is
written before anything is created, so `down()` also removes what a killed `up()` left: every
container, network and volume carrying the project's name or label.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hopsfs_tools.cluster.daemons import namenode_health
from hopsfs_tools.cluster.image import COMPOSE_DIR, Engine, ensure_image
from hopsfs_tools.cluster.siteconf import NAMENODE
from hopsfs_tools.cluster.state import STATE_FILE, ClusterError, ClusterState
from hopsfs_tools.config import default_cluster_dir, write_site_xml

log = logging.getLogger(__name__)

PLAN_FILE = "containers.json"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
DATANODES = 3  # compose/docker-compose.yml's topology
SUPERUSER = "hdfs"  # the image's user: the daemons run as it, so it is HDFS's superuser
RPC_PORT, HTTP_PORT = 8020, 9870
KINDS = ("container", "network", "volume")


@dataclass
class Plan:
    """What `containers.json` holds: enough to find (and remove) everything of the cluster."""

    engine: str
    project: str
    image: str = ""

    @classmethod
    def load(cls, directory: Path) -> Plan | None:
        path = directory / PLAN_FILE
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{PLAN_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(directory / PLAN_FILE)


def is_container_cluster(directory: Path | None) -> bool:
    """Whether `directory` (default: the default cluster directory) holds a container cluster."""
    return ((directory or default_cluster_dir()).expanduser() / PLAN_FILE).exists()


class ContainerCluster:
    """Start, query and stop the compose cluster kept in `directory` (conf dir, plan).

    `engine`: "podman" or "docker" (only for a new cluster; an existing one keeps its own).
    `base`: the image the cluster image is built FROM (see cluster/image.py's `ensure_image`).
    """

    def __init__(
        self, directory: str | Path | None = None, engine: str = "podman", base: str | None = None
    ) -> None:
        self.directory = Path(directory or default_cluster_dir()).expanduser().resolve()
        project = "hopsfs-" + hashlib.sha256(str(self.directory).encode()).hexdigest()[:10]
        self.plan = Plan.load(self.directory) or Plan(engine=engine, project=project)
        self.engine = Engine(self.plan.engine)
        self._base = base
        # What LocalCluster's `state` tells its users (its superuser, DataNode count); the
        # engine, not a state file, knows the containers.
        self.state = ClusterState(str(self.directory), DATANODES, user=SUPERUSER)

    # ----------------------------------------------------------------- addresses
    @property
    def conf_dir(self) -> Path:
        return self.directory / "conf"

    @property
    def datanode_names(self) -> list[str]:
        return [f"datanode-{i}" for i in range(1, DATANODES + 1)]

    @property
    def daemon_names(self) -> list[str]:
        return [NAMENODE, *self.datanode_names]

    def address(self, name: str) -> str:
        """Daemon `name`'s container address on the cluster network (routable from the host)."""
        container = self._container(name)
        if container is None:
            raise ClusterError(f"{name} has no container in {self.directory}")
        template = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
        address = self.engine.run("inspect", "-f", template, container, quiet=True).split()
        if not address:
            raise ClusterError(f"{name}'s container is not running: no address")
        return address[0]

    @property
    def namenode_uri(self) -> str:
        return f"hdfs://{self._namenode_address()}:{RPC_PORT}"

    @property
    def webhdfs_url(self) -> str:
        return f"http://{self._namenode_address()}:{HTTP_PORT}"

    def _namenode_address(self) -> str:
        """The NameNode's address as the conf dir has it (one engine call less), else asked."""
        saved = self.directory / "namenode-address"
        return saved.read_text().strip() if saved.exists() else self.address(NAMENODE)

    def env(self) -> dict[str, str]:
        """The environment a client needs to use this cluster (as its superuser, like the
        local cluster's starting user)."""
        return {
            "HADOOP_CONF_DIR": str(self.conf_dir),
            "HOPSFS_NAMENODE_URI": self.namenode_uri,
            "HOPSFS_WEBHDFS_URL": self.webhdfs_url,
            "HADOOP_USER_NAME": SUPERUSER,
        }

    # ----------------------------------------------------------------- lifecycle
    def is_running(self) -> bool:
        return self._running(NAMENODE)

    def up(self, timeout: float = 240.0) -> ContainerCluster:
        """Build the image (cached), start the compose project, write the conf dir, wait until
        every DataNode is live and safe mode is off."""
        if (self.directory / STATE_FILE).exists():
            raise ClusterError(
                f"{self.directory} holds a local cluster: `hopsfs-tools cluster down --dir "
                f"{self.directory}` first, or use another --dir"
            )
        self.plan.save(self.directory)  # before creating anything: `down` knows what to remove
        self.plan.image = ensure_image(self.engine, self._base)
        self.plan.save(self.directory)
        services = self._services()
        if services and set(services) != set(self.daemon_names):
            self._remove()  # what a killed `up` left half-made
        if set(services) == set(self.daemon_names):
            self.engine.run("start", *services.values())  # running ones stay as they are
        else:
            self._compose("up", "-d")
        self._record_namenode_address()
        self.wait_ready(timeout)
        return self

    def down(self) -> None:
        """Remove every container, network and volume of the project, then the directory.
        ClusterError (directory kept) if the engine still lists one of them."""
        if Plan.load(self.directory) is not None:
            self._remove()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _remove(self) -> None:
        self._compose("down", "-v", check=False)
        for kind in KINDS:  # what compose did not know of (a killed `up`), by label and name
            names = self.leftovers()[kind]
            if names:  # containers first: a network in use cannot be removed
                force = [] if kind == "network" else ["-f"]  # docker's network rm has no -f
                self.engine.run(kind, "rm", *force, *names, check=False)
        left = {kind: names for kind, names in self.leftovers().items() if names}
        if left:
            raise ClusterError(f"could not remove {left} of {self.plan.project}")

    def leftovers(self) -> dict[str, list[str]]:
        """The containers, networks and volumes the engine lists for this cluster's project."""
        project = self.plan.project
        found: dict[str, list[str]] = {}
        for kind in KINDS:
            listing = [kind, "ls", *(["-a"] if kind == "container" else [])]
            listing += ["--format", "{{.Names}}" if kind == "container" else "{{.Name}}"]
            names = self.engine.run(*listing, quiet=True, check=False).split()
            label = f"label=com.docker.compose.project={project}"
            labelled = self.engine.run(*listing, "--filter", label, quiet=True, check=False)
            mine = {n for n in names if n.startswith((f"{project}_", f"{project}-"))}
            found[kind] = sorted(mine | set(labelled.split()))
        return found

    def stop(self, name: str, timeout: float = 30.0) -> None:
        """Stop daemon `name`'s container gracefully (SIGTERM, SIGKILL after `timeout`)."""
        self.engine.run("stop", "-t", str(int(timeout)), self._require(name))

    def kill(self, name: str) -> None:
        """SIGKILL daemon `name`'s container, as a crash would."""
        self.engine.run("kill", self._require(name))

    def start(self, name: str, timeout: float = 120.0) -> None:
        """Start daemon `name`'s stopped container and wait until the cluster is usable."""
        deadline = time.monotonic() + timeout
        self.engine.run("start", self._require(name))
        if name == NAMENODE:
            self._record_namenode_address()  # a restarted container may get another address
        else:
            self._wait_registered(name, deadline)
        self.wait_ready(max(1.0, deadline - time.monotonic()))

    # ----------------------------------------------------------------- status
    def jmx(self, bean: str, timeout: float = 5.0) -> dict[str, Any]:
        """One JMX bean of the NameNode (e.g. 'NameNodeInfo')."""
        url = f"{self.webhdfs_url}/jmx?qry=Hadoop:service=NameNode,name={bean}"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            beans = json.load(resp)["beans"]
        if not beans:
            raise ClusterError(f"NameNode JMX bean {bean} not available at {url}")
        return beans[0]

    def status(self) -> dict[str, Any]:
        """Containers, live/dead DataNodes, capacity and safe mode (the keys of
        LocalCluster.status)."""
        processes = {}
        for name in self.daemon_names:
            container = self._container(name)
            pid = self._inspect(container, "{{.State.Pid}}") if container else ""
            processes[name] = {
                "pid": int(pid) if pid.isdigit() and int(pid) else None,
                "running": self._running(name),
                "container": container,
                "log": f"{self.engine.name} logs {container}" if container else None,
            }
        running = processes[NAMENODE]["running"]
        result: dict[str, Any] = {
            "directory": str(self.directory),
            "engine": self.engine.name,
            "project": self.plan.project,
            "image": self.plan.image,
            "fs_uri": self.namenode_uri if running else None,
            "webhdfs_url": self.webhdfs_url if running else None,
            "conf_dir": str(self.conf_dir),
            "superuser": SUPERUSER,
            "processes": processes,
            "namenode_reachable": False,
        }
        if not running:
            return result
        result.update(namenode_health(self.jmx))
        return result

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until every running DataNode container is live and safe mode is off."""
        deadline = time.monotonic() + timeout
        expected = sum(self._running(n) for n in self.datanode_names)
        last = "NameNode HTTP server not answering yet"
        while time.monotonic() < deadline:
            if not self._running(NAMENODE):
                raise ClusterError("the NameNode container exited.\n" + self._logs(NAMENODE))
            try:
                live = self.jmx("FSNamesystemState")["NumLiveDataNodes"]
                safemode = bool(self.jmx("NameNodeInfo").get("Safemode"))
            except (OSError, ValueError, ClusterError) as exc:
                last = str(exc)
            else:
                if live >= expected and not safemode:
                    return
                last = f"{live}/{expected} DataNodes live, safe mode {'on' if safemode else 'off'}"
            time.sleep(1.0)
        raise ClusterError(f"the container cluster was not ready in {timeout:.0f}s: {last}")

    def _wait_registered(self, name: str, deadline: float) -> None:
        """Wait until DataNode `name`'s restarted container is the one the NameNode lists live."""
        xfer = f"{self.address(name)}:9866"
        while time.monotonic() < deadline:
            try:
                live = json.loads(self.jmx("NameNodeInfo").get("LiveNodes") or "{}")
            except (OSError, ValueError, ClusterError):
                live = {}
            if any(
                v.get("xferaddr") == xfer and v.get("lastContact", 99) < 3 for v in live.values()
            ):
                return
            time.sleep(0.5)
        raise ClusterError(f"{name} did not register with the NameNode again.\n" + self._logs(name))

    # ----------------------------------------------------------------- engine
    def _compose(self, *args: str, check: bool = True) -> str:
        command = [*self.engine.compose_command(), "-p", self.plan.project, "-f", str(COMPOSE_FILE)]
        env = {"HOPSFS_IMAGE": self.plan.image} if self.plan.image else {}
        return self.engine.call([*command, *args], check=check, extra_env=env)

    def _record_namenode_address(self) -> None:
        """Write the NameNode's current address (and the client conf dir naming it)."""
        address = self.address(NAMENODE)
        (self.directory / "namenode-address").write_text(address)
        self._write_config(address)

    def _services(self) -> dict[str, str]:
        """The daemons that have a container (running or not): name -> container id."""
        found = {name: self._container(name) for name in self.daemon_names}
        return {name: container for name, container in found.items() if container}

    def _container(self, name: str) -> str | None:
        """The id of daemon `name`'s container (running or not), None if it has none."""
        if name not in self.daemon_names:
            raise ValueError(f"unknown daemon {name!r}: expected one of {self.daemon_names}")
        ids = self.engine.run(
            "ps", "-a", "-q",
            "--filter", f"label=com.docker.compose.project={self.plan.project}",
            "--filter", f"label=com.docker.compose.service={name}",
            quiet=True, check=False,
        ).split()  # fmt: skip
        return ids[0] if ids else None

    def _require(self, name: str) -> str:
        container = self._container(name)
        if container is None:
            raise ClusterError(f"{name} has no container in project {self.plan.project}")
        return container

    def _inspect(self, container: str, template: str) -> str:
        return self.engine.run(
            "inspect", "-f", template, container, quiet=True, check=False
        ).strip()

    def _running(self, name: str) -> bool:
        container = self._container(name)
        return bool(container) and self._inspect(container, "{{.State.Running}}") == "true"

    def _logs(self, name: str, lines: int = 30) -> str:
        container = self._container(name)
        if not container:
            return f"({name} has no container)"
        out = self.engine.logs(container, lines)
        return f"--- last lines of {name}'s log ---\n{out}"

    def _write_config(self, namenode: str) -> None:
        """core-site.xml / hdfs-site.xml for clients on the host: the NameNode by address, the
        DataNodes by the addresses they register under."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        write_site_xml(
            self.conf_dir / "core-site.xml", {"fs.defaultFS": f"hdfs://{namenode}:{RPC_PORT}"}
        )
        write_site_xml(
            self.conf_dir / "hdfs-site.xml",
            {
                "dfs.namenode.rpc-address": f"{namenode}:{RPC_PORT}",
                "dfs.namenode.http-address": f"{namenode}:{HTTP_PORT}",
                "dfs.client.use.datanode.hostname": "false",
                "dfs.client.block.write.replace-datanode-on-failure.best-effort": "true",
            },
        )
