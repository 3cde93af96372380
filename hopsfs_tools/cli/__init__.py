"""The `hopsfs-tools` command."""

from hopsfs_tools.cli.main import main

__all__ = ["main"]
