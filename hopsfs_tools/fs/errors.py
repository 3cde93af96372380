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
}

_ERRNO: dict[str, int] = {
    "PathIsNotEmptyDirectoryException": errno.ENOTEMPTY,
    "DSQuotaExceededException": errno.EDQUOT,
    "NSQuotaExceededException": errno.EDQUOT,
}

_HINTS: dict[type[BaseException], str] = {
    FileNotFoundError: "check the path (relative paths resolve against the project root)",
    FileExistsError: "remove it first or pass overwrite=True",
    PermissionError: "check the HDFS owner/mode/ACL of the path and HADOOP_USER_NAME",
    IsADirectoryError: "expected a file but the path is a directory",
    NotADirectoryError: "a parent of the path is a file, not a directory",
}


def java_class_name(text: str) -> str | None:
    """The simple name of the first known Java exception mentioned in `text`."""
    for name in JAVA_EXCEPTIONS:
        if name in text:
            return name
    return None


def translate(java_class: str | None, message: str, path: str) -> OSError:
    """Build the Python exception for a Java exception `java_class` raised on `path`."""
    exc_type = JAVA_EXCEPTIONS.get(java_class or "", OSError)
    code = _ERRNO.get(java_class or "")
    return make(exc_type, path, message, code=code)


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
