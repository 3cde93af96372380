"""Opt-in `hops` package: `from hops import hdfs` (and `hops.tensorboard`) run on hopsfs-tools.

`install_hops()` makes `import hops` give this project's `hdfs` and `tensorboard` modules,
unless a real hops-util-py is importable: then nothing is changed, so a real install is never
shadowed.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import types

log = logging.getLogger(__name__)
MODULES = ("hdfs", "tensorboard")


def install_hops() -> bool:
    """Provide `hops.hdfs` and `hops.tensorboard`; False (and nothing done) when a real `hops`
    package is installed or already imported, True when the shim is in place."""
    current = sys.modules.get("hops")
    if current is not None:
        return bool(getattr(current, "HOPSFS_TOOLS_SHIM", False))
    if importlib.util.find_spec("hops") is not None:
        log.info(
            "a real hops package is installed (%s): not replacing it",
            importlib.util.find_spec("hops").origin,
        )
        return False
    package = types.ModuleType("hops", "hops-util-py's API on hopsfs-tools (hopsfs_tools.compat)")
    package.__path__ = []  # a package: `import hops.hdfs` works
    package.HOPSFS_TOOLS_SHIM = True  # type: ignore[attr-defined]
    for name in MODULES:
        module = importlib.import_module(f"hopsfs_tools.{name}")
        setattr(package, name, module)
        sys.modules[f"hops.{name}"] = module
    sys.modules["hops"] = package
    return True
