"""Project administration: create Hopsworks-style projects and share them through HDFS ACLs.

A project P is /Projects/P with the standard datasets, owned by its creator `P__u`, group P,
mode 0770 (other projects' users are kept out). Members get named-user ACL entries (access and
default) rather than group membership: the namenode resolves groups from the OS of its own host,
which a client cannot change. Creating projects and adding members needs the HDFS superuser.
"""

from __future__ import annotations

import errno
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hopsfs_tools.fs.core import HopsFileSystem
from hopsfs_tools.project import PROJECTS_ROOT, Project

DATASETS = ("Resources", "Jupyter", "Logs", "Models", "Experiments", "DataSets")
PROJECT_MODE = 0o770
_SUPERUSER = "the user who started the namenode; select it with HADOOP_USER_NAME"


@dataclass(frozen=True)
class ProjectInfo:
    """A project as stored in HDFS: root, owner `P__u`, group, mode and member users."""

    name: str
    path: str
    owner: str
    group: str
    permission: int
    members: tuple[str, ...]  # HDFS users with access: the owner and every added member


def create_project(name: str, user: str, fs: HopsFileSystem | None = None) -> ProjectInfo:
    """Create /Projects/<name> and its datasets owned by `<name>__<user>`, group <name>, 0770.

    Idempotent: re-running it restores owner, group, mode and missing datasets; a project owned by
    someone else raises FileExistsError.
    """
    fs = fs or HopsFileSystem()
    owner = Project(name, f"{name}__{user}").user  # validates both names
    root = f"{PROJECTS_ROOT}/{name}"
    with _needs_superuser(f"creating project {name}"):
        if fs.exists(root):
            current = fs.info(root).get("owner")
            if current != owner:
                raise FileExistsError(errno.EEXIST, f"project {name} exists and is owned by "
                                      f"{current}: add {owner} with add-member instead", root)
        fs.makedirs(PROJECTS_ROOT, exist_ok=True)
        for path in (root, *(posixpath.join(root, d) for d in DATASETS)):
            fs.makedirs(path, exist_ok=True)
            fs.chown(path, owner, name)
            fs.chmod(path, PROJECT_MODE)
            fs.modify_acl_entries(path, _entries(owner, directory=True))
    return project_info(name, fs)


def add_member(name: str, user: str, fs: HopsFileSystem | None = None) -> int:
    """Give `<name>__<user>` read/write access to everything in project `name` (and what is
    created there later); returns the number of paths updated."""
    fs = fs or HopsFileSystem()
    member = Project(name, f"{name}__{user}").user
    root = _root(name, fs)
    with _needs_superuser(f"adding {member} to project {name}"):
        tree = fs.find(root, withdirs=True, detail=True)
        for path, info in tree.items():
            fs.modify_acl_entries(path, _entries(member, directory=info["type"] == "directory"))
    return len(tree)


def list_projects(fs: HopsFileSystem | None = None) -> list[ProjectInfo]:
    """Every project under /Projects with its owner and members (empty without /Projects)."""
    fs = fs or HopsFileSystem()
    if not fs.exists(PROJECTS_ROOT):
        return []
    names = [posixpath.basename(e["name"]) for e in fs.ls(PROJECTS_ROOT) if e["type"] == "directory"]
    return [project_info(n, fs) for n in sorted(names)]


def project_info(name: str, fs: HopsFileSystem | None = None) -> ProjectInfo:
    """Owner, group, mode and members of project `name`."""
    fs = fs or HopsFileSystem()
    info = fs.info(_root(name, fs))
    named = [e.split(":")[1] for e in fs.acl_entries(info["name"]) if e.startswith("user:")]
    members = sorted({info["owner"], *(n for n in named if n)})
    return ProjectInfo(name, info["name"], info["owner"], info["group"], info["permission"],
                       tuple(members))


def _root(name: str, fs: HopsFileSystem) -> str:
    """/Projects/<name>, which must exist."""
    root = f"{PROJECTS_ROOT}/{name}"
    Project(name, name)  # validates the name
    if not fs.exists(root):
        raise FileNotFoundError(errno.ENOENT, f"no project {name} ({root} does not exist): "
                                "create it with `hopsfs-tools project create`", root)
    return root


def _entries(user: str, directory: bool) -> list[str]:
    """ACL spec entries giving `user` rwx, and on directories the same for what is created below."""
    entries = [f"user:{user}:rwx"]
    return entries + [f"default:{e}" for e in entries] if directory else entries


@contextmanager
def _needs_superuser(what: str) -> Iterator[None]:
    """Re-raise a PermissionError inside the block saying `what` needs the HDFS superuser."""
    try:
        yield
    except PermissionError as e:
        raise PermissionError(
            errno.EACCES, f"{what} needs the HDFS superuser ({_SUPERUSER}): {e.strerror}", e.filename
        ) from e
