"""`hopsfs-tools jupyter --project P [--user U]`: JupyterLab on the project's notebooks on HDFS."""

from __future__ import annotations

import os

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--project",
    metavar="P",
    default=None,
    help="Project (default: $HOPSFS_PROJECT, else P of $HADOOP_USER_NAME=P__u).",
)
@click.option(
    "--user",
    metavar="U",
    default=None,
    help="Act as P__U (default: u of $HADOOP_USER_NAME=P__u, else the login name).",
)
@click.option(
    "--root",
    metavar="PATH",
    default=None,
    help="HDFS directory to serve, absolute or project-relative (default: Jupyter).",
)
@click.option("--server", is_flag=True, help="Start `jupyter server` (no JupyterLab UI).")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def jupyter(
    project: str | None,
    user: str | None,
    root: str | None,
    server: bool,
    jupyter_args: tuple[str, ...],
) -> None:
    """Start JupyterLab on project P's notebooks, which live on HDFS, acting as P__U.

    The file browser shows /Projects/P/Jupyter (every member sees the same notebooks, under the
    project's permissions); kernels run as P__U with the cluster's environment. Other arguments
    go to `jupyter lab`, e.g. `-- --port 8899 --no-browser`. Needs the `jupyter` extra.
    """
    try:
        from hopsfs_tools.jupyter.app import lab_launch
        from hopsfs_tools.jupyter.hops import one_line
    except ImportError as e:
        raise click.ClickException(
            f"{e}: install the jupyter extra (pip install 'hopsfs-tools[jupyter]')"
        ) from None
    try:
        launch = lab_launch(
            project, user, root, jupyter_args, app="jupyter_server" if server else "jupyterlab"
        )
    except OSError as e:
        raise click.ClickException(one_line(e)) from None
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Serving hdfs:{launch.root} as {launch.project.user}", err=True)
    os.execve(launch.command[0], launch.command, launch.env)
