"""Moved to `hopsfs_tools.hopsworks.admin`; kept for modules of other branches (demo.py)."""

from hopsfs_tools.hopsworks.admin import DATASETS, create_project  # noqa: F401
