"""The local cluster's state file (`cluster.json`): what any process needs to find and control it."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hopsfs_tools.hadoop.jars import HADOOP_VERSION

STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    """The local cluster could not be started, reached or controlled; the message says why."""


@dataclass
class ClusterState:
    """What `cluster.json` holds: enough for any process to find and control the cluster."""

    directory: str
    datanodes: int
    hadoop_version: str = HADOOP_VERSION
    user: str = field(default_factory=getpass.getuser)
    ports: dict[str, dict[str, int]] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    tls: dict[str, Any] | None = None  # TlsMaterial.to_dict() when the HTTP servers are HTTPS-only
    kerberos: dict[str, str] | None = None  # realm, krb5_conf, keytab of a Kerberos cluster
    owner: dict[str, Any] | None = None  # pid, start, watchdog, remove: see cluster/owner.py
    namenodes: dict[str, Any] | None = None  # HA or federation layout: see cluster/ha.py

    @classmethod
    def read(cls, directory: Path) -> ClusterState:
        data = json.loads((directory / STATE_FILE).read_text())
        known = {f.name for f in fields(cls)}  # a newer version's extra fields are not ours
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self) -> None:
        path = Path(self.directory) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        state = {k: v for k, v in asdict(self).items() if v is not None}  # None: the default
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)
