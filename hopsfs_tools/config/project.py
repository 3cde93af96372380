"""The project model: a Hopsworks-style project `P`, its user `P__u` and its root `/Projects/P`.

The one place where user paths become absolute HDFS paths: `resolve` for the filesystem
(relative paths are relative to the project root, "/abs" is absolute) and `resolve_hops` for
the `hops.hdfs` facade (hops-util-py's rule: only paths under /Projects are absolute).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

from hopsfs_tools.config import settings

PROJECTS_ROOT = "/Projects"
_SEP = "__"  # Hopsworks project users are named "<project>__<user>"
_HOW = "set HOPSFS_PROJECT=<project> or HADOOP_USER_NAME=<project>__<user>"


@dataclass(frozen=True)
class Project:
    """A project: its name and the HDFS user acting in it (e.g. "demo" and "demo__alice")."""

    name: str
    user: str

    def __post_init__(self) -> None:
        _check_name(self.name)
        split_user(self.user)  # validates the "P__u" form when the user has one

    @property
    def root(self) -> str:
        """The project's HDFS directory, "/Projects/<name>"."""
        return f"{PROJECTS_ROOT}/{self.name}"

    def resolve(self, path: str | os.PathLike[str]) -> str:
        """The absolute HDFS path (no scheme) of a project-relative path, absolute path or URI."""
        return resolve(path, self.root)


def resolve(path: str | os.PathLike[str] | bytes, root: str = "/") -> str:
    """Absolute, normalised HDFS path of `path`; relative paths (and "hopsfs://rel") join `root`.

    "/abs" and "hdfs://host:port/abs" keep their path, "hopsfs:///abs" is "/abs"; ".", ".." and
    "//" are normalised and the result never goes above "/".
    """
    text = strip_scheme(path)
    joined = posixpath.join(root, text) if not text.startswith("/") else text
    # normpath keeps a leading "//" and clamps "/.." at "/"; collapse every leading slash to one
    return "/" + posixpath.normpath(joined).lstrip("/")


def strip_scheme(path: str | os.PathLike[str] | bytes) -> str:
    """The path of a URL or path, normalised but not resolved: "hopsfs://rel" and "rel" stay
    relative ("" for the project root itself), "hopsfs:///abs" and "hdfs://host:port/abs" are
    "/abs". ValueError for a foreign scheme or a hopsfs:// URL naming a host."""
    text = os.fsdecode(path) if not isinstance(path, str) else path
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme == "hopsfs":
            host, _, tail = rest.partition("/")
            if ":" in host:  # never a path: HDFS names cannot hold ':'
                raise ValueError(
                    f"URL {text!r} names a host ({host}), but hopsfs:// URLs take the cluster "
                    f"from the configuration: write hopsfs:///{tail} (absolute) or "
                    f"hdfs://{host}/{tail}"
                )
            text = rest  # "hopsfs://rel" is project-relative, "hopsfs:///abs" absolute
        elif scheme in ("hdfs", "viewfs", "webhdfs", "swebhdfs"):
            text = urlsplit(text).path or "/"
        else:
            raise ValueError(
                f"Path {text!r} has scheme {scheme!r}: use a project-relative path, "
                "/absolute/path, hdfs://host:port/path or hopsfs://path"
            )
    if text.startswith("/"):
        return "/" + posixpath.normpath(text).lstrip("/")
    text = posixpath.normpath(text) if text else ""
    return "" if text == "." else text


def relative_to(name: str, root: str) -> str:
    """`name` (absolute) relative to the directory `root`, as `strip_scheme` gives a relative
    path ("" for `root` itself); unchanged when outside `root`."""
    if root == "/":
        return name.lstrip("/")
    if name == root:
        return ""
    return name[len(root) + 1 :] if name.startswith(root + "/") else name


def resolve_hops(path: str | os.PathLike[str] | bytes, root: str) -> str:
    """Absolute HDFS path of `path` by hops-util-py's rule, relative paths joining `root`.

    A path under /Projects is absolute; any other path, with or without a leading "/", is
    relative to the project ("/Resources/x" is <root>/Resources/x). "hdfs://host:port/abs" and
    "hopsfs://host:port/abs" (hops-util-py PR #186) are reduced to their path.
    """
    text = os.fsdecode(path) if not isinstance(path, str) else path
    if text.startswith("hopsfs://") and ":" in text[9:].partition("/")[0]:
        return resolve(urlsplit(text).path or "/")
    if "://" in text or text == PROJECTS_ROOT or text.startswith(PROJECTS_ROOT + "/"):
        return resolve(text, root)
    return resolve(text.lstrip("/"), root)


def split_user(user: str) -> tuple[str | None, str]:
    """("P", "u") for a project user "P__u", (None, user) for a plain HDFS user."""
    if not user or not user.strip():
        raise ValueError(f"HDFS user {user!r} is empty: {_HOW}")
    if _SEP not in user:
        return None, user
    parts = user.split(_SEP)
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"HDFS user {user!r} is not of the form <project>__<user> (exactly one '__' with a "
            f"non-empty project and user on each side): {_HOW}"
        )
    return parts[0], parts[1]


def current_project(name: str | None = None, user: str | None = None) -> Project | None:
    """The project in effect: `name` > $HOPSFS_PROJECT > $HOPSWORKS_PROJECT_NAME > P of P__u.

    The user is `user` > $HADOOP_USER_NAME > "<name>__<login>". None when no project is set.
    """
    who = settings.identity(name, user)
    if who.project is not None:
        _check_name(who.project)
    if who.user is not None:
        split_user(who.user)  # a malformed "P__u" is an error, not a project
    if who.project is None:
        return None
    return Project(name=who.project, user=who.user or "")


def _check_name(name: str) -> None:
    """Reject project names that are empty or would not be one directory under /Projects."""
    if not name or not name.strip() or "/" in name or name in (".", "..") or _SEP in name:
        raise ValueError(
            f"Project name {name!r} is invalid: use a non-empty name without '/' or '__' ({_HOW})"
        )
