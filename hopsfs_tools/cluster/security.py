"""Wire protection of a local cluster past authentication: RPC privacy and encrypted data transfer.

`hadoop.rpc.protection` is the SASL quality of protection of every RPC connection (NameNode,
DataNode IPC): `authentication` (Hadoop's default), `integrity` (signed) or `privacy` (signed and
encrypted). It needs a SASL layer, which only Kerberos (or token) authentication has.
`dfs.encrypt.data.transfer` encrypts the blocks between clients and DataNodes with keys the
NameNode hands out; it needs block access tokens (`dfs.block.access.token.enable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RPC_PROTECTIONS = ("authentication", "integrity", "privacy")


@dataclass(frozen=True)
class WireSecurity:
    """How a local cluster protects its wires: the RPC's SASL QOP and data transfer encryption."""

    rpc_protection: str = "authentication"
    # True: Hadoop's default cipher (3DES, in the SASL layer); or cipher suites for
    # dfs.encrypt.data.transfer.cipher.suites, e.g. "AES/CTR/NoPadding" (AES after SASL)
    encrypt_data_transfer: bool | str = False

    def check(self, kerberos: bool) -> WireSecurity:
        """This, validated for a cluster with (or without) Kerberos; ValueError saying what to fix."""
        if self.rpc_protection not in RPC_PROTECTIONS:
            raise ValueError(
                f"rpc_protection={self.rpc_protection!r} (hadoop.rpc.protection): use one of "
                f"{', '.join(RPC_PROTECTIONS)}"
            )
        if self.rpc_protection != "authentication" and not kerberos:
            raise ValueError(
                f"rpc_protection={self.rpc_protection!r} (hadoop.rpc.protection) needs a Kerberos "
                "cluster (kerberos=Kdc(...)): without Kerberos the RPC has no SASL layer to protect"
            )
        return self

    def properties(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The core-site and hdfs-site properties that turn this protection on."""
        core_site: dict[str, Any] = {"hadoop.rpc.protection": self.rpc_protection}
        hdfs_site: dict[str, Any] = {}
        if self.encrypt_data_transfer:
            hdfs_site = {
                "dfs.encrypt.data.transfer": "true",
                # the NameNode derives the data encryption keys from the block key
                "dfs.block.access.token.enable": "true",
            }
        if isinstance(self.encrypt_data_transfer, str):
            hdfs_site["dfs.encrypt.data.transfer.cipher.suites"] = self.encrypt_data_transfer
        return core_site, hdfs_site
