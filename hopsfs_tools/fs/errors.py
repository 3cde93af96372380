"""One table from HDFS/Java exceptions to Python builtins, used by every backend."""

from __future__ import annotations

import errno

# Java exception class (simple name) -> Python exception type.
JAVA_EXCEPTIONS: dict[str, type[OSError]] = {
    "FileNotFoundException": FileNotFoundError,
    "FileAlreadyExistsException": FileExistsError,
    "AlreadyBeingCreatedException": FileExistsError,
    "AccessControlException": PermissionError,
    "PathIsDirectoryException": IsADirectoryError,
    "PathIsNotDirectoryException": NotADirectoryError,
    "ParentNotDirectoryException": NotADirectoryError,
    "PathIsNotEmptyDirectoryException": OSError,
    "DSQuotaExceededException": OSError,
    "NSQuotaExceededException": OSError,
    "SafeModeException": OSError,
    "ConnectException": ConnectionError,
    "ConnectTimeoutException": ConnectionError,
    "UnknownHostException": ConnectionError,
    "NoRouteToHostException": ConnectionError,
    "SocketTimeoutException": ConnectionError,
    "SocketException": ConnectionError,
    # A server's cached connection to a restarted NameNode (e.g. a DataNode serving WebHDFS)
    "EOFException": ConnectionError,
    "RetriableException": OSError,
}

# Messages that say more than their Java class (checked first: generic IOExceptions, and
# AccessControlException / FileNotFoundException carrying a more precise cause).
JAVA_MESSAGES: dict[str, type[OSError]] = {
    "(is not a directory)": NotADirectoryError,  # a parent of the path is a file
    "Path is not a file": IsADirectoryError,  # open/read of a directory
    "Cannot append to directory": IsADirectoryError,
    "must both be directories": FileExistsError,  # rename onto an existing path of another type
    "directory is not empty": OSError,  # rename over a non-empty directory
}

_ERRNO: dict[str, int] = {
    "PathIsNotEmptyDirectoryException": errno.ENOTEMPTY,
    "DSQuotaExceededException": errno.EDQUOT,
    "NSQuotaExceededException": errno.EDQUOT,
    "SafeModeException": errno.EAGAIN,  # a restarted NameNode leaves safe mode by itself
    "RetriableException": errno.EAGAIN,
    "directory is not empty": errno.ENOTEMPTY,
}

_HINTS: dict[type[BaseException], str] = {
    FileNotFoundError: "check the path (relative paths resolve against the project root)",
    FileExistsError: "remove it first or pass overwrite=True",
    PermissionError: "check the HDFS owner/mode/ACL of the path and HADOOP_USER_NAME",
    IsADirectoryError: "expected a file but the path is a directory",
    NotADirectoryError: "a parent of the path is a file, not a directory",
}


def transient(exc: BaseException) -> bool:
    """Whether `exc` may go away by itself (lost connection, NameNode starting): worth a retry."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, OSError) and exc.errno == errno.EAGAIN


def java_class_name(text: str) -> str | None:
    """The simple name of the first known Java exception mentioned in `text`."""
    for name in JAVA_EXCEPTIONS:
        if name in text:
            return name
    return None


def translate(
    java_class: str | None, message: str, path: str, default: type[OSError] = OSError
) -> OSError:
    """Build the Python exception for a Java exception `java_class` raised on `path`."""
    key = next((m for m in JAVA_MESSAGES if m in message), java_class or "")
    exc_type = JAVA_MESSAGES.get(key) or JAVA_EXCEPTIONS.get(key) or default
    return make(exc_type, path, message, code=_ERRNO.get(key))


def make(exc_type: type[OSError], path: str, detail: str = "", *, code: int | None = None) -> OSError:
    """An OSError subclass whose message names the path, what happened and what to do."""
    if exc_type is ConnectionError:
        return ConnectionError(f"{path}: {detail}".strip(": "))
    hint = _HINTS.get(exc_type, "")
    text = detail.strip().splitlines()[0] if detail.strip() else exc_type.__name__
    msg = f"{text} ({hint})" if hint else text
    if code is None:
        code = {
            FileNotFoundError: errno.ENOENT,
            FileExistsError: errno.EEXIST,
            PermissionError: errno.EACCES,
            IsADirectoryError: errno.EISDIR,
            NotADirectoryError: errno.ENOTDIR,
        }.get(exc_type, errno.EIO)
    return exc_type(code, msg, path)
