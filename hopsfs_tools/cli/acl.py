"""`hopsfs-tools getfacl|setfacl`: HDFS ACLs as `hdfs dfs -getfacl/-setfacl` show and change
them (aclspec text: "user:bob:r-x", "default:group:team:rwx"; to remove: "user:bob")."""

from __future__ import annotations

import click

from hopsfs_tools.cli.base import FsCommand, fs_options
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.acls import acl_text


def _tree(fs: HopsFileSystem, path: str, recursive: bool) -> dict[str, bool]:
    """{path: is a directory} of `path` and, with `recursive`, everything below it."""
    info = fs.info(path)
    found = {info["name"]: info["type"] == "directory"}
    if recursive and found[info["name"]]:
        for name, child in fs.find(info["name"], withdirs=True, detail=True).items():
            found[name] = child["type"] == "directory"
    return found


@click.command(cls=FsCommand)
@click.argument("paths", nargs=-1, required=True)
@click.option("-R", "recursive", is_flag=True, help="Also everything below each directory.")
@fs_options()
def getfacl(fs: HopsFileSystem, paths: tuple[str, ...], recursive: bool) -> None:
    """Print the owner, group and whole ACL (access, then default entries) of each PATH."""
    for path in paths:
        for name in _tree(fs, path, recursive):
            status = fs.get_acl(name)
            click.echo(f"# file: {name}\n# owner: {status['owner']}\n# group: {status['group']}")
            click.echo("\n".join(acl_text(status)) + "\n")


@click.command(cls=FsCommand)
@click.argument("paths", nargs=-1, required=True)
@click.option("-m", "modify", metavar="SPEC", help="Add or change entries (comma-separated).")
@click.option("-x", "remove", metavar="SPEC", help="Remove entries (comma-separated).")
@click.option("-b", "remove_all", is_flag=True, help="Remove every entry but the base ones.")
@click.option("-k", "remove_default", is_flag=True, help="Remove the default ACL.")
@click.option("--set", "replace", metavar="SPEC", help="Replace the whole ACL.")
@click.option("-R", "recursive", is_flag=True, help="Also everything below each directory.")
@fs_options()
def setfacl(
    fs: HopsFileSystem,
    paths: tuple[str, ...],
    modify: str | None,
    remove: str | None,
    remove_all: bool,
    remove_default: bool,
    replace: str | None,
    recursive: bool,
) -> None:
    """Change the ACL of each PATH with one of -m, -x, -b, -k, --set (default entries, which
    only directories have, are left out for files under -R)."""
    chosen = [o for o in (modify, remove, replace) if o] + [
        o for o in (remove_all, remove_default) if o
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of -m SPEC, -x SPEC, -b, -k, --set SPEC")
    for path in paths:
        for name, is_dir in _tree(fs, path, recursive).items():
            spec = [e for e in (modify or remove or replace or "").split(",") if e]
            if not is_dir:
                spec = [e for e in spec if not e.startswith("default:")]
            if remove_all or remove_default:
                fs.remove_acl(name, default_only=remove_default)
            elif modify:
                fs.modify_acl_entries(name, spec)
            elif remove:
                fs.remove_acl_entries(name, spec)
            else:
                fs.set_acl(name, spec)


ACL_COMMANDS: list[click.Command] = [getfacl, setfacl]
