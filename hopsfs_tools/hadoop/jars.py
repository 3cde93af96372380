"""Resolve the Apache Hadoop jars (daemons and client) with Maven into a reusable cache.

No tarball and no Docker: `mvn dependency:copy-dependencies` over the bundled pom.xml
copies hadoop-hdfs (+ its `tests` jar, which holds the NameNode web apps),
hadoop-common and hadoop-hdfs-client with their runtime dependencies.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from hopsfs_tools.config import cache_dir, settings

log = logging.getLogger(__name__)

HADOOP_VERSION = "3.5.0"


def jars_dir(version: str = HADOOP_VERSION) -> Path:
    return cache_dir() / f"hadoop-{version}" / "jars"


def jars_ready(version: str = HADOOP_VERSION) -> bool:
    """Whether Maven has resolved the jars of `version` into the cache already."""
    return (jars_dir(version) / ".complete").exists()


def hadoop_jars(version: str = HADOOP_VERSION, *, resolve: bool = True) -> Path:
    """The directory holding the Hadoop jars, resolving them with Maven on first use."""
    target = jars_dir(version)
    if jars_ready(version):
        return target
    if not resolve:
        raise FileNotFoundError(
            f"Hadoop {version} jars are not in {target}; run `hopsfs-tools cluster up` "
            "(or call hopsfs_tools.hadoop.hadoop_jars()) to resolve them with Maven"
        )
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(
            "Maven (`mvn`) is not on PATH; it is needed once to download the Hadoop jars "
            "from Maven Central. Install it (e.g. `apt-get install maven`)."
        )
    partial = target.with_name("jars.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    pom = resources.files("hopsfs_tools.hadoop") / "pom.xml"
    with resources.as_file(pom) as pom_path:
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom_path),
            f"-Dhadoop.version={version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]
        log.info("resolving Hadoop %s jars with Maven into %s", version, target)
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"Maven could not resolve Hadoop {version} jars:\n{tail}")
    (partial / ".complete").write_text(version)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def hadoop_classpath(
    version: str = HADOOP_VERSION, *, conf_dir: str | os.PathLike | None = None
) -> str:
    """A Java CLASSPATH with every Hadoop jar listed (libhdfs does not expand wildcards).

    $HADOOP_HOME wins when set (`hadoop classpath --glob`), else the Maven cache is used.
    """
    parts: list[str] = [str(conf_dir)] if conf_dir else []
    home = settings.java().hadoop_home
    hadoop_bin = Path(home, "bin", "hadoop") if home else None
    if hadoop_bin and hadoop_bin.exists():
        out = subprocess.run(
            [str(hadoop_bin), "classpath", "--glob"], capture_output=True, text=True, check=True
        ).stdout.strip()
        parts.append(out)
    else:
        parts.extend(str(p) for p in sorted(hadoop_jars(version).glob("*.jar")))
    return os.pathsep.join(parts)
