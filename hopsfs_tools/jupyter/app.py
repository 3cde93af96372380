"""Start JupyterLab on a project: the contents manager, the cluster's environment and the user
`P__u` for the server and its kernels."""

from __future__ import annotations

import errno
import getpass
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from hopsfs_tools.config import settings
from hopsfs_tools.jupyter.hops import JUPYTER_DATASET, HopsFileSystem, Project, current_project

MANAGER = "hopsfs_tools.jupyter.HopsContentsManager"


@dataclass(frozen=True)
class LabLaunch:
    """What `hopsfs-tools jupyter` runs: the command, its environment and the HDFS root served."""

    project: Project
    root: str  # the HDFS directory JupyterLab's file browser shows
    command: list[str]
    env: dict[str, str]


def lab_launch(
    project: str | None,
    user: str | None,
    root: str | None = None,
    args: Sequence[str] = (),
    app: str = "jupyterlab",
) -> LabLaunch:
    """The JupyterLab command acting as `<project>__<user>` over HDFS directory `root`.

    `project` defaults to $HOPSFS_PROJECT (or P of $HADOOP_USER_NAME=P__u); `user` to u of
    $HADOOP_USER_NAME when that is a user of the project, else the login name. `root` (absolute
    or project-relative) defaults to the project's Jupyter dataset and must be a directory the
    user can read: checked here, so a wrong project fails now rather than in the browser.
    """
    chosen = _project(project, user)
    env = settings.child_environment(
        HADOOP_USER_NAME=chosen.user, HOPSFS_PROJECT=chosen.name, HOPSWORKS_PROJECT_NAME=None
    )
    fs = HopsFileSystem(project=chosen, user=chosen.user, skip_instance_cache=True)
    try:
        hdfs_root = chosen.resolve(root or JUPYTER_DATASET)
        try:
            kind = fs.info(hdfs_root)["type"]  # a PermissionError names the user and the path
        except FileNotFoundError as e:
            raise FileNotFoundError(
                errno.ENOENT,
                f"{hdfs_root} does not exist: check the project name "
                "(`hopsfs-tools project ls`) and --root",
                hdfs_root,
            ) from e
        if kind != "directory":
            raise NotADirectoryError(
                errno.ENOTDIR, f"{hdfs_root} is a file: serve a directory", hdfs_root
            )
        fs.ls(hdfs_root, detail=False)  # the user may reach it but not list it
        config = fs.config  # the cluster found here is the one the server and kernels use
    finally:
        fs.close()
    for key, value in (
        ("HADOOP_CONF_DIR", config.conf_dir),
        ("HOPSFS_NAMENODE_URI", config.namenode_uri),
        ("HOPSFS_WEBHDFS_URL", config.webhdfs_url),
        ("HOPSFS_BACKEND", config.backend),
        ("HOPSFS_CA_CERT", config.ca_cert),
    ):
        if value and not env.get(key):
            env[key] = value
    command = [
        sys.executable,
        "-m",
        app,
        f"--ServerApp.contents_manager_class={MANAGER}",
        f"--HopsContentsManager.root_dir={hdfs_root}",
        *args,
    ]
    return LabLaunch(chosen, hdfs_root, command, env)


def _project(project: str | None, user: str | None) -> Project:
    """The project and its user: explicit, else from the environment."""
    found = current_project(project)
    if found is None:
        raise ValueError(
            "No project given: pass --project P (or set HOPSFS_PROJECT=P or HADOOP_USER_NAME=P__u)"
        )
    if user is None and found.user.startswith(f"{found.name}__"):
        return found  # $HADOOP_USER_NAME is a user of this project
    return Project(found.name, f"{found.name}__{user or getpass.getuser()}")
