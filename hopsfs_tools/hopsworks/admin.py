"""Project administration: create Hopsworks-style projects and share them through HDFS ACLs.

A project P is /Projects/P with the standard datasets, owned by its creator `P__u`, group P,
mode 0770 (other projects' users are kept out). Members get named-user ACL entries (access and
default) rather than group membership: the namenode resolves groups from the OS of its own host
(shell-based mapping by default, where `P__u` is unknown and has no groups), which a client cannot
change, so a `group:P` entry would match nobody.

A dataset (a directory directly in /Projects/P) is shared with project Q the same way: every
member of Q gets `r-x` (or `rwx`) entries on the dataset's tree, default ones included so new files
inherit them, and `--x` on /Projects/P to reach it (not to list it). The ACLs are the only record:
`add_member` finds the datasets shared with a project there and gives a new member the same access.
`create_project` makes every dataset snapshottable (`hopsfs-tools snapshot`), and it and
`add_member` make each member's home /user/P__u (where its trash
lives). Everything here needs the HDFS superuser.
"""

from __future__ import annotations

import errno
import logging
import posixpath
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hopsfs_tools.config.project import PROJECTS_ROOT, Project
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import hints

DATASETS = ("Resources", "Jupyter", "Logs", "Models", "Experiments", "DataSets")
PROJECT_MODE = 0o770
HOME_ROOT = "/user"
HOME_MODE = 0o700  # a user's home: its trash, nobody else's business
README_MODE = 0o660  # a dataset's README.md: read and written by the project, no one else
# What each dataset holds, for its README.md (as Hopsworks writes one into every dataset).
DESCRIPTIONS = {
    "Resources": "Resources used by jobs and notebooks, e.g. input data, jars, Python modules.",
    "Jupyter": "Jupyter notebooks of the project.",
    "Logs": "Logs of the jobs run in the project.",
    "Models": "Trained models (SavedModels, checkpoints, Keras files).",
    "Experiments": "Experiment runs: one <app_id>_<run_id> directory each, with TensorBoard logs.",
    "DataSets": "Data sets of the project.",
}
_SUPERUSER = "the user who started the namenode; select it with HADOOP_USER_NAME"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectInfo:
    """A project as stored in HDFS: root, owner `P__u`, group, mode and member users."""

    name: str
    path: str
    owner: str
    group: str
    permission: int
    members: tuple[str, ...]  # HDFS users with access: the owner and every added member


@dataclass(frozen=True)
class Share:
    """A dataset of `project` shared with the members of `with_project` through ACL entries."""

    project: str
    dataset: str
    path: str  # /Projects/<project>/<dataset>
    with_project: str
    read_only: bool
    users: tuple[str, ...]  # the users of `with_project` holding entries on the dataset


def create_project(name: str, user: str, fs: HopsFileSystem | None = None) -> ProjectInfo:
    """Create /Projects/<name> and its datasets owned by `<name>__<user>`, group <name>, 0770,
    each with the README.md Hopsworks puts there (same owner and group, 0660).

    Idempotent: re-running it restores owner, group, mode and missing datasets and READMEs (an
    edited README is kept); a project owned by someone else raises FileExistsError.
    """
    fs = fs or HopsFileSystem()
    owner = Project(name, f"{name}__{user}").user  # validates both names
    root = f"{PROJECTS_ROOT}/{name}"
    with _needs_superuser(f"creating project {name}"):
        if fs.exists(root):
            current = fs.info(root).get("owner")
            if current != owner:
                raise FileExistsError(
                    errno.EEXIST,
                    f"project {name} exists and is owned by "
                    f"{current}: add {owner} with add-member instead",
                    root,
                )
        fs.makedirs(PROJECTS_ROOT, exist_ok=True)
        for path in (root, *(posixpath.join(root, d) for d in DATASETS)):
            fs.makedirs(path, exist_ok=True)
            fs.chown(path, owner, name)
            fs.chmod(path, PROJECT_MODE)
            fs.modify_acl_entries(path, _entries([owner], "rwx", directory=True))
        for dataset in DATASETS:
            _write_readme(fs, posixpath.join(root, dataset), owner, name)
        _allow_snapshots(fs, [posixpath.join(root, dataset) for dataset in DATASETS])
        _make_home(fs, owner, name)
    return project_info(name, fs)


