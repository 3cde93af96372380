"""The cluster description: ClusterConfig, built from resolved values and HADOOP_CONF_DIR's XML.

Pure data: nothing here talks to the network or reads the environment (`settings` does that);
it only reads Hadoop's *-site.xml files.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def read_site_xml(path: str | os.PathLike) -> dict[str, str]:
    """The name -> value pairs of a Hadoop configuration file (core-site.xml, hdfs-site.xml)."""
    root = ET.parse(path).getroot()
    props: dict[str, str] = {}
    for prop in root.iter("property"):
        name = prop.findtext("name")
        if name:
            props[name.strip()] = (prop.findtext("value") or "").strip()
    return props


def write_site_xml(path: str | os.PathLike, props: Mapping[str, object]) -> None:
    """Write a Hadoop configuration file holding `props` (values are str()-ed)."""
    root = ET.Element("configuration")
    for name, value in props.items():
        prop = ET.SubElement(root, "property")
        ET.SubElement(prop, "name").text = name
        ET.SubElement(prop, "value").text = str(value)
    ET.indent(root)
    Path(path).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )


BACKENDS = ("native", "arrow", "webhdfs")
UMASK_KEY = "fs.permissions.umask-mode"
DEFAULT_UMASK = "022"  # Hadoop's default
CA_PROPERTY = "hopsfs.webhdfs.ca"  # a CA bundle in core-site.xml / hdfs-site.xml
DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 5  # further attempts of a call that failed on a lost connection
DEFAULT_RETRY_BACKOFF = 0.5  # seconds before the first retry; doubles for each further one
_HADOOP_HTTP_PORT = 9870  # dfs.namenode.http-address default port
_HADOOP_RPC_PORT = 8020  # fs.defaultFS default port
_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")  # a host name, IPv4 or (bracketed) IPv6
_NO_CLUSTER_HINT = (
    "start a local one with `hopsfs-tools cluster up`, or set HADOOP_CONF_DIR to a directory "
    "holding core-site.xml (fs.defaultFS), or set HOPSFS_NAMENODE_URI=hdfs://host:port"
)


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster is and how to talk to it; built by `settings.resolve`."""

    namenode_uri: str  # "hdfs://host:port", "hdfs://nameservice" (HA) or "viewfs://mounttable"
    webhdfs_url: str | None  # "http://host:port" (or https://)
    backend: str  # "native" | "arrow" | "webhdfs"
    conf_dir: str | None  # HADOOP_CONF_DIR used, if any
    user: str | None  # the HDFS user acting (project user P__u included); None: login name
    properties: dict[str, str] = field(default_factory=dict)  # core-site + hdfs-site merged
    timeout: float = DEFAULT_TIMEOUT  # seconds for connect/RPC before ConnectionError
    ca_cert: str | None = None  # PEM CA bundle for HTTPS; None: the system's trust store
    retries: int = DEFAULT_RETRIES  # retries of safe calls after a lost connection (0: none)
    retry_backoff: float = DEFAULT_RETRY_BACKOFF  # seconds before the first retry (then doubled)
    ticket_cache: str | None = None  # Kerberos ticket cache (KRB5CCNAME) for Java clients
    token_file: str | None = None  # delegation tokens (HADOOP_TOKEN_FILE_LOCATION): no ticket

    @property
    def kerberos(self) -> bool:
        """Whether the cluster authenticates with Kerberos (hadoop.security.authentication).

        Then the identity is the Kerberos ticket's principal (`kinit`); `user` is not used.
        """
        return self.properties.get("hadoop.security.authentication", "").lower() == "kerberos"

    @property
    def webhdfs_urls(self) -> list[str]:
        """Every NameNode HTTP(S) URL to try: `webhdfs_url`, then for a nameservice (HA) each of
        its NameNodes; without `webhdfs_url` those hdfs-site.xml names for `namenode_uri`."""
        urls = [self.webhdfs_url] if self.webhdfs_url else []
        if not urls or not urlsplit(self.namenode_uri).port:
            urls += namenode_http_urls(self.properties, self.namenode_uri)
        return list(dict.fromkeys(u.rstrip("/") for u in urls))

    @property
    def umask(self) -> int:
        """The bits new files (0o666) and directories (0o777) lose, unless their parent has a
        default ACL: `fs.permissions.umask-mode`, octal ("022") or symbolic ("u=rwx,g=rx,o=")."""
        return parse_umask(self.properties.get(UMASK_KEY, DEFAULT_UMASK))

    @property
    def stale_datanode_avoided_after(self) -> float | None:
        """Seconds after a DataNode's death from which the NameNode prefers others for new write
        pipelines, or None when the cluster's settings say it does not
        (`dfs.namenode.avoid.write.stale.datanode`, off in Hadoop's defaults; a client's XML may
        not say what the NameNode's does). It is stale after `dfs.namenode.stale.datanode.interval`
        without heartbeats, counted at the next check (every stale interval at most)."""
        props = self.properties
        if props.get("dfs.namenode.avoid.write.stale.datanode", "").lower() != "true":
            return None
        try:
            stale = float(props.get("dfs.namenode.stale.datanode.interval", 30000)) / 1000
            recheck = float(props.get("dfs.namenode.heartbeat.recheck-interval", 300000)) / 1000
            heartbeat = float(props.get("dfs.heartbeat.interval", 3))
        except ValueError:
            return None
        return stale + min(stale, recheck) + heartbeat

    @property
    def replication(self) -> int:
        """The replication of new files (`dfs.replication`, 3 by default)."""
        try:
            return int(self.properties.get("dfs.replication", 3))
        except ValueError:
            return 3


