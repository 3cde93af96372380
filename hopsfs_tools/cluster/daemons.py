"""What running Hadoop's daemons takes: Java >= 17 and Maven (for the jars), their main classes,
the Java 17 module openings and the log4j setup Hadoop's own launcher gives them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from hopsfs_tools.cluster.siteconf import NAMENODE
from hopsfs_tools.cluster.state import ClusterError
from hopsfs_tools.hadoop.jars import jars_ready

# The module openings Hadoop's build uses to run its daemons and tests on Java 17.
JAVA17_OPENS = [
    f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
    for pkg in (
        "java.io",
        "java.lang",
        "java.lang.reflect",
        "java.math",
        "java.net",
        "java.nio",
        "java.text",
        "java.util",
        "java.util.concurrent",
        "java.util.zip",
        "sun.nio.ch",
        "sun.security.util",
        "sun.security.x509",
    )
]

LOG4J = """\
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
"""

MAIN_CLASS = {
    NAMENODE: "org.apache.hadoop.hdfs.server.namenode.NameNode",
    "datanode": "org.apache.hadoop.hdfs.server.datanode.DataNode",
}


def check_prerequisites() -> None:
    """Raise ClusterError naming exactly what is missing: Java >= 17 and Maven."""
    problems = []
    java = shutil.which("java")
    if java is None:
        problems.append(
            "`java` (Java >= 17) is not on PATH: install a JDK 17, e.g. `apt-get install openjdk-17-jdk-headless`"
        )
    else:
        out = subprocess.run([java, "-version"], check=False, capture_output=True, text=True).stderr
        match = re.search(r'version "(\d+)', out)
        if not match or int(match.group(1)) < 17:
            problems.append(
                f"Java >= 17 is needed to run Hadoop 3.5 daemons; `java -version` says: {out.splitlines()[0] if out else '?'}"
            )
    if shutil.which("mvn") is None and not jars_ready():
        problems.append(
            "Maven (`mvn`) is not on PATH; it downloads the Hadoop jars once: `apt-get install maven`"
        )
    if problems:
        raise ClusterError("cannot start the local HDFS cluster:\n  - " + "\n  - ".join(problems))


def namenode_health(jmx: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """What a NameNode's JMX beans say of its cluster: live/dead DataNodes, safe mode, capacity,
    files and blocks (the `status` keys of every kind of cluster); {} when it does not answer."""
    try:
        fsn, info = jmx("FSNamesystemState"), jmx("NameNodeInfo")
    except (OSError, ClusterError, ValueError):
        return {}
    live = json.loads(info.get("LiveNodes") or "{}")
    dead = json.loads(info.get("DeadNodes") or "{}")
    return {
        "namenode_reachable": True,
        "safemode": bool(info.get("Safemode")),
        "live_datanodes": sorted(v.get("xferaddr", k) for k, v in live.items()),
        "dead_datanodes": sorted(v.get("xferaddr", k) for k, v in dead.items()),
        "num_live_datanodes": fsn["NumLiveDataNodes"],
        "num_dead_datanodes": fsn["NumDeadDataNodes"],
        "capacity_total": fsn["CapacityTotal"],
        "capacity_used": fsn["CapacityUsed"],
        "capacity_remaining": fsn["CapacityRemaining"],
        "files_total": fsn["FilesTotal"],
        "blocks_total": fsn["BlocksTotal"],
    }
