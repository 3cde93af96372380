"""`hopsfs-tools token ...`: HDFS delegation tokens for processes without a Kerberos ticket."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from hopsfs_tools.cli.base import FsCommand
from hopsfs_tools.fs.delegation import VIA, fetch_token
from hopsfs_tools.hadoop import tokens


@click.group()
def token() -> None:
    """Delegation tokens: fetch one with your ticket, hand the file to a process without one."""


@token.command(cls=FsCommand)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--via",
    type=click.Choice(VIA),
    default="webhdfs",
    show_default=True,
    help="WebHDFS GETDELEGATIONTOKEN (no JVM), or Hadoop's Java DelegationTokenFetcher.",
)
@click.option("--renewer", default=None, help="The user allowed to renew it (default: you).")
def fetch(file: Path, via: str, renewer: str | None) -> None:
    """Fetch an HDFS delegation token into FILE (a Hadoop token file, as `hdfs fetchdt`)."""
    written = fetch_token(file, via=via, renewer=renewer)
    info = tokens.hdfs_token(written).describe()
    click.echo(
        f"{info['kind']} for {info['service']}, owner {info['owner']}, valid until "
        f"{info['max_date']}, in {written}"
    )
    click.echo(f"  export {tokens.VARIABLE}={shlex.quote(str(written))}   # where no ticket is")


@token.command(cls=FsCommand)
@click.argument("file", type=click.Path(exists=True, path_type=Path, dir_okay=False))
def show(file: Path) -> None:
    """Print the tokens in a Hadoop token file (kind, service, owner, expiry) as JSON lines."""
    for found in tokens.read_token_file(file):
        try:
            described = found.describe()
        except ValueError:  # not a delegation token's identifier (e.g. a YARN AMRM token)
            described = {}
        click.echo(json.dumps({"kind": found.kind, "service": found.service, **described}))
