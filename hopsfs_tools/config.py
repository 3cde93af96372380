"""Find the cluster: explicit arguments, then environment, then HADOOP_CONF_DIR XML files.

Pure data: nothing here talks to the network; it only reads Hadoop's *-site.xml files.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def cache_dir() -> Path:
    """The hopsfs-tools cache root: $HOPSFS_TOOLS_CACHE, else $XDG_CACHE_HOME or ~/.cache."""
    env = os.environ.get("HOPSFS_TOOLS_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hopsfs-tools"


def default_cluster_dir() -> Path:
    """Where `hopsfs-tools cluster up` keeps the embedded local cluster by default."""
    return cache_dir() / "cluster"


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
DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 5  # further attempts of a call that failed on a lost connection
DEFAULT_RETRY_BACKOFF = 0.5  # seconds before the first retry; doubles for each further one
_HADOOP_HTTP_PORT = 9870  # dfs.namenode.http-address default port
_NO_CLUSTER_HINT = (
    "start a local one with `hopsfs-tools cluster up`, or set HADOOP_CONF_DIR to a directory "
    "holding core-site.xml (fs.defaultFS), or set HOPSFS_NAMENODE_URI=hdfs://host:port"
)


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster is and how to talk to it; built by `load_config`."""

    namenode_uri: str  # "hdfs://host:port" or "hdfs://nameservice" (HA)
    webhdfs_url: str | None  # "http://host:port" (or https://)
    backend: str  # "native" | "arrow" | "webhdfs"
    conf_dir: str | None  # HADOOP_CONF_DIR used, if any
    user: str | None  # HADOOP_USER_NAME / explicit user, if any
    properties: dict[str, str] = field(default_factory=dict)  # core-site + hdfs-site merged
    timeout: float = DEFAULT_TIMEOUT  # seconds for connect/RPC before ConnectionError
    retries: int = DEFAULT_RETRIES  # retries of safe calls after a lost connection (0: none)
    retry_backoff: float = DEFAULT_RETRY_BACKOFF  # seconds before the first retry (then doubled)


def load_config(
    *,
    namenode: str | None = None,
    webhdfs_url: str | None = None,
    backend: str | None = None,
    conf_dir: str | None = None,
    user: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    retry_backoff: float | None = None,
) -> ClusterConfig:
    """Find the cluster: explicit args > env > HADOOP_CONF_DIR XML > the local default cluster."""
    namenode = namenode or env("HOPSFS_NAMENODE_URI")
    webhdfs_url = webhdfs_url or env("HOPSFS_WEBHDFS_URL")
    conf_path = _conf_dir(conf_dir or env("HADOOP_CONF_DIR"), namenode or webhdfs_url)
    props = _site_properties(conf_path) if conf_path else {}
    where = f" (HADOOP_CONF_DIR={conf_path})" if conf_path else ""
    namenode = _namenode_uri(namenode or props.get("fs.defaultFS"), where)
    if namenode:
        webhdfs_url = webhdfs_url or _webhdfs_from_properties(props, namenode)
    elif webhdfs_url:  # WebHDFS only (e.g. through a gateway): Hadoop's own URI scheme for it
        namenode = _webhdfs_as_namenode(webhdfs_url)
    else:
        raise ValueError(f"No HDFS cluster configured{where}: {_NO_CLUSTER_HINT}")
    return ClusterConfig(
        namenode_uri=namenode,
        webhdfs_url=webhdfs_url.rstrip("/") if webhdfs_url else None,
        backend=_backend(backend or env("HOPSFS_BACKEND") or "native"),
        conf_dir=str(conf_path) if conf_path else None,
        user=user or env("HADOOP_USER_NAME"),
        properties=props,
        timeout=_timeout(timeout),
        retries=_retries(retries),
        retry_backoff=_retry_backoff(retry_backoff),
    )


def env(name: str) -> str | None:
    """An environment variable, None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def _conf_dir(given: str | None, have_endpoint: str | None) -> Path | None:
    """The Hadoop conf dir to read: the given one (must exist), else the local default cluster's."""
    if given:
        path = Path(given).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"Hadoop conf dir {path} does not exist: fix HADOOP_CONF_DIR / conf_dir "
                "(it must hold core-site.xml and hdfs-site.xml)"
            )
        return path
    default = default_cluster_dir() / "conf"
    return default if not have_endpoint and default.is_dir() else None


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
    if parts.scheme not in ("hdfs", "webhdfs", "swebhdfs") or not parts.netloc:
        raise ValueError(
            f"Namenode URI {value!r}{where} is not hdfs://host:port or hdfs://nameservice: "
            "fix fs.defaultFS / HOPSFS_NAMENODE_URI / namenode="
        )
    return f"{parts.scheme}://{parts.netloc}"


def _webhdfs_from_properties(props: Mapping[str, str], namenode_uri: str) -> str | None:
    """The NameNode's HTTP(S) address from hdfs-site.xml (first NameNode of an HA nameservice)."""
    https = props.get("dfs.http.policy", "HTTP_ONLY").upper() == "HTTPS_ONLY"
    key = "dfs.namenode.https-address" if https else "dfs.namenode.http-address"
    host = urlsplit(namenode_uri).hostname or ""
    nns = [n.strip() for n in props.get(f"dfs.ha.namenodes.{host}", "").split(",") if n.strip()]
    address = props.get(f"{key}.{host}.{nns[0]}") if nns else props.get(key)
    if not address:
        return None
    address_host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    if address_host in ("0.0.0.0", "", "[::]"):  # bind-all address: reach it via the namenode host
        address_host = host
    return f"{'https' if https else 'http'}://{address_host}:{port or _HADOOP_HTTP_PORT}"


def _webhdfs_as_namenode(webhdfs_url: str) -> str:
    """Hadoop's webhdfs:// (or swebhdfs://) URI for a WebHDFS-only cluster."""
    parts = urlsplit(webhdfs_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"WebHDFS URL {webhdfs_url!r} is not http(s)://host:port: fix HOPSFS_WEBHDFS_URL"
        )
    return f"{'swebhdfs' if parts.scheme == 'https' else 'webhdfs'}://{parts.netloc}"


def _backend(name: str) -> str:
    """A validated backend name."""
    if name.lower() not in BACKENDS:
        raise ValueError(
            f"Unknown backend {name!r}: use one of {', '.join(BACKENDS)} (HOPSFS_BACKEND)"
        )
    return name.lower()


def _timeout(value: float | None) -> float:
    """The explicit timeout, else $HOPSFS_TIMEOUT, else the default; must be a positive number."""
    raw: object = value if value is not None else (env("HOPSFS_TIMEOUT") or DEFAULT_TIMEOUT)
    try:
        seconds = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(
            f"Timeout {raw!r} is not a positive number of seconds: fix HOPSFS_TIMEOUT / timeout="
        )
    return seconds


def _retries(value: int | None) -> int:
    """The explicit retry count, else $HOPSFS_RETRIES, else the default; a whole number >= 0."""
    raw: object = value if value is not None else (env("HOPSFS_RETRIES") or DEFAULT_RETRIES)
    try:
        count = int(str(raw))
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(
            f"Retries {raw!r} is not a whole number >= 0: fix HOPSFS_RETRIES / retries="
        )
    return count


def _retry_backoff(value: float | None) -> float:
    """The explicit first retry delay, else $HOPSFS_RETRY_BACKOFF, else the default; >= 0 s."""
    raw: object = (
        value if value is not None else (env("HOPSFS_RETRY_BACKOFF") or DEFAULT_RETRY_BACKOFF)
    )
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
