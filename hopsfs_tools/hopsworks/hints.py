"""What to do about an error, in Hopsworks terms: attached by the hops facade and the CLI.

The filesystem's errors (`fs/errors.py`) name the path and a generic hint; the front ends know
the project and the commands, so they add the hints that need them.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable

from hopsfs_tools.config.project import PROJECTS_ROOT, Project, split_user
from hopsfs_tools.fs import errors

HOW_TO_SET = "set HOPSFS_PROJECT=<project> or HADOOP_USER_NAME=<project>__<user>"
CHECK_PATH = "check the path"
_GENERIC_PERMISSION = errors.make(PermissionError, "", "-").strerror[1:]  # " (check the ...)"


def missing(path: str, hint: str = CHECK_PATH) -> FileNotFoundError:
    """The FileNotFoundError of a missing `path`, in the one wording the front ends use."""
    exc = FileNotFoundError(errno.ENOENT, f"{path}: No such file or directory ({hint})", path)
    exc.hint = hint  # type: ignore[attr-defined]
    return exc


def no_project(given: str, resolved: str) -> str:
    """The hint for a relative path used while no project is set."""
    return (
        f"no project is set, so the relative path {given!r} means {resolved}: {HOW_TO_SET} "
        "(or pass --project P / project=P)"
    )


def permission(path: str, detail: str) -> str:
    """Who to ask when a user is denied in another project's directory, or when only the
    superuser may act ("" otherwise).

    That project is the first one the message (e.g. its inode="/Projects/A/...") or `path` names
    that is not the user's own; the user comes from "user=..." in the message.
    """
    if re.search(r"super ?user", detail, re.IGNORECASE):  # e.g. a chown by the file's owner
        return (
            "only the HDFS superuser (the user running the NameNode) may do this, whoever owns "
            "the path: ask your HDFS administrator"
        )
    user = re.search(r"\buser=([^,\s)]+)", detail)
    if user is None:
        return ""  # not an access check (e.g. chown to a group the user is not in)
    try:
        own_project, name = split_user(user.group(1))
    except ValueError:
        own_project, name = None, "USER"
    named = re.findall(rf"{PROJECTS_ROOT}/([^/\s\"',:)]+)", f"{detail} {path}")
    project = next((p for p in named if p != own_project), None)
    if project is None:
        return ""  # a member denied in their own project: the generic hint fits
    theirs = own_project or "YOUR_PROJECT"
    return (
        f"{PROJECTS_ROOT}/{project} belongs to project {project}: ask an HDFS administrator (the "
        f"superuser) to add you (`hopsfs-tools project add-member {project} {name}`, then act as "
        f"{project}__{name}) or to share the dataset with project {theirs} "
        f"(`hopsfs-tools project share {project} DATASET --with {theirs}`)"
    )


def explain(
    exc: OSError, project: Project | None, relative: Iterable[tuple[str, str]] = ()
) -> OSError:
    """`exc` with the hint only a front end can give, or `exc` itself.

    `relative`: the (given, resolved) relative paths of the call, to tell a user who set no
    project why a relative path was not found.
    """
    path = str(exc.filename or "")
    if isinstance(exc, FileNotFoundError) and project is None:
        for given, resolved in relative:
            if path == resolved or path.startswith(resolved.rstrip("/") + "/"):
                return _with_cause(missing(path, no_project(given, resolved)), exc)
    if isinstance(exc, PermissionError) and not isinstance(exc, errors.KerberosError):
        hint = permission(path, exc.strerror or "")
        if hint:
            text = (exc.strerror or "").removesuffix(_GENERIC_PERMISSION)
            new = PermissionError(exc.errno, f"{text} ({hint})", exc.filename)
            new.hint = hint  # type: ignore[attr-defined]
            return _with_cause(new, exc)
    return exc


def _with_cause(new: OSError, cause: OSError) -> OSError:
    new.__cause__ = cause
    new.__suppress_context__ = True
    return new