def build_config(
    *,
    namenode: str | None,
    webhdfs_url: str | None,
    backend: str | None,
    conf_dir: str | None,
    user: str | None,
    timeout: object,
    ca_cert: str | None,
    retries: object,
    retry_backoff: object,
    ticket_cache: str | None = None,
    token_file: str | None = None,
) -> ClusterConfig:
    """The ClusterConfig of resolved values (see `settings.resolve`, which fills them in from
    explicit arguments, then the environment, then the local default cluster's conf dir).

    `backend` None: hdfs-native, or webhdfs when only a WebHDFS address is known.
    `webhdfs_url` may be http(s)://host:port or Hadoop's webhdfs:// / swebhdfs:// form;
    `ca_cert` (or hopsfs.webhdfs.ca in the XML) is the PEM CA bundle HTTPS servers are verified
    against, instead of the system's.
    """
    webhdfs_url = _http_url(webhdfs_url)
    conf_path = _conf_dir(conf_dir)
    props = _site_properties(conf_path) if conf_path else {}
    where = f" (HADOOP_CONF_DIR={conf_path})" if conf_path else ""
    namenode = _namenode_uri(namenode or props.get("fs.defaultFS"), where)
    if namenode:
        webhdfs_url = (
            webhdfs_url
            or next(iter(namenode_http_urls(props, namenode)), None)
            or _http_url(namenode)
        )
    elif webhdfs_url:  # WebHDFS only (e.g. through a gateway): Hadoop's own URI scheme for it
        namenode = _webhdfs_as_namenode(webhdfs_url)
    else:
        raise ValueError(f"No HDFS cluster configured{where}: {_NO_CLUSTER_HINT}")
    return ClusterConfig(
        namenode_uri=namenode,
        webhdfs_url=webhdfs_url.rstrip("/") if webhdfs_url else None,
        backend=_backend(backend or _default_backend(namenode)),
        conf_dir=str(conf_path) if conf_path else None,
        user=user,
        properties=props,
        timeout=_timeout(timeout),
        ca_cert=_ca_cert(ca_cert or props.get(CA_PROPERTY)),
        retries=_retries(retries),
        retry_backoff=_retry_backoff(retry_backoff),
        ticket_cache=ticket_cache,
        token_file=_existing(token_file, "token file", "HADOOP_TOKEN_FILE_LOCATION / token_file="),
    )


def parse_umask(value: str) -> int:
    """A umask from Hadoop's octal ("022", "0027") or symbolic ("u=rwx,g=r-x,o=") notation.

    The symbolic form lists what stays allowed, as in Hadoop; classes it leaves out keep all bits.
    """
    text = value.strip()
    if re.fullmatch(r"[0-7]{1,4}", text):
        return int(text, 8) & 0o777
    allowed = 0o777
    for clause in text.split(","):
        match = re.fullmatch(r"\s*([ugoa]+)=([rwx-]*)\s*", clause)
        if not match:
            raise ValueError(
                f"{UMASK_KEY}={value!r} is neither octal (022) nor symbolic (u=rwx,g=r-x,o=): fix "
                "it in core-site.xml"
            )
        bits = sum(b for c, b in (("r", 4), ("w", 2), ("x", 1)) if c in match.group(2))
        for who in match.group(1).replace("a", "ugo"):
            shift = {"u": 6, "g": 3, "o": 0}[who]
            allowed = allowed & ~(0o7 << shift) | bits << shift
    return ~allowed & 0o777


