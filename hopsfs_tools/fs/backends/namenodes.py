"""Which NameNode a WebHDFS request goes to: every NameNode of an HA nameservice, the active first.

WebHDFS has no client-side failover of its own: a standby NameNode answers 403 StandbyException
and a dead one does not answer. `NameNodes.request` moves on to the next NameNode then, and the one
that answered becomes the first to ask next time (as the Java client's failover proxy does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from hopsfs_tools.fs.errors import CertificateVerificationError

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig

API = "/webhdfs/v1"
STANDBY = "StandbyException"


class NameNodes:
    """The WebHDFS base URLs of a cluster's NameNodes, the one that last answered as active first."""

    def __init__(self, config: ClusterConfig) -> None:
        urls = config.webhdfs_urls  # viewfs:// has none: backends/viewfs.py routes it
        if not urls:
            raise ValueError(
                f"No WebHDFS URL for {config.namenode_uri}: pass webhdfs_url='http://host:port', "
                "set HOPSFS_WEBHDFS_URL, or dfs.namenode.http-address in hdfs-site.xml"
            )
        # "http://nn:9870" or a gateway's ".../gateway/x"
        self.urls = [url.removesuffix(API) for url in urls]
        self._lock = threading.Lock()

    def request(self, send: Callable[[str], requests.Response]) -> requests.Response:
        """send(base URL) to each NameNode in turn, from the last active one, until one answers
        as other than standby; ConnectionError naming each when none is up and active."""
        with self._lock:
            urls = list(self.urls)
        problems: list[str] = []
        for url in urls:
            try:
                resp = send(url)
            except CertificateVerificationError:
                raise
            except ConnectionError as e:
                if len(urls) == 1:
                    raise
                problems.append(f"{url}: {e}")
                continue
            if not _standby(resp):
                if url != urls[0]:
                    with self._lock:
                        self.urls = [url, *(u for u in self.urls if u != url)]
                return resp
            problems.append(f"{url}: standby")
        raise ConnectionError(
            "no active NameNode answered WebHDFS (a failover may be in progress; the call is safe "
            "to retry): " + "; ".join(problems)
        )


def _standby(resp: requests.Response) -> bool:
    """Whether `resp` is a standby NameNode's refusal (403 RemoteException StandbyException)."""
    if resp.status_code != 403:
        return False
    try:
        return resp.json()["RemoteException"]["exception"] == STANDBY
    except (ValueError, KeyError, TypeError):
        return False
