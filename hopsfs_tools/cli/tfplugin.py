"""`hopsfs-tools tf-plugin`: build (or show) the TensorFlow filesystem plugin for hdfs:// paths."""

from __future__ import annotations

import click


@click.command("tf-plugin")
@click.option("--rebuild", is_flag=True, help="Recompile the plugin even if a build is cached.")
def tf_plugin(rebuild: bool) -> None:
    """Compile TF's hdfs://, viewfs://, hopsfs:// filesystem plugin for the installed TensorFlow."""
    try:
        from hopsfs_tools.tensorflow.plugin import SCHEMES, build
    except ImportError as exc:
        raise click.ClickException(
            f"the TensorFlow plugin needs TensorFlow ({exc}): pip install 'hopsfs-tools[tf]'"
        ) from None
    try:
        path = build(rebuild=rebuild)
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path}\nschemes: {', '.join(f'{s}://' for s in SCHEMES)}")
