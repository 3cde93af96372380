"""The local cluster's state file (`cluster.json`): what any process needs to find and control it."""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from hopsfs_tools.hadoop.jars import HADOOP_VERSION

STATE_FILE = "cluster.json"
LOCK_FILE = ".cluster.json.lock"  # held while cluster.json is read, changed and replaced


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
        """Replace the file with this state whole (start-up: ports, security, owner, layout)."""
        with _locked(Path(self.directory)):
            self._replace_file()

    def record_pid(self, name: str, pid: int | None) -> None:
        """Record (or with None, forget) daemon `name`'s pid, keeping every other daemon's pid
        as the file has it now: another process (`cluster kill`, a test) may have changed one."""
        with _locked(Path(self.directory)):
            self._reread_pids()
            if pid is None:
                self.pids.pop(name, None)
            else:
                self.pids[name] = pid
            self._replace_file()

    def current_pid(self, name: str) -> int | None:
        """Daemon `name`'s pid as the file has it now (another process may have restarted it)."""
        self._reread_pids()
        return self.pids.get(name)

    def _reread_pids(self) -> None:
        try:
            self.pids = self.read(Path(self.directory)).pids
        except FileNotFoundError:
            pass  # not written yet, or the cluster was just removed: keep what we know

    @property
    def _path(self) -> Path:
        return Path(self.directory) / STATE_FILE

    def _replace_file(self) -> None:
        tmp = self._path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        state = {k: v for k, v in asdict(self).items() if v is not None}  # None: the default
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self._path)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the cluster directory's state lock (an flock: released if the holder dies)."""
    with (directory / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def stored_kind(directory: Path) -> str | None:
    """ "ha" or "federation" when `directory` holds such a cluster (its `namenodes` state)."""
    try:
        layout = json.loads((directory.resolve() / STATE_FILE).read_text()).get("namenodes")
    except (OSError, ValueError, AttributeError):
        return None  # no cluster yet, or its state is being replaced: LocalCluster says so
    return layout.get("kind") if isinstance(layout, dict) else None
