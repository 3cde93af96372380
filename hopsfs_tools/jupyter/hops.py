"""What the Jupyter package uses of hopsfs-tools, imported in this one place."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from anyio.to_thread import run_sync
from tornado.web import HTTPError

from hopsfs_tools.config.project import PROJECTS_ROOT, Project, current_project, resolve
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.commit import TEMP_MARKER
from hopsfs_tools.hopsworks import hints

JUPYTER_DATASET = "Jupyter"  # where Hopsworks keeps a project's notebooks


def explain(exc: OSError) -> OSError:
    """`exc` with the Hopsworks hint that says what to do (whom to ask, for another project)."""
    return hints.explain(exc, None)


def one_line(exc: OSError) -> str:
    """The first line of an error's message, naming its HDFS path."""
    text = exc.strerror or str(exc)
    path = str(exc.filename or "")
    message = text if not path or path in text else f"{path}: {text}"
    return message.strip().splitlines()[0]


@contextmanager
def http_errors(path: str) -> Iterator[None]:
    """Turn the filesystem's errors about API path `path` into the HTTP errors Jupyter shows."""
    try:
        yield
    except HTTPError:
        raise
    except FileNotFoundError as e:
        raise HTTPError(404, f"file or directory does not exist: {path!r}") from e
    except PermissionError as e:
        raise HTTPError(403, one_line(explain(e))) from e
    except FileExistsError as e:
        raise HTTPError(409, f"{path} exists: {one_line(e)}") from e
    except (IsADirectoryError, NotADirectoryError) as e:
        raise HTTPError(400, one_line(e)) from e
    except ConnectionError as e:
        raise HTTPError(503, f"HDFS is unreachable: {e}") from e
    except OSError as e:
        code = 400 if e.errno == errno.ENOTEMPTY else 500
        raise HTTPError(code, one_line(e)) from e


async def call(path: str, func: Any, *args: Any) -> Any:
    """func(*args) in a worker thread (HDFS calls block; the server's event loop must not), its
    filesystem errors as the HTTP errors about API path `path`."""
    with http_errors(path):
        return await run_sync(func, *args)


__all__ = [
    "JUPYTER_DATASET",
    "PROJECTS_ROOT",
    "TEMP_MARKER",
    "HopsFileSystem",
    "Project",
    "call",
    "current_project",
    "explain",
    "http_errors",
    "one_line",
    "resolve",
]