def _allow_snapshots(fs: HopsFileSystem, datasets: list[str]) -> None:
    """Make `datasets` snapshottable (their owner may then snapshot them). A filesystem that
    knows no WebHDFS URL cannot (the RPC clients lack allowSnapshot): the project is made all
    the same, and a warning says how to allow snapshots later."""
    try:
        for dataset in datasets:
            fs.allow_snapshots(dataset)
    except NotImplementedError as exc:
        log.warning(
            "%s; datasets of %s are not snapshottable: run `hopsfs-tools snapshot allow "
            "DATASET` against a configuration with WebHDFS to allow it",
            exc,
            posixpath.dirname(datasets[0]),
        )


def _make_home(fs: HopsFileSystem, user: str, group: str) -> None:
    """/user/<user> owned by `user`, mode 0700, unless it exists: where its trash lives (a
    project user may not create it under /user, which belongs to the superuser)."""
    home = f"{HOME_ROOT}/{user}"
    if fs.exists(home):
        return
    fs.makedirs(home, exist_ok=True)
    fs.chown(home, user, group)
    fs.chmod(home, HOME_MODE)


def readme_text(dataset: str) -> str:
    """The README.md of a new dataset, in Hopsworks' layout (title, then what it holds)."""
    return f"# {dataset}\n\n{DESCRIPTIONS.get(dataset, '')}\n"


def _write_readme(fs: HopsFileSystem, dataset_path: str, owner: str, group: str) -> None:
    """Write <dataset>/README.md unless there is one, owned by `owner`:`group`, README_MODE."""
    path = posixpath.join(dataset_path, "README.md")
    if not fs.exists(path):
        fs.pipe_file(path, readme_text(posixpath.basename(dataset_path)).encode())
    fs.chown(path, owner, group)
    fs.chmod(path, README_MODE)


def add_member(name: str, user: str, fs: HopsFileSystem | None = None) -> int:
    """Give `<name>__<user>` read/write access to everything in project `name` (and what is
    created there later); returns the number of paths updated."""
    fs = fs or HopsFileSystem()
    member = Project(name, f"{name}__{user}").user
    root = _root(name, fs)
    with _needs_superuser(f"adding {member} to project {name}"):
        _make_home(fs, member, name)
        count = _update_tree(fs, root, [member], "rwx")
        for share in shared_with(name, fs):  # datasets of other projects shared with this one
            count += _grant_share(fs, share.path, [member], _share_perms(share.read_only))
    return count


def share_dataset(
    project: str,
    dataset: str,
    with_project: str,
    *,
    read_only: bool = True,
    fs: HopsFileSystem | None = None,
) -> Share:
    """Let every member of `with_project` read (and with read_only=False also write) the dataset
    /Projects/<project>/<dataset>, including what is created in it later; idempotent.

    Members added to `with_project` later get the same access from `add_member`.
    """
    fs = fs or HopsFileSystem()
    path = _dataset(project, dataset, fs)
    if with_project == project:
        raise ValueError(f"{path} is in project {project}: its members can already use it")
    perms = _share_perms(read_only)
    with _needs_superuser(f"sharing {path} with project {with_project}"):
        users = project_info(with_project, fs).members
        _grant_share(fs, path, users, perms)
    return _share(path, with_project, dict.fromkeys(users, perms))


def unshare_dataset(
    project: str, dataset: str, with_project: str, fs: HopsFileSystem | None = None
) -> Share:
    """Take back what `share_dataset` gave the users of `with_project` on the dataset (and their
    way through /Projects/<project> once no other dataset of it is shared with them)."""
    fs = fs or HopsFileSystem()
    path = _dataset(project, dataset, fs)
    Project(with_project, with_project)  # validates the name
    with _needs_superuser(f"unsharing {path} from project {with_project}"):
        granted = _granted(fs, path, with_project)
        if not granted:
            raise ValueError(f"{path} is not shared with project {with_project}")
        _update_tree(fs, path, granted, None)
        if not _shares_in(fs, project, with_project):
            fs.remove_acl_entries(posixpath.dirname(path), [f"user:{u}" for u in granted])
    return _share(path, with_project, granted)


def shared_with(name: str, fs: HopsFileSystem | None = None) -> list[Share]:
    """The datasets of other projects shared with project `name`, found in their ACLs."""
    fs = fs or HopsFileSystem()
    Project(name, name)  # validates the name
    projects = [e["name"] for e in fs.ls(PROJECTS_ROOT) if e["type"] == "directory"]
    others = sorted(posixpath.basename(p) for p in projects if posixpath.basename(p) != name)
    return [share for other in others for share in _shares_in(fs, other, name)]


def list_projects(fs: HopsFileSystem | None = None) -> list[ProjectInfo]:
    """Every project under /Projects with its owner and members (empty without /Projects)."""
    fs = fs or HopsFileSystem()
    if not fs.exists(PROJECTS_ROOT):
        return []
    names = [
        posixpath.basename(e["name"]) for e in fs.ls(PROJECTS_ROOT) if e["type"] == "directory"
    ]
    return [project_info(n, fs) for n in sorted(names)]


