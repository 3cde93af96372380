"""Fetch an HDFS delegation token for processes without a Kerberos ticket (YARN containers,
Spark executors): `fetch_token(file)` here, then HADOOP_TOKEN_FILE_LOCATION=file there."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hopsfs_tools.config import settings
from hopsfs_tools.fs.backends.webhdfs import WebHdfsBackend
from hopsfs_tools.hadoop import tokens

VIA = ("webhdfs", "java")


def fetch_token(
    path: str | os.PathLike,
    *,
    via: str = "webhdfs",
    renewer: str | None = None,
    **storage_options: Any,
) -> Path:
    """Fetch an HDFS delegation token with this process's Kerberos ticket and write it to the
    Hadoop token file `path` (mode 0600); `via`: "webhdfs" (GETDELEGATIONTOKEN with SPNEGO, no
    JVM) or "java" (Hadoop's DelegationTokenFetcher, as `hdfs fetchdt`). `storage_options` pick
    the cluster as for HopsFileSystem (default: the environment's)."""
    if via not in VIA:
        raise ValueError(f"via={via!r}: use one of {', '.join(VIA)}")
    # authenticate with the ticket, whatever HADOOP_TOKEN_FILE_LOCATION says
    config = settings.resolve(**{**storage_options, "token_file": ""}).cluster
    if not config.kerberos:
        raise ValueError(
            f"the cluster {config.namenode_uri} does not use Kerberos (hadoop.security."
            "authentication is not kerberos): it issues no delegation tokens; processes act as "
            "HADOOP_USER_NAME instead"
        )
    if via == "java":
        if not config.conf_dir:
            raise ValueError("via='java' reads the cluster from HADOOP_CONF_DIR: set it")
        return tokens.fetch_with_java(path, config.conf_dir, renewer)
    backend = WebHdfsBackend(config)
    try:
        token = tokens.Token.from_url_string(backend.delegation_token(renewer))
    finally:
        backend.close()
    # WebHDFS issues it as kind "(S)WEBHDFS delegation"; RPC clients look for the HDFS kind
    # under the NameNode's service name (Java: ip:port; hdfs-native: host:port as configured).
    return tokens.write_token_file(
        path,
        [
            dataclasses.replace(token, kind=tokens.HDFS_KIND, service=service, alias=service)
            for service in rpc_services(config.namenode_uri)
        ],
    )


def rpc_services(namenode_uri: str) -> list[str]:
    """The token service names RPC clients select a NameNode's token by: "ha-hdfs:ns" for an HA
    nameservice, else "host:port" and, if the host is a name, "ip:port"."""
    parts = urlsplit(namenode_uri)
    host = parts.hostname or ""
    if not parts.port:
        return [f"ha-hdfs:{host}"]
    services = [f"{host}:{parts.port}"]
    try:
        address = socket.gethostbyname(host)
    except OSError:
        address = host
    if address != host:
        services.append(f"{address}:{parts.port}")
    return services
