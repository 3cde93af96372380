"""Find the cluster: explicit arguments, then environment, then HADOOP_CONF_DIR XML files.

Pure data: nothing here talks to the network; it only reads Hadoop's *-site.xml files.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path


def cache_dir() -> Path:
    """The hopsfs-tools cache root: $HOPSFS_TOOLS_CACHE, else $XDG_CACHE_HOME or ~/.cache."""
    env = os.environ.get("HOPSFS_TOOLS_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hopsfs-tools"


def default_cluster_dir() -> Path:
    """Where `hopsfs-tools cluster up` keeps the embedded local cluster by default."""
    return cache_dir() / "cluster"


def read_site_xml(path: str | os.PathLike) -> dict[str, str]:
    """The name -> value pairs of a Hadoop configuration file (core-site.xml, hdfs-site.xml)."""
    root = ET.parse(path).getroot()
    props: dict[str, str] = {}
    for prop in root.iter("property"):
        name = prop.findtext("name")
        if name:
            props[name.strip()] = (prop.findtext("value") or "").strip()
    return props


def write_site_xml(path: str | os.PathLike, props: Mapping[str, object]) -> None:
    """Write a Hadoop configuration file holding `props` (values are str()-ed)."""
    root = ET.Element("configuration")
    for name, value in props.items():
        prop = ET.SubElement(root, "property")
        ET.SubElement(prop, "name").text = name
        ET.SubElement(prop, "value").text = str(value)
    ET.indent(root)
    Path(path).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    )
