"""`hopsfs-tools env`: shell exports that let pyarrow's own HadoopFileSystem (and the tools on it)
reach the cluster: `eval "$(hopsfs-tools env)"`."""

from __future__ import annotations

import click

from hopsfs_tools.config import settings
from hopsfs_tools.hadoop.environment import hadoop_environment, shell_exports


@click.command("env")
@click.option(
    "--conf-dir",
    default=None,
    help="The Hadoop conf dir (core-site.xml) to put on CLASSPATH [default: $HADOOP_CONF_DIR].",
)
def env_command(conf_dir: str | None) -> None:
    """Print JAVA_HOME, CLASSPATH, ARROW_LIBHDFS_DIR, LD_LIBRARY_PATH exports for pyarrow's
    HadoopFileSystem and the tools built on it (e.g. PyIceberg's PyArrowFileIO)."""
    conf_dir = conf_dir or settings.java().conf_dir
    if not conf_dir:
        raise click.ClickException(
            "no Hadoop conf dir: set HADOOP_CONF_DIR or pass --conf-dir "
            '(for the local cluster: eval "$(hopsfs-tools cluster env)" first)'
        )
    try:
        click.echo(shell_exports(hadoop_environment(conf_dir)))
    except (RuntimeError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
