"""What every `hopsfs-tools` command shares: one-line user errors, hints, connection options."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator
from typing import Any

import click

from hopsfs_tools.config import BACKENDS
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import hints

_USER_ERRORS = (
    OSError,
    ValueError,
    NotImplementedError,
)  # OSError covers Connection/FileNotFound/...


def one_line(exc: BaseException) -> str:
    """The one-line message of a user error, naming its path.

    A missing path always reads "<path>: No such file or directory (<what to do>)".
    """
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return (
            f"{exc.filename}: No such file or directory ({getattr(exc, 'hint', hints.CHECK_PATH)})"
        )
    if isinstance(exc, OSError) and exc.strerror:
        text, path = exc.strerror, str(exc.filename or "")
        message = text if not path or path in text else f"{path}: {text}"
    else:
        message = str(exc) or type(exc).__name__
    return message.strip().splitlines()[0]


def human_size(size: int) -> str:
    """1536 -> "1.5 K", as `hdfs dfs -h` prints sizes."""
    value = float(size)
    for unit in ("", " K", " M", " G", " T", " P"):
        if value < 1024 or unit == " P":
            return f"{int(value)}{unit}" if not unit else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


class FsCommand(click.Command):
    """A command whose user errors (missing path, permission denied, exists, ...) print one
    line and exit 1 instead of a traceback: the one place errors map to the CLI."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _USER_ERRORS as e:
            if isinstance(e, OSError) and e.errno == errno.EPIPE:
                raise  # click's main() handles a closed stdout (`... | head`)
            raise click.ClickException(one_line(e)) from None


class FsGroup(click.Group):
    """A group whose subcommands are FsCommands."""

    command_class = FsCommand


def _strings(values: Any) -> Iterator[str]:
    for value in values if isinstance(values, (list, tuple)) else [values]:
        if isinstance(value, str):
            yield value


def _relative(fs: HopsFileSystem, kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """(given, resolved) of the command's relative HDFS path arguments."""
    out = []
    for value in (s for v in kwargs.values() for s in _strings(v)):
        if value.startswith("/") or ("://" in value and not value.startswith("hopsfs://")):
            continue
        try:
            out.append((value, fs.resolve(value)))
        except ValueError:
            continue
    return out


def fs_options(*, project: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the connection options to a command and pass it a HopsFileSystem as `fs`; errors get
    the hints only a front end can give (no project set, another project's directory).

    `project=False` leaves out --project/--user (the HDFS user is then $HADOOP_USER_NAME or the
    login name).
    """

    keys = ("backend", "namenode", "project", "user") if project else ("backend", "namenode")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            options = {k: kwargs.pop(k) for k in keys}
            fs = HopsFileSystem(**options, skip_instance_cache=True)
            click.get_current_context().call_on_close(fs.close)
            try:
                return func(fs, **kwargs)
            except OSError as e:
                explained = hints.explain(e, fs.project, _relative(fs, kwargs))
                if explained is e:
                    raise
                raise explained from e

        decorators = [
            click.option(
                "--backend",
                type=click.Choice(BACKENDS),
                default=None,
                help="Client library (default: $HOPSFS_BACKEND, else native).",
            ),
            click.option(
                "--namenode",
                metavar="URI",
                default=None,
                help="hdfs://host:port (default: $HOPSFS_NAMENODE_URI / HADOOP_CONF_DIR).",
            ),
        ]
        if project:
            decorators += [
                click.option(
                    "--project",
                    metavar="P",
                    default=None,
                    help="Relative paths resolve under /Projects/P (default: "
                    "$HOPSFS_PROJECT, or P of HADOOP_USER_NAME=P__u).",
                ),
                click.option(
                    "--user",
                    metavar="USER",
                    default=None,
                    help="Act as this HDFS user, e.g. P__alice (default: "
                    "$HADOOP_USER_NAME, else the login name).",
                ),
            ]
        own = getattr(func, "__click_params__", [])
        wrapper.__click_params__ = []  # type: ignore[attr-defined]
        for decorator in reversed(decorators):  # listed after the command's own options
            wrapper = decorator(wrapper)
        wrapper.__click_params__ += own  # type: ignore[attr-defined]
        return wrapper

    return decorate
