"""One table from HDFS/Java exceptions to Python builtins, used by every backend."""

from __future__ import annotations

import errno
from collections.abc import Mapping

from hopsfs_tools.config import settings

TOKEN_FILE = settings.ENVIRONMENT["token_file"]  # HADOOP_TOKEN_FILE_LOCATION


class CertificateVerificationError(ConnectionError):
    """An HTTPS server's certificate failed verification (unknown CA, expired, other host name).

    Raised before anything is sent to the server; the message names the server and the option
    that sets the CA to trust.
    """


class DataNodeLostError(ConnectionError):
    """A DataNode stopped answering mid-transfer while the NameNode is up: worth a retry, and
    (for a client that cannot exclude the DataNode itself) once the NameNode marks it stale."""


class KerberosError(PermissionError):
    """The cluster requires Kerberos and this client has no valid ticket, or it was refused.

    The message names the NameNode's principal and realm and says how to get a ticket (`kinit`).
    """


def kerberos(path: str, detail: str, properties: Mapping[str, str]) -> KerberosError:
    """The KerberosError for an authentication failure (`detail`: the library's reason)."""
    principal = properties.get("dfs.namenode.kerberos.principal", "")
    realm = principal.rpartition("@")[2] if "@" in principal else "<REALM>"
    served_by = f" (NameNode principal {principal})" if principal else ""
    token_file = settings.env(TOKEN_FILE)
    if token_file:
        advice = (
            f"did not accept the delegation token in {token_file} ({TOKEN_FILE}): it may have "
            "expired or been cancelled, or be for another NameNode; fetch a new one with "
            "`hopsfs-tools token fetch FILE` (with a Kerberos ticket), or unset "
            f"{TOKEN_FILE} and use a ticket"
        )
    else:
        cache = settings.env("KRB5CCNAME") or "the default ticket cache"
        advice = (
            f"requires a Kerberos ticket: run `kinit <user>@{realm}` (or `kinit -kt <keytab> "
            f"<principal>`) so that it is in {cache} (KRB5CCNAME), or point {TOKEN_FILE} at "
            "a delegation token file"
        )
    return KerberosError(
        errno.EACCES,
        f"Kerberos authentication failed: {detail.strip().splitlines()[0]}. The cluster"
        f"{served_by} {advice}",
        path,
    )


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
    # SecretManager$InvalidToken: a delegation token expired, cancelled or of another cluster
    "InvalidToken": KerberosError,
}

# Messages that say more than their Java class (checked first: generic IOExceptions, and
# AccessControlException / FileNotFoundException carrying a more precise cause).
JAVA_MESSAGES: dict[str, type[OSError]] = {
    "(is not a directory)": NotADirectoryError,  # a parent of the path is a file
    "Path is not a file": IsADirectoryError,  # open/read of a directory
    "Cannot append to directory": IsADirectoryError,
    "must both be directories": FileExistsError,  # rename onto an existing path of another type
    "directory is not empty": OSError,  # rename over a non-empty directory
    "already a snapshot with the same name": FileExistsError,
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
    FileNotFoundError: "check the path",
    FileExistsError: "remove it first or pass overwrite=True",
    PermissionError: "check the HDFS owner/mode/ACL of the path and HADOOP_USER_NAME",
    IsADirectoryError: "expected a file but the path is a directory",
    NotADirectoryError: "a parent of the path is a file, not a directory",
}


# Hints for OSErrors whose type says little (plain OSError), by errno.
_CODE_HINTS: dict[int, str] = {
    errno.EDQUOT: "free space in that directory or ask an HDFS administrator to raise its quota; "
    "a file being written reserves a whole block times its replication",
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
    if java_class == "InvalidToken" or "SecretManager$InvalidToken" in message:
        return kerberos(path, message, {})
    key = next((m for m in JAVA_MESSAGES if m in message), java_class or "")
    exc_type = JAVA_MESSAGES.get(key) or JAVA_EXCEPTIONS.get(key) or default
    return make(exc_type, path, message, code=_ERRNO.get(key))


def make(
    exc_type: type[OSError],
    path: str,
    detail: str = "",
    *,
    code: int | None = None,
    hint: str | None = None,
) -> OSError:
    """An OSError subclass whose message names the path, what happened and what to do (`hint`,
    else the usual advice for `exc_type` / `code`)."""
    if issubclass(exc_type, ConnectionError):
        return exc_type(f"{path}: {detail}".strip(": "))
    if code is None:
        code = {
            FileNotFoundError: errno.ENOENT,
            FileExistsError: errno.EEXIST,
            PermissionError: errno.EACCES,
            IsADirectoryError: errno.EISDIR,
            NotADirectoryError: errno.ENOTDIR,
        }.get(exc_type, errno.EIO)
    if hint is None:
        hint = _HINTS.get(exc_type) or _CODE_HINTS.get(code, "")
    text = detail.strip().splitlines()[0] if detail.strip() else exc_type.__name__
    msg = f"{text} ({hint})" if hint else text
    return exc_type(code, msg, path)


def rehint(exc: OSError, hint: str) -> OSError:
    """The same error with `hint` (what to do) in place of the usual advice for its type."""
    text = (exc.strerror or str(exc)).removesuffix(f" ({_HINTS.get(type(exc), '')})")
    return make(type(exc), str(exc.filename or ""), text, code=exc.errno, hint=hint)


def retarget(exc: OSError, path: str, shown_as: str) -> OSError:
    """The same error about `shown_as` instead of `path` (a write's temporary file -> its target:
    the user asked for the target and never saw the temporary name)."""
    if exc.errno is None or exc.strerror is None:
        return type(exc)(str(exc).replace(path, shown_as))
    return type(exc)(exc.errno, exc.strerror.replace(path, shown_as), shown_as)
