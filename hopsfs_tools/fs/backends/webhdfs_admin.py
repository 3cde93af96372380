"""The WebHDFS calls about what the NameNode administers (a mixin of WebHdfsBackend): its
server defaults (GETSERVERDEFAULTS), whole ACLs (GETACLSTATUS, SETACL, REMOVEACL,
REMOVEDEFAULTACL) and snapshots (ALLOWSNAPSHOT, CREATESNAPSHOT, DELETESNAPSHOT,
GETSNAPSHOTLIST and GETSNAPSHOTDIFF; Hadoop >= 3.3)."""

from __future__ import annotations

from typing import Any

from hopsfs_tools.fs.backends.base import (
    AclStatus,
    ServerDefaults,
    Snapshot,
    SnapshotChange,
    norm_path,
)


class AdminCalls:
    """Server defaults and snapshot operations over the backend's `_call(method, path, op, **params)`; mixed in
    before BackendBase (whose versions delegate to a WebHDFS fallback)."""

    _call: Any

    def server_defaults(self) -> ServerDefaults:
        """GETSERVERDEFAULTS: the NameNode's FsServerDefaults."""
        defaults = self._call("GET", "/", "GETSERVERDEFAULTS")["FsServerDefaults"]
        return ServerDefaults(
            trash_interval=int(defaults.get("trashInterval", 0)),
            blocksize=int(defaults["blockSize"]),
            replication=int(defaults["replication"]),
        )

    def acl_status(self, path: str) -> AclStatus:
        status = self._call("GET", norm_path(path), "GETACLSTATUS")["AclStatus"]
        return AclStatus(
            owner=status["owner"],
            group=status["group"],
            permission=int(status.get("permission", "0"), 8),
            entries=list(status["entries"]),
        )

    def set_acl(self, path: str, spec: list[str]) -> None:
        self._call("PUT", norm_path(path), "SETACL", aclspec=",".join(spec))

    def remove_acl(self, path: str) -> None:
        self._call("PUT", norm_path(path), "REMOVEACL")

    def remove_default_acl(self, path: str) -> None:
        self._call("PUT", norm_path(path), "REMOVEDEFAULTACL")

    def allow_snapshot(self, path: str) -> None:
        self._call("PUT", norm_path(path), "ALLOWSNAPSHOT")

    def create_snapshot(self, path: str, name: str | None = None) -> str:
        params = {"snapshotname": name} if name else {}
        return str(self._call("PUT", norm_path(path), "CREATESNAPSHOT", **params)["Path"])

    def delete_snapshot(self, path: str, name: str) -> None:
        self._call("DELETE", norm_path(path), "DELETESNAPSHOT", snapshotname=name)

    def snapshots(self, path: str) -> list[Snapshot]:
        """GETSNAPSHOTLIST (Hadoop >= 3.3), oldest first."""
        listed = self._call("GET", norm_path(path), "GETSNAPSHOTLIST")["SnapshotList"]
        return [
            Snapshot(
                name=s["dirStatus"]["pathSuffix"],
                path=s["fullPath"],
                mtime=s["dirStatus"]["modificationTime"] / 1000,
            )
            for s in sorted(listed, key=lambda s: s["snapshotID"])
        ]

    def snapshot_diff(self, path: str, old: str, new: str = "") -> list[SnapshotChange]:
        report = self._call(
            "GET", norm_path(path), "GETSNAPSHOTDIFF", oldsnapshotname=old, snapshotname=new
        )["SnapshotDiffReport"]
        return [
            SnapshotChange(type=d["type"], path=d["sourcePath"], target=d.get("targetPath"))
            for d in report["diffList"]
        ]


__all__ = ["AdminCalls"]