def _conf_dir(given: str | None) -> Path | None:
    """The Hadoop conf dir to read, which must exist."""
    if not given:
        return None
    path = Path(given).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"Hadoop conf dir {path} does not exist: fix HADOOP_CONF_DIR / conf_dir "
            "(it must hold core-site.xml and hdfs-site.xml)"
        )
    return path


def _site_properties(conf_dir: Path) -> dict[str, str]:
    """core-site.xml then hdfs-site.xml (later wins, as in Hadoop)."""
    props: dict[str, str] = {}
    for name in ("core-site.xml", "hdfs-site.xml"):
        if (conf_dir / name).is_file():
            try:
                props.update(read_site_xml(conf_dir / name))
            except ET.ParseError as e:
                raise ValueError(f"{conf_dir / name} is not valid XML ({e}): fix it") from e
    return props


def _namenode_uri(value: str | None, where: str) -> str | None:
    """Normalise a namenode address to "hdfs://authority"; None for none or the local FS."""
    if not value or value.startswith("file:"):
        return None
    if "://" not in value:
        value = "hdfs://" + value
    parts = urlsplit(value)
    try:
        valid = parts.scheme in ("hdfs", "viewfs", "webhdfs", "swebhdfs") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        valid = False
    if not valid or not _HOST.fullmatch(parts.hostname or ""):
        raise ValueError(
            f"Namenode URI {value!r}{where} is not hdfs://host:port, hdfs://nameservice or "
            "viewfs://mounttable: fix fs.defaultFS / HOPSFS_NAMENODE_URI / namenode="
        )
    return f"{parts.scheme}://{parts.netloc}"


def viewfs_mounts(props: Mapping[str, str], uri: str) -> dict[str, str]:
    """The mount table of viewfs://`name`: mount point -> target URI ("/" for linkFallback)."""
    prefix = f"fs.viewfs.mounttable.{urlsplit(uri).hostname or 'default'}."
    mounts = {
        key.removeprefix(prefix + "link.").rstrip("/") or "/": target
        for key, target in props.items()
        if key.startswith(prefix + "link.")
    }
    if props.get(prefix + "linkFallback"):
        mounts["/"] = props[prefix + "linkFallback"]
    return mounts


def namenode_addresses(props: Mapping[str, str], uri: str) -> list[tuple[str, int]]:
    """The RPC (host, port) of every NameNode behind `uri`: hdfs://host:port, each NameNode of
    an HA or federated nameservice, every target of a viewfs:// mount table."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme == "viewfs":
        targets = viewfs_mounts(props, uri).values()
        return list(dict.fromkeys(a for t in targets for a in namenode_addresses(props, t)))
    if parts.port:
        return [(host, parts.port)]
    found = [_host_port(a) for a in _nameservice_addresses(props, host, "rpc-address")]
    return found or [(host, _HADOOP_RPC_PORT)]


def namenode_http_urls(props: Mapping[str, str], namenode_uri: str) -> list[str]:
    """The HTTP(S) base URL of each NameNode of an hdfs:// URI from hdfs-site.xml (every
    NameNode of an HA nameservice, in configuration order; for hdfs://host:port the NameNode
    with that RPC address); [] when not configured and for viewfs:// (one per mount target)."""
    https = props.get("dfs.http.policy", "HTTP_ONLY").upper() == "HTTPS_ONLY"
    key = "https-address" if https else "http-address"
    parts = urlsplit(namenode_uri)
    host = parts.hostname or ""
    if parts.scheme == "viewfs":
        return []
    if parts.port:  # a NameNode of a federation or HA nameservice, by its rpc-address
        rpc = "dfs.namenode.rpc-address."
        ids = [
            k.removeprefix(rpc) for k, v in props.items() if k.startswith(rpc) and v == parts.netloc
        ]
        addresses = [a for i in ids for a in _configured(props, f"{key}.{i}")]
    else:
        addresses = _nameservice_addresses(props, host, key)
    urls = []
    for address in addresses or _configured(props, key):
        address_host, port = _host_port(address, _HADOOP_HTTP_PORT)
        if address_host in ("0.0.0.0", "", "[::]"):  # bind-all: reach it via the namenode host
            address_host = host
        urls.append(f"{'https' if https else 'http'}://{address_host}:{port}")
    return urls


