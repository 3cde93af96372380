"""`hopsfs-tools libhdfs`: where libhdfs.so (for the arrow backend) is; builds it if missing."""

from __future__ import annotations

import click

from hopsfs_tools.hadoop.libhdfs import main_libhdfs


@click.command()
@click.option(
    "--rebuild", is_flag=True, help="Rebuild the cached libhdfs.so from pydoop's sources."
)
def libhdfs(rebuild: bool) -> None:
    """Show (and build if missing) the libhdfs.so, JAVA_HOME and CLASSPATH the arrow backend uses."""
    try:
        click.echo(main_libhdfs(rebuild))
    except (RuntimeError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
