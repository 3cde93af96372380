"""`hopsfs-tools project create|add-member|share|unshare|ls`: thin commands over
`hopsfs_tools.hopsworks.admin`."""

from __future__ import annotations

import getpass

import click

from hopsfs_tools.cli.base import FsGroup, fs_options
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin


@click.group(cls=FsGroup)
def project() -> None:
    """Hopsworks-style projects: /Projects/P with its datasets, shared through HDFS ACLs.

    create, add-member, share and unshare need the HDFS superuser (the user who started the
    namenode); the HDFS user is $HADOOP_USER_NAME, else the login name.
    """


@project.command()
@click.argument("name")
@click.option(
    "--user",
    "user",
    default=None,
    metavar="U",
    help="Owner's user name: the project user is NAME__U (default: the login name).",
)
@fs_options(project=False)
def create(fs: HopsFileSystem, name: str, user: str | None) -> None:
    """Create /Projects/NAME and its datasets, owned by NAME__U, group NAME, mode 0770 (idempotent)."""
    info = admin.create_project(name, user or getpass.getuser(), fs)
    click.echo(
        f"project {info.name}: {info.path} owned by {info.owner}:{info.group} "
        f"({info.permission:04o}), datasets {', '.join(admin.DATASETS)}"
    )


@project.command("add-member")
@click.argument("name")
@click.argument("user")
@fs_options(project=False)
def add_member(fs: HopsFileSystem, name: str, user: str) -> None:
    """Give NAME__USER read/write access to project NAME (ACL entries on everything in it)."""
    count = admin.add_member(name, user, fs)
    click.echo(f"{name}__{user} can now read and write /Projects/{name} ({count} paths updated)")


@project.command()
@click.argument("name")
@click.argument("dataset")
@click.option(
    "--with",
    "with_project",
    required=True,
    metavar="Q",
    help="The project whose members get access.",
)
@click.option("--read-write", is_flag=True, help="Let them write too (default: read-only).")
@fs_options(project=False)
def share(fs: HopsFileSystem, name: str, dataset: str, with_project: str, read_write: bool) -> None:
    """Let the members of project Q read (or --read-write) dataset DATASET of project NAME.

    DATASET is a directory directly in /Projects/NAME (e.g. Resources); members added to Q later
    get access too.
    """
    shared = admin.share_dataset(name, dataset, with_project, read_only=not read_write, fs=fs)
    access = "read" if shared.read_only else "read and write"
    click.echo(
        f"members of {with_project} ({', '.join(shared.users)}) can now {access} {shared.path}"
    )


@project.command()
@click.argument("name")
@click.argument("dataset")
@click.option(
    "--with",
    "with_project",
    required=True,
    metavar="Q",
    help="The project to take access away from.",
)
@fs_options(project=False)
def unshare(fs: HopsFileSystem, name: str, dataset: str, with_project: str) -> None:
    """Take back access to dataset DATASET of project NAME from the members of project Q."""
    shared = admin.unshare_dataset(name, dataset, with_project, fs)
    click.echo(f"{shared.path} is no longer shared with {with_project} ({', '.join(shared.users)})")


@project.command("ls")
@fs_options(project=False)
def list_(fs: HopsFileSystem) -> None:
    """List projects with owner, group, mode and members."""
    rows = [
        (p.name, p.owner, p.group, f"{p.permission:04o}", ",".join(p.members))
        for p in admin.list_projects(fs)
    ]
    if not rows:
        click.echo("no projects (create one with `hopsfs-tools project create NAME --user U`)")
        return
    rows.insert(0, ("PROJECT", "OWNER", "GROUP", "MODE", "MEMBERS"))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for row in rows:
        click.echo("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[4]]))