def _nameservice_addresses(props: Mapping[str, str], nameservice: str, key: str) -> list[str]:
    """dfs.namenode.`key` of each NameNode of `nameservice` (HA: dfs.ha.namenodes.*)."""
    nns = [n.strip() for n in props.get(f"dfs.ha.namenodes.{nameservice}", "").split(",")]
    keys = [f"{key}.{nameservice}.{n}" for n in nns if n] or [f"{key}.{nameservice}"]
    return [a for k in keys for a in _configured(props, k)]


def _configured(props: Mapping[str, str], key: str) -> list[str]:
    """[dfs.namenode.`key`] when set, else []."""
    value = props.get(f"dfs.namenode.{key}")
    return [value] if value else []


def _host_port(address: str, default_port: int = 0) -> tuple[str, int]:
    """("host", port) of "host:port" (`default_port` without one)."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return host, int(port) if port else default_port


def _http_url(url: str | None) -> str | None:
    """http(s):// for Hadoop's webhdfs:// (swebhdfs://) URIs; None for hdfs://, viewfs://, None."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    http = {"webhdfs": "http", "swebhdfs": "https", "http": "http", "https": "https"}
    if sep and scheme.lower() in http:
        return f"{http[scheme.lower()]}://{rest}"
    return None if sep and scheme.lower() in ("hdfs", "viewfs") else url


def _ca_cert(path: str | None) -> str | None:
    """The CA bundle file, which must exist (a typo must not fall back to the system's trust)."""
    return _existing(path, "CA certificate file", f"ca_cert= / HOPSFS_CA_CERT / {CA_PROPERTY}")


def _existing(path: str | None, what: str, setting: str) -> str | None:
    """The file `path`, which must exist (FileNotFoundError naming the `setting` to fix)."""
    if not path:
        return None
    found = Path(path).expanduser()
    if not found.is_file():
        raise FileNotFoundError(f"{what} {found} does not exist: fix {setting}")
    return str(found)


def _webhdfs_as_namenode(webhdfs_url: str) -> str:
    """Hadoop's webhdfs:// (or swebhdfs://) URI for a WebHDFS-only cluster."""
    parts = urlsplit(webhdfs_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"WebHDFS URL {webhdfs_url!r} is not http(s)://host:port: fix HOPSFS_WEBHDFS_URL"
        )
    return f"{'swebhdfs' if parts.scheme == 'https' else 'webhdfs'}://{parts.netloc}"


def _default_backend(namenode: str) -> str:
    """hdfs-native, or WebHDFS for a cluster known only by its WebHDFS address (no RPC one)."""
    return "webhdfs" if namenode.startswith(("webhdfs://", "swebhdfs://")) else "native"


def _backend(name: str) -> str:
    """A validated backend name."""
    if name.lower() not in BACKENDS:
        raise ValueError(
            f"Unknown backend {name!r}: use one of {', '.join(BACKENDS)} (HOPSFS_BACKEND)"
        )
    return name.lower()


def _timeout(value: object) -> float:
    """The given timeout, else the default; must be a positive number of seconds."""
    raw: object = value if value is not None else DEFAULT_TIMEOUT
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(
            f"Timeout {raw!r} is not a positive number of seconds: fix HOPSFS_TIMEOUT / timeout="
        )
    return seconds


def _retries(value: object) -> int:
    """The given retry count, else the default; a whole number >= 0."""
    raw: object = value if value is not None else DEFAULT_RETRIES
    try:
        count = int(str(raw))
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(
            f"Retries {raw!r} is not a whole number >= 0: fix HOPSFS_RETRIES / retries="
        )
    return count


def _retry_backoff(value: object) -> float:
    """The given first retry delay, else the default; a number of seconds >= 0."""
    raw: object = value if value is not None else DEFAULT_RETRY_BACKOFF
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:
        raise ValueError(
            f"Retry backoff {raw!r} is not a number of seconds >= 0: "
            "fix HOPSFS_RETRY_BACKOFF / retry_backoff="
        )
    return seconds
