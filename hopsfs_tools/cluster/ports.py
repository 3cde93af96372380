"""Free local ports for the daemons the local cluster starts (NameNode, DataNodes, KDC)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now (the KDC also takes it for UDP)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


__all__ = ["free_port"]
