"""Jupyter on HDFS: a contents manager and checkpoints serving a project's notebooks from HDFS.

Needs the `jupyter` extra (jupyter_server, JupyterLab); `import hopsfs_tools` never imports this.
"""

from hopsfs_tools.jupyter.checkpoints import HopsCheckpoints
from hopsfs_tools.jupyter.contents import HopsContentsManager

__all__ = ["HopsCheckpoints", "HopsContentsManager"]