def project_info(name: str, fs: HopsFileSystem | None = None) -> ProjectInfo:
    """Owner, group, mode and members of project `name`."""
    fs = fs or HopsFileSystem()
    info = fs.info(_root(name, fs))
    members = sorted({info["owner"], *_granted(fs, info["name"], name)})
    return ProjectInfo(
        name, info["name"], info["owner"], info["group"], info["permission"], tuple(members)
    )


def _root(name: str, fs: HopsFileSystem) -> str:
    """/Projects/<name>, which must exist."""
    root = f"{PROJECTS_ROOT}/{name}"
    Project(name, name)  # validates the name
    if not fs.exists(root):
        raise hints.missing(
            root, f"no project {name}: create it with `hopsfs-tools project create`"
        )
    return root


def _dataset(project: str, dataset: str, fs: HopsFileSystem) -> str:
    """/Projects/<project>/<dataset>: a directory directly in an existing project."""
    root = _root(project, fs)
    name = dataset.strip("/")
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(
            f"Dataset {dataset!r} is not a directory name: datasets are the "
            f"directories directly in {root} (e.g. Resources)"
        )
    path = f"{root}/{name}"
    try:
        kind = fs.info(path)["type"]
    except FileNotFoundError as e:
        raise hints.missing(path, f"project {project} has no dataset {name}") from e
    if kind != "directory":
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"{path} is a file: share a dataset, a directory directly in {root}",
            path,
        )
    return path


def _granted(fs: HopsFileSystem, path: str, project: str) -> dict[str, str]:
    """The users of `project` ("<project>__u") with a named ACL entry on `path`: their
    permissions ("rwx")."""
    granted = {}
    for entry in fs.acl_entries(path):
        kind, name, perms = entry.split(":")
        if kind == "user" and name.startswith(f"{project}__"):
            granted[name] = perms
    return granted


def _shares_in(fs: HopsFileSystem, project: str, with_project: str) -> list[Share]:
    """The datasets of `project` shared with `with_project`."""
    datasets = [e["name"] for e in fs.ls(f"{PROJECTS_ROOT}/{project}") if e["type"] == "directory"]
    granted = {path: _granted(fs, path, with_project) for path in datasets}
    return [_share(path, with_project, users) for path, users in granted.items() if users]


def _share(path: str, with_project: str, granted: dict[str, str]) -> Share:
    """The Share of dataset `path` whose entries for `with_project`'s users are `granted`."""
    project = posixpath.basename(posixpath.dirname(path))
    read_only = all("w" not in perms for perms in granted.values())
    return Share(
        project, posixpath.basename(path), path, with_project, read_only, tuple(sorted(granted))
    )


def _share_perms(read_only: bool) -> str:
    return "r-x" if read_only else "rwx"


def _grant_share(fs: HopsFileSystem, path: str, users: Iterable[str], perms: str) -> int:
    """Give `users` `perms` on the dataset tree at `path` and a way (--x) through its project
    root; returns the number of paths updated."""
    users = list(users)
    fs.modify_acl_entries(posixpath.dirname(path), [f"user:{u}:--x" for u in users])
    return _update_tree(fs, path, users, perms)


def _update_tree(fs: HopsFileSystem, path: str, users: Iterable[str], perms: str | None) -> int:
    """Set (`perms`) or remove (None) the entries of `users` on every path of the tree at `path`,
    default entries included on directories; returns the number of paths updated."""
    users = list(users)
    change = fs.modify_acl_entries if perms else fs.remove_acl_entries
    tree = fs.find(path, withdirs=True, detail=True)
    for child, info in tree.items():
        change(child, _entries(users, perms, directory=info["type"] == "directory"))
    return len(tree)


def _entries(users: Iterable[str], perms: str | None, directory: bool) -> list[str]:
    """ACL spec entries for `users` ("user:u:perms", or "user:u" to remove), and on directories
    the same as default entries, for what is created below."""
    entries = [f"user:{u}:{perms}" if perms else f"user:{u}" for u in users]
    return entries + [f"default:{e}" for e in entries] if directory else entries


@contextmanager
def _needs_superuser(what: str) -> Iterator[None]:
    """Re-raise a PermissionError inside the block saying `what` needs the HDFS superuser."""
    try:
        yield
    except PermissionError as e:
        raise PermissionError(
            errno.EACCES,
            f"{what} needs the HDFS superuser ({_SUPERUSER}): {e.strerror}",
            e.filename,
        ) from e
