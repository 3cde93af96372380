"""Several "hosts" on one machine: each DataNode of a local cluster in its own network namespace.

A bridge holding the gateway address (.1) of a private /24 that no interface or route of this
machine uses joins one namespace per host through a veth pair: hosts 1..N run a DataNode each,
optional client hosts after them run none (as compute nodes). Host k has its own address
(.10+k), its own name (`host<k>.hopsfs<N>.test`, written to a hosts file in the cluster directory
and to a delimited block of /etc/hosts, so the JVM's and Python's resolvers know it), a rack (a
topology script the NameNode runs answers `/rack<r>`) and optionally a shaped link (a `tc` token
bucket on both ends of its veth; this kernel has no netem, so no latency emulation). The NameNode
and clients in the root namespace use the bridge address. The plan (`network.json`) is written
before anything is created, so `remove()` also undoes a half-created network after a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PLAN_FILE = "network.json"
SUBNET = "10.214.{}.0/24"  # the candidates, third octet 1..254: the first free one is taken
HOSTS_FILE = Path("/etc/hosts")
LOCK_FILE = Path(tempfile.gettempdir()) / "hopsfs-tools-netns.lock"
RATE = re.compile(r"\d+(\.\d+)?[kmg]?bit")
TOPOLOGY_SCRIPT = "topology.sh"
MAX_HOSTS = 240  # host k is .10+k of the /24


class NetworkError(RuntimeError):
    """A multi-host network could not be created, used or removed; the message says why."""


def check_request(
    hosts: int, racks: int, link: str | None, clients: int = 0, secure: object = False
) -> int:
    """`hosts`, after checking 1 <= `racks` <= `hosts` and that `link` is a tc rate (0: loopback)."""
    if hosts == 0:
        if racks != 1 or link or clients:
            raise ValueError(
                "racks, link and clients need a multi-host cluster: add --hosts N (hosts=N)"
            )
        return 0
    if hosts < 1:
        raise ValueError(f"a multi-host cluster needs at least 1 host, got hosts={hosts}")
    if not 0 <= clients <= MAX_HOSTS - hosts:
        raise ValueError(f"clients must be between 0 and {MAX_HOSTS - hosts}, got {clients}")
    if not 1 <= racks <= hosts:
        raise ValueError(f"racks must be between 1 and hosts={hosts}, got racks={racks}")
    if link is not None and not RATE.fullmatch(link):
        raise ValueError(f"link={link!r} is not a rate tc understands: use e.g. '1gbit', '10gbit'")
    if secure:
        raise ValueError(
            "a multi-host cluster runs without TLS/Kerberos (their certificates and principals "
            "name localhost): drop hosts= or tls=/kerberos="
        )
    return hosts


@dataclass
class Network:
    """The namespaces, links and names of a multi-host cluster in `directory` (its plan file)."""

    directory: str
    index: int  # the subnet's third octet; also names the bridge, namespaces and domain
    hosts: int  # hosts 1..hosts run DataNode 1..hosts
    racks: int = 1
    link: str | None = None
    clients: int = 0  # hosts after them without a DataNode

    # ------------------------------------------------------------------ plan
    @classmethod
    def load(cls, directory: Path) -> Network | None:
        """The network planned for the cluster in `directory`, or None (a loopback cluster)."""
        path = directory / PLAN_FILE
        return cls(**json.loads(path.read_text())) if path.exists() else None

    @classmethod
    def ensure(
        cls, directory: Path, hosts: int, racks: int, link: str | None, clients: int = 0
    ) -> Network | None:
        """The network of `directory` (planned on a free subnet if new), created if missing; None
        for a loopback cluster (no plan, no `hosts`)."""
        if not hosts and cls.load(directory) is None:
            return None
        _check_privileges(link)
        with _lock():
            network = cls.load(directory)
            if network is None and (directory / "conf" / "hdfs-site.xml").exists():
                raise NetworkError(
                    f"the cluster in {directory} was made without hosts (loopback): "
                    f"`hopsfs-tools cluster down --dir {directory}` first, or use another --dir"
                )
            if network is None:
                network = cls(str(directory), _free_index(), hosts, racks, link, clients)
                network.save()  # before creating anything: `remove` knows what to undo
            network._create()
        return network

    def save(self) -> None:
        path = Path(self.directory) / PLAN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    # ------------------------------------------------------------------ names
    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(SUBNET.format(self.index))

    @property
    def gateway(self) -> str:
        """The bridge's address: the NameNode's, and that of clients in the root namespace."""
        return str(self.subnet[1])

    @property
    def bridge(self) -> str:
        return f"hopsfs{self.index}br"

    @property
    def domain(self) -> str:
        return f"hopsfs{self.index}.test"

    @property
    def numbers(self) -> range:
        """The numbers k of every host: the DataNodes' 1..hosts, then the client hosts'."""
        return range(1, self.hosts + self.clients + 1)

    @property
    def host_names(self) -> list[str]:
        """The fully qualified name of each host, host 1 first (client hosts last)."""
        return [f"host{k}.{self.domain}" for k in self.numbers]

    def namespace(self, k: int) -> str:
        return f"hopsfs{self.index}-host{k}"

    def host_address(self, k: int) -> str:
        return str(self.subnet[10 + k])

    def rack(self, k: int) -> str:
        """Host k's rack: DataNode hosts in `racks` contiguous groups, client hosts round-robin."""
        if k > self.hosts:
            return f"/rack{(k - self.hosts - 1) % self.racks + 1}"
        return f"/rack{(k - 1) * self.racks // self.hosts + 1}"

    def _veth(self, k: int) -> str:
        return f"hopsfs{self.index}h{k}"  # the root-namespace end; the host's end is eth0

    def host_number(self, host: str) -> int:
        """The k of "host<k>", its full name, or "datanode-<k>" (ValueError otherwise)."""
        match = re.fullmatch(
            r"(?:host(\d+)(?:\." + re.escape(self.domain) + r")?|datanode-(\d+))", host
        )
        k = int(match.group(1) or match.group(2)) if match else 0
        last = self.hosts if match and match.group(2) else self.hosts + self.clients
        if not 1 <= k <= last:
            raise ValueError(
                f"unknown host {host!r}: expected one of {', '.join(self.host_names)} "
                "(or host1.., datanode-1..)"
            )
        return k

    def address(self, daemon: str) -> str:
        """The address `daemon` ("namenode" or "datanode-<k>") listens on."""
        return self.gateway if daemon == "namenode" else self.host_address(self.host_number(daemon))

    def hosts_lines(self) -> list[str]:
        """The hosts-file lines naming the NameNode and every host."""
        lines = [f"{self.gateway} namenode.{self.domain}"]
        lines += [f"{self.host_address(k)} {n}" for k, n in enumerate(self.host_names, 1)]
        return lines

    # ------------------------------------------------------------------ Hadoop configuration
    def configure(
        self, conf_dir: Path, core_site: dict[str, Any], hdfs_site: dict[str, Any]
    ) -> None:
        """Rack awareness (a topology script) and host names on the wire, for daemons and clients."""
        script = conf_dir / TOPOLOGY_SCRIPT
        cases = "".join(
            f"    {self.host_address(k)}|{name}) echo {self.rack(k)} ;;\n"
            for k, name in enumerate(self.host_names, 1)
        )
        script.write_text(
            "#!/bin/sh\n# The rack of each host of this cluster (net.topology.script.file.name).\n"
            f'for host in "$@"; do\n  case "$host" in\n{cases}'
            "    *) echo /default-rack ;;\n  esac\ndone\n"
        )
        script.chmod(0o755)
        core_site["net.topology.script.file.name"] = script
        # The daemons' JMX metrics (e.g. a DataNode's BytesRead) refresh every second, not 10 s.
        (conf_dir / "hadoop-metrics2.properties").write_text("*.period=1\n")
        hdfs_site["dfs.client.use.datanode.hostname"] = "true"
        hdfs_site["dfs.datanode.use.datanode.hostname"] = "true"

    def datanode_properties(self, daemon: str) -> dict[str, str]:
        """The per-DataNode settings: the host name it registers with."""
        return {"dfs.datanode.hostname": self.host_names[self.host_number(daemon) - 1]}

    # ------------------------------------------------------------------ running in a host
    def wrap(self, daemon: str, cmd: list[str]) -> list[str]:
        """`cmd` run inside the namespace of `daemon`'s host (the NameNode stays outside)."""
        if daemon == "namenode":
            return cmd
        return ["ip", "netns", "exec", self.namespace(self.host_number(daemon)), *cmd]

    def exec_command(self, host: str, cmd: list[str]) -> list[str]:
        """`cmd` run as if on `host`: in its namespace, with its host name (own UTS namespace)."""
        k = self.host_number(host)
        rename = 'hostname "$0" && exec "$@"'
        inside = ["ip", "netns", "exec", self.namespace(k), "unshare", "--uts", "sh", "-c", rename]
        return [*inside, self.host_names[k - 1], *cmd]

    # ------------------------------------------------------------------ create / shape / remove
    @property
    def _owner_tag(self) -> str:
        """The bridge's alias: which cluster directory the bridge (and its hosts) belong to."""
        return f"hopsfs-tools {self.directory}"[:255]

    def _bridge_owner(self) -> str | None:
        """The alias of our bridge's name on this machine ("" if unset), None without a bridge."""
        try:
            return Path(f"/sys/class/net/{self.bridge}/ifalias").read_text().strip()
        except FileNotFoundError:
            return None

    def _create(self) -> None:
        owner = self._bridge_owner()
        if owner not in (None, "", self._owner_tag):
            raise NetworkError(
                f"the bridge {self.bridge} planned for {self.directory} now belongs to another "
                f"cluster ({owner}): `hopsfs-tools cluster down --dir {self.directory}` and "
                "start it again"
            )
        if owner is None:
            clash = _clash(self.subnet)
            if clash:
                raise NetworkError(
                    f"the subnet {self.subnet} planned for {self.directory} is now used by {clash}: "
                    f"`hopsfs-tools cluster down --dir {self.directory}` and start it again"
                )
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("link", "set", self.bridge, "alias", self._owner_tag)
            _ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        for k in self.numbers:
            self._create_host(k)
        self.shape(self.link)
        (Path(self.directory) / "hosts").write_text("\n".join(self.hosts_lines()) + "\n")
        _edit_hosts_file(self.directory, self.hosts_lines())
        log.info("network %s: hosts %s on bridge %s", self.subnet, self.host_names, self.bridge)

    def _create_host(self, k: int) -> None:
        ns, veth = self.namespace(k), self._veth(k)
        if _run(["ip", "-n", ns, "-j", "route", "show", "default"], check=False).strip("[]\n "):
            return  # the last step of a creation is done: the host is complete
        self._remove_host(k)  # what an interrupted creation left
        _ip("netns", "add", ns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", f"{veth}p")
        _ip("link", "set", f"{veth}p", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", ns, "link", "set", f"{veth}p", "name", "eth0")
        cidr = f"{self.host_address(k)}/{self.subnet.prefixlen}"
        _ip("-n", ns, "addr", "add", cidr, "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "route", "add", "default", "via", self.gateway)

    def shape(self, link: str | None) -> None:
        """Shape every host's link (both directions) to the rate `link`, or unshape it (None)."""
        check_request(self.hosts, self.racks, link, self.clients)
        if link:
            _check_privileges(link)
            tbf = ["tbf", "rate", link, "burst", str(_burst_bytes(link)), "latency", "50ms"]
        for k in self.numbers:
            for where, dev in (([], self._veth(k)), (["-n", self.namespace(k)], "eth0")):
                _run(["tc", *where, "qdisc", "del", "dev", dev, "root"], check=False)
                if link:
                    _run(["tc", *where, "qdisc", "add", "dev", dev, "root", *tbf])
        self.link = link
        self.save()

    def remove(self) -> None:
        """Delete every namespace, link, and hosts entry of the plan (missing ones are skipped)."""
        with _lock():
            if self._bridge_owner() in (None, "", self._owner_tag):  # not another cluster's
                for k in self.numbers:
                    self._remove_host(k)
                _run(["ip", "link", "del", self.bridge], check=False)
            _edit_hosts_file(self.directory, [])
        log.info("network %s of %s removed", self.subnet, self.directory)

    def _remove_host(self, k: int) -> None:
        ns = self.namespace(k)
        if Path(f"/run/netns/{ns}").exists():
            for pid in _run(["ip", "netns", "pids", ns], check=False).split():
                with contextlib.suppress(ProcessLookupError):  # a process left in our namespace
                    os.kill(int(pid), signal.SIGKILL)
            _run(["ip", "netns", "del", ns], check=False)
        _run(["ip", "link", "del", self._veth(k)], check=False)


# ---------------------------------------------------------------------- helpers
def _check_privileges(link: str | None) -> None:
    if os.geteuid() != 0:
        raise NetworkError("a multi-host cluster creates network namespaces: run it as root")
    for tool in ["ip", "unshare", *(["tc"] if link else [])]:
        if shutil.which(tool) is None:
            raise NetworkError(f"`{tool}` is not on PATH: install iproute2 and util-linux")


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """One process at a time picks subnets, creates links and edits /etc/hosts."""
    with LOCK_FILE.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(cmd: list[str], check: bool = True) -> str:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetworkError(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()}")
    return proc.stdout


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _clash(subnet: ipaddress.IPv4Network) -> str | None:
    """What on this machine (an interface address or a route) overlaps `subnet`, if anything."""
    for iface in json.loads(_run(["ip", "-j", "-4", "addr"]) or "[]"):
        for a in iface.get("addr_info", []):
            if ipaddress.IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False).overlaps(
                subnet
            ):
                return f"the address {a['local']} of {iface['ifname']}"
    for route in json.loads(_run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]"):
        dst = route.get("dst", "default")
        if dst != "default" and ipaddress.IPv4Network(dst, strict=False).overlaps(subnet):
            return f"the route to {dst}"
    return None


def _free_index() -> int:
    """The first candidate subnet no interface, route or other cluster's bridge uses."""
    for index in range(1, 255):
        candidate = Network("", index, 1)
        if Path(f"/sys/class/net/{candidate.bridge}").exists():
            continue
        if _clash(candidate.subnet) is None:
            return index
    raise NetworkError(f"no free subnet among {SUBNET.format('1..254')}: remove unused bridges")


def _burst_bytes(link: str) -> int:
    """A token bucket of 10 ms at the rate `link` (at least 64 KiB: above one GSO packet)."""
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg]?)bit", link).groups()
    bits = float(number) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[unit]
    return max(64 * 1024, int(bits / 8 / 100))


def _edit_hosts_file(directory: str, lines: list[str]) -> None:
    """Replace this cluster's delimited block of /etc/hosts by `lines` (none: remove it)."""
    begin, end = (
        f"# >>> hopsfs-tools cluster {directory}",
        f"# <<< hopsfs-tools cluster {directory}",
    )
    try:
        text = HOSTS_FILE.read_text()
    except FileNotFoundError:
        text = ""
    kept, inside = [], False
    for line in text.splitlines():
        if line == begin:
            inside = True
        elif line == end:
            inside = False
        elif not inside:
            kept.append(line)
    if lines:
        kept += [begin, *lines, end]
    new = "\n".join(kept) + "\n"
    if new == text:
        return
    tmp = HOSTS_FILE.with_name(f".{HOSTS_FILE.name}.hopsfs-tools")
    tmp.write_text(new)
    tmp.chmod(0o644)
    try:
        tmp.replace(HOSTS_FILE)
    except OSError:  # /etc/hosts is a bind mount (containers): rewrite it in place
        tmp.unlink()
        HOSTS_FILE.write_text(new)
