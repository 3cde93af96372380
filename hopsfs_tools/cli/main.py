"""Entry point: `hopsfs-tools <group> <command>`; user errors print one line and exit non-zero."""

from __future__ import annotations

import logging

import click

from hopsfs_tools import __version__
from hopsfs_tools.cli.acl import ACL_COMMANDS
from hopsfs_tools.cli.cluster import cluster
from hopsfs_tools.cli.demo import demo
from hopsfs_tools.cli.env import env_command
from hopsfs_tools.cli.files import FILE_COMMANDS
from hopsfs_tools.cli.jupyter import jupyter
from hopsfs_tools.cli.libhdfs import libhdfs
from hopsfs_tools.cli.project import project
from hopsfs_tools.cli.safety import SAFETY_COMMANDS
from hopsfs_tools.cli.tfplugin import tf_plugin
from hopsfs_tools.cli.token import token


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hopsfs-tools")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (INFO level) to stderr.")
def main(verbose: bool) -> None:
    """Use HDFS / HopsFS like a local disk, and run a real local HDFS cluster."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(cluster)
main.add_command(demo)
main.add_command(env_command)
main.add_command(jupyter)
main.add_command(libhdfs)
main.add_command(project)
main.add_command(tf_plugin)
main.add_command(token)
for _command in FILE_COMMANDS + SAFETY_COMMANDS + ACL_COMMANDS:
    main.add_command(_command)
