"""Whole HDFS ACLs of a path, as `hdfs dfs -getfacl` / `-setfacl` show and change them.

The mode bits and the ACL entries together make the ACL: user:: and other:: are the mode's
owner and other bits; with extended entries the mode's group bits are the mask (mask::) and the
group:: entry is stored in the ACL (Hadoop's AclUtil.getAclFromPermAndEntries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hopsfs_tools.fs.backends.base import AclStatus

if TYPE_CHECKING:
    from hopsfs_tools.fs.client import Client


def _bits(mode: int) -> str:
    return "".join(c if mode & bit else "-" for c, bit in zip("rwx", (4, 2, 1), strict=True))


def acl_text(status: AclStatus) -> list[str]:
    """Every entry of the ACL, base ones included, in getfacl's order (access, then default)."""
    mode = status["permission"]
    access = [e for e in status["entries"] if not e.startswith("default:")]
    default = [e for e in status["entries"] if e.startswith("default:")]
    lines = [f"user::{_bits(mode >> 6)}"]
    if access:
        lines += [*access, f"mask::{_bits(mode >> 3)}"]
    else:
        lines.append(f"group::{_bits(mode >> 3)}")
    return [*lines, f"other::{_bits(mode)}", *default]


class AclOps:
    """HopsFileSystem's whole-ACL methods (a mixin; entry-wise: modify/remove_acl_entries)."""

    client: Client

    def get_acl(self, path: str) -> AclStatus:
        """Owner, group, mode and ACL entries of `path`; `acl_text(...)` lists the whole ACL."""
        return self.client.call("acl_status", self.resolve(path))

    def set_acl(self, path: str, spec: list[str]) -> None:
        """Replace the ACL of `path` ("user::rwx", "group::r-x", "other::---" and any named
        and default entries), as `setfacl --set`."""
        self.client.call("set_acl", self.resolve(path), spec)

    def remove_acl(self, path: str, default_only: bool = False) -> None:
        """Remove every ACL entry of `path` (`default_only`: its default ACL), as setfacl -b/-k."""
        op = "remove_default_acl" if default_only else "remove_acl"
        self.client.call(op, self.resolve(path))


__all__ = ["AclOps", "acl_text"]
