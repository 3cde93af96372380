"""Where HopsFileSystem / HopsFile were defined before the fs split; kept so that existing
`from hopsfs_tools.fs.core import ...` imports (hdfs, tensorflow, cli) keep working. New code
imports from `hopsfs_tools.fs`."""

from hopsfs_tools.fs.commit import TEMP_MARKER
from hopsfs_tools.fs.file import HopsFile
from hopsfs_tools.fs.filesystem import HopsFileSystem

__all__ = ["TEMP_MARKER", "HopsFile", "HopsFileSystem"]
