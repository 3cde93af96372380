"""The HDFS user of clients that take it only from the process environment: one home.

hdfs-native reads HADOOP_USER_NAME whenever it (re)connects to a NameNode, so while a native
client is live the variable must name its user: `bind_native` sets it (shadowed, see
`config.settings`: the resolver keeps reading the user's own value, so a later filesystem without
an explicit user is never silently someone else) and refuses a second user, and `release_native`
restores the user's value when the last native client of the process closes. Spark's JVM reads
HADOOP_USER_NAME once, when it starts: `bind_spark` exports it for the JVM to inherit.
"""

from __future__ import annotations

import getpass
import logging
import threading

from hopsfs_tools.config import settings

log = logging.getLogger(__name__)

VARIABLE = "HADOOP_USER_NAME"
_live: dict[str, int] = {}  # user -> live native clients acting as that user
_lock = threading.Lock()


def bind_native(user: str | None) -> str:
    """Make hdfs-native act as `user` (None: the login name) until `release_native(user)`;
    the effective user. ValueError while a native client of this process is another user,
    unless the user's own HADOOP_USER_NAME names `user` (they switched the process's user)."""
    effective = user or getpass.getuser()
    with _lock:
        others = sorted(u for u in _live if u != effective)
        if others and settings.env(VARIABLE) != effective:  # else the user switched it themselves
            raise ValueError(
                f"HDFS user {effective!r} requested, but this process already talks to HDFS as "
                f"{others[0]!r} through hdfs-native, which takes its user from HADOOP_USER_NAME "
                "process-wide: use backend='webhdfs' (or 'arrow') for a second user, close() the "
                "other filesystem first, or use a separate process"
            )
        if effective not in _live:
            settings.set_shadowed(VARIABLE, effective)
        _live[effective] = _live.get(effective, 0) + 1
    return effective


def release_native(user: str) -> None:
    """Forget one live native client of `user`; the last one restores the user's HADOOP_USER_NAME."""
    with _lock:
        left = _live.get(user, 0) - 1
        if left > 0:
            _live[user] = left
            return
        _live.pop(user, None)
        if not _live:
            settings.unshadow(VARIABLE)


def bind_spark(user: str) -> None:
    """Export HADOOP_USER_NAME=`user` for the Spark JVM this process starts next (it reads the
    variable once, at start)."""
    with _lock:
        live = sorted(u for u in _live if u != user)
        current = settings.env(VARIABLE)
        if current != user:
            log.warning("setting HADOOP_USER_NAME=%s (was %s) for Spark", user, current)
            if live:
                log.warning(
                    "hdfs-native clients of this process act as %s and take HADOOP_USER_NAME when "
                    "they reconnect: close() them, or use backend='webhdfs' beside Spark",
                    live[0],
                )
            settings.export(VARIABLE, user)


__all__ = ["bind_native", "bind_spark", "release_native"]


def ticket_cache_file(name: str | None) -> str | None:
    """The Kerberos ticket cache file a KRB5CCNAME value names, for Java's login (None: Java's
    default cache; only FILE: caches are files)."""
    name = name or ""
    if name.startswith("FILE:") or (name and ":" not in name):
        return name.removeprefix("FILE:")
    return None
