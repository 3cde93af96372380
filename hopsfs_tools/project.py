"""Moved to `hopsfs_tools.hopsworks.project`; kept for the fs layer and modules of other branches."""

from hopsfs_tools.hopsworks.project import (  # noqa: F401
    PROJECTS_ROOT,
    Project,
    current_project,
    resolve,
    split_user,
)
