"""The Hadoop configuration (core-site.xml, hdfs-site.xml properties) of a local cluster:
what the NameNode, the DataNodes and clients share, and its Kerberos part."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hopsfs_tools.cluster.launcher import LocalCluster

HOST = "127.0.0.1"
NAMENODE = "namenode"
# Minutes a deleted path stays in its owner's trash (fs.trash.interval), as distributions ship
# it (one day); the NameNode's emptier rolls and expires trash checkpoints at that pace.
DEFAULT_TRASH_INTERVAL = 1440


def base_properties(cluster: LocalCluster) -> tuple[dict[str, Any], dict[str, Any]]:
    """The core-site and hdfs-site properties of every local cluster (before TLS/Kerberos)."""
    nn = cluster.state.ports[NAMENODE]
    core_site = {
        "fs.defaultFS": cluster.namenode_uri,
        "hadoop.tmp.dir": cluster.directory / "tmp",
        "hadoop.security.authentication": "simple",
        # Clients fail fast against a stopped NameNode instead of retrying for minutes.
        "ipc.client.connect.max.retries": 3,
        "ipc.client.connect.retry.interval": 500,
        "ipc.client.connect.timeout": 5000,
        "fs.trash.interval": cluster.trash_interval,
    }
    hdfs_site = {
        "dfs.namenode.name.dir": cluster.directory / "name",
        "dfs.namenode.rpc-address": f"{cluster.address(NAMENODE)}:{nn['rpc']}",
        "dfs.namenode.http-address": f"{cluster.address(NAMENODE)}:{nn['http']}",
        "dfs.replication": min(3, cluster.state.datanodes),
        "dfs.namenode.safemode.extension": 0,
        "dfs.namenode.safemode.min.datanodes": 0,
        "dfs.permissions.enabled": "true",
        "dfs.permissions.superusergroup": "supergroup",
        "dfs.namenode.acls.enabled": "true",
        "dfs.webhdfs.enabled": "true",
        # A killed DataNode is declared dead after 2*recheck + 10*heartbeat = 20 s.
        "dfs.heartbeat.interval": 1,
        "dfs.namenode.heartbeat.recheck-interval": 5000,
        "dfs.namenode.stale.datanode.interval": 5000,
        # As production clusters are configured: a DataNode silent for 5 s is read from
        # last and not chosen for new write pipelines (clients get past a crashed one).
        "dfs.namenode.avoid.read.stale.datanode": "true",
        "dfs.namenode.avoid.write.stale.datanode": "true",
        # Java clients (arrow, Spark): with 3 DataNodes there is often no spare to replace a
        # lost pipeline node; keep writing to the survivors instead of failing the write.
        "dfs.client.block.write.replace-datanode-on-failure.best-effort": "true",
        "dfs.client.use.datanode.hostname": "false",
        "dfs.datanode.hostname": HOST,
        "dfs.namenode.datanode.registration.ip-hostname-check": "false",
        "dfs.blocksize": 128 * 1024 * 1024,
        "dfs.namenode.fs-limits.min-block-size": 1024,
        # File checksums as one CRC32C of the whole content, whatever the block and chunk
        # sizes: comparable with a local file's (fs/checksums.py) and across clusters.
        "dfs.checksum.combine.mode": "COMPOSITE_CRC",
    }
    if cluster.state.namenodes:  # HA or federation: several NameNodes (cluster/ha.py)
        cluster.namenode_properties(core_site, hdfs_site)  # type: ignore[attr-defined]
    return core_site, hdfs_site


def kerberos_core_site(cluster: LocalCluster) -> dict[str, str]:
    """Kerberos authentication and service-level authorization for every daemon and client,
    SPNEGO on the HTTP servers (WebHDFS included)."""
    realm = re.escape(cluster.state.kerberos["realm"])
    return {
        "hadoop.security.authentication": "kerberos",
        "hadoop.security.authorization": "true",
        "hadoop.http.authentication.type": "kerberos",
        "hadoop.http.authentication.kerberos.principal": cluster.principals["http"],
        "hadoop.http.authentication.kerberos.keytab": cluster.state.kerberos["keytab"],
        # JMX metrics stay readable without a ticket: `status()` and readiness read them.
        "hadoop.http.authentication.kerberos.endpoint.whitelist": "/jmx",
        # The services act as the cluster's superuser, as nn/host@R -> hdfs on real clusters.
        "hadoop.security.auth_to_local": "\n".join(
            [
                f"RULE:[2:$1@$0]([nd]n@{realm})s/.*/{cluster.state.user}/",
                f"RULE:[2:$1@$0](HTTP@{realm})s/.*/{cluster.state.user}/",
                "DEFAULT",
            ]
        ),
    }


def kerberos_hdfs_site(cluster: LocalCluster) -> dict[str, str]:
    """Principals, keytabs, block tokens, SASL data transfer protection, SPNEGO for WebHDFS."""
    keytab, principals = cluster.state.kerberos["keytab"], cluster.principals
    return {
        "dfs.namenode.kerberos.principal": principals[NAMENODE],
        "dfs.namenode.keytab.file": keytab,
        "dfs.datanode.kerberos.principal": principals["datanode"],
        "dfs.datanode.keytab.file": keytab,
        "dfs.web.authentication.kerberos.principal": principals["http"],
        "dfs.web.authentication.kerberos.keytab": keytab,
        "dfs.namenode.kerberos.internal.spnego.principal": principals["http"],
        "dfs.block.access.token.enable": "true",
        # Unprivileged DataNode ports are allowed with SASL on data transfer + HTTPS_ONLY.
        "dfs.data.transfer.protection": "authentication",
    }
