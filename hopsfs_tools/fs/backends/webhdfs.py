"""The `webhdfs` backend: HDFS's REST API over `requests` (through firewalls and Knox gateways)."""

from __future__ import annotations

import getpass
import io
import logging
import posixpath
import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import SplitResult, quote, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from hopsfs_tools.config import CA_PROPERTY
from hopsfs_tools.fs import errors
from hopsfs_tools.fs.backends.base import (
    DIR_MODE,
    FILE_MODE,
    BackendBase,
    BlockLocation,
    ContentSummary,
    FileInfo,
    FsStatus,
    norm_path,
)
from hopsfs_tools.fs.backends.httpauth import kerberos_auth
from hopsfs_tools.fs.backends.namenodes import API, NameNodes
from hopsfs_tools.fs.backends.webhdfs_admin import AdminCalls

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig

_POOL_SIZE = 32  # connections kept per host: enough for thread pools reading in parallel
_UPLOAD_CHUNK = 1 << 20  # bytes per queued piece of an upload
_UPLOAD_QUEUE = 8  # queued pieces: bounds an upload's memory to ~8 MiB plus the caller's buffer

_CERT_FAILED = "CERTIFICATE_VERIFY_FAILED"  # what OpenSSL says about an untrusted certificate
_CERT_REASON = re.compile(r"certificate verify failed: ([^(]+?) \(_ssl")

_READ_CHUNK = 1 << 20  # bytes per piece of a streamed read
_FAILED_FOR = 60.0  # seconds a datanode that failed us is avoided in redirects
_REDIRECT_ASKS = 4  # namenode answers to try while they name an avoided datanode
_BROKEN = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
log = logging.getLogger(__name__)


def connect(config: ClusterConfig) -> WebHdfsBackend:
    """A WebHDFS backend for the cluster described by `config`."""
    return WebHdfsBackend(config)


class WebHdfsBackend(AdminCalls, BackendBase):
    """The Backend protocol over WebHDFS: namenode JSON calls, datanode redirects for data."""

    name = "webhdfs"
    recovers_writes = False  # the upload streams through one DataNode; if it dies, so does the PUT

    def __init__(self, config: ClusterConfig) -> None:
        super().__init__(config)
        self.namenodes = NameNodes(config)  # every NameNode of an HA nameservice
        self.user = config.user or getpass.getuser()
        self.timeout = config.timeout
        self.umask = config.umask
        self.properties = config.properties
        # True: the system's trust store (or REQUESTS_CA_BUNDLE, which requests reads itself)
        self._verify: bool | str = config.ca_cert or True
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=_POOL_SIZE, pool_maxsize=_POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # Kerberos: SPNEGO or a delegation token instead of `user.name` (simple auth)
        self._kerberos = config.kerberos
        self._auth_errors: tuple[type[Exception], ...] = ()
        self._caller = {"user.name": self.user}  # the query parameters naming the caller
        if self._kerberos:
            self._session.auth, self._auth_errors, self._caller = kerberos_auth(config)
        self._failed: dict[str, float] = {}  # datanode "host:port" -> when it last failed us

    # -- HTTP plumbing -------------------------------------------------------------------------

    def _send(self, method: str, url: str, path: str, **kw: Any) -> requests.Response:
        """One HTTP request; network failures become ConnectionError naming the URL (fs.client
        retries what is safe to retry), an untrusted certificate CertificateVerificationError,
        a missing or refused Kerberos ticket KerberosError."""
        try:
            resp = self._session.request(
                method, url, timeout=(self.timeout, self.timeout), verify=self._verify, **kw
            )
        except self._auth_errors as e:  # e.g. no ticket: SPNEGO found no credentials
            raise errors.kerberos(path, str(e), self.properties) from e
        except _BROKEN as e:
            if isinstance(e, requests.exceptions.SSLError) and _CERT_FAILED in str(e):
                where = urlsplit(e.request.url if e.request is not None and e.request.url else url)
                raise self._untrusted(e, where, path) from e
            raise self._unreachable(e, url, path) from e
        if resp.status_code == 401 and self._kerberos:
            raise errors.kerberos(
                path, f"{urlsplit(url).netloc} answered 401 Unauthorized to SPNEGO", self.properties
            )
        return resp

    def _redirect(self, method: str, path: str, op: str, params: dict[str, Any]) -> str:
        """The datanode URL the namenode sends `op` to, asking again while it names a datanode
        that failed us recently (the namenode picks among the replicas' holders)."""
        now = time.monotonic()
        self._failed = {dn: t for dn, t in self._failed.items() if now - t < _FAILED_FOR}
        location = ""
        for _ in range(_REDIRECT_ASKS):
            resp = self._namenode(method, path, op, params, allow_redirects=False)
            check(resp, path)
            location = resp.headers.get("Location") or ""
            if not location:
                raise errors.make(
                    OSError, path, f"WebHDFS {op} answered {resp.status_code} without a redirect"
                )
            if urlsplit(location).netloc not in self._failed:
                break
        return location

    def _datanode_failed(self, url: str) -> None:
        """Avoid the datanode of `url` in redirects for a while."""
        self._failed[urlsplit(url).netloc] = time.monotonic()

    def _untrusted(
        self, e: requests.exceptions.SSLError, where: SplitResult, path: str
    ) -> errors.CertificateVerificationError:
        """The error for a server whose TLS certificate we do not trust (nothing was sent)."""
        reason = _CERT_REASON.search(str(e))
        trusted = f"the CA in {self._verify}" if isinstance(self._verify, str) else "system CAs"
        return errors.CertificateVerificationError(
            f"{path}: the TLS certificate of {where.scheme}://{where.netloc} failed verification "
            f"against {trusted} ({reason.group(1) if reason else 'certificate verify failed'}), "
            "so nothing was sent; trust the cluster's CA with ca_cert='/path/to/ca.pem', "
            f"HOPSFS_CA_CERT or {CA_PROPERTY} in hdfs-site.xml"
        )

    def _unreachable(self, e: requests.RequestException, url: str, path: str) -> ConnectionError:
        """The ConnectionError for a request that got no answer (names the server that failed)."""
        where = urlsplit(e.request.url if e.request is not None and e.request.url else url)
        if isinstance(e, requests.Timeout):
            why = f"no answer within {self.timeout:g}s"
        else:
            why = str(getattr(e.args[0], "reason", None) or e) if e.args else type(e).__name__
        return ConnectionError(
            f"{path}: cannot reach WebHDFS at {where.scheme}://{where.netloc} ({why}); check that "
            "the namenode/datanodes are up and webhdfs_url / HOPSFS_WEBHDFS_URL is right"
        )

    def _namenode(
        self, method: str, path: str, op: str, params: dict[str, Any], **kw: Any
    ) -> requests.Response:
        """`op` on `path` sent to the active namenode (see NameNodes.request)."""
        return self.namenodes.request(
            lambda base: self._send(method, self._url(base, path, op, params), path, **kw)
        )

    def _url(self, base: str, path: str, op: str, params: dict[str, Any]) -> str:
        """The URL of `op` on `path` at namenode `base` (None params dropped, booleans lower)."""
        query = {"op": op, **self._caller}
        for key, value in params.items():
            if value is not None:
                query[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return f"{base}{API}{quote(path, safe='/')}?{urlencode(query, quote_via=quote, safe='/')}"

    def _call(
        self, method: str, path: str, op: str, *, redirect: bool = True, **params: Any
    ) -> Any:
        """Run `op` on `path` and return its decoded JSON (None for an empty body)."""
        resp = self._namenode(method, path, op, params, allow_redirects=redirect)
        check(resp, path)
        return resp.json() if resp.content else None

    def _boolean(self, method: str, path: str, op: str, **params: Any) -> bool:
        """Run an op that answers {"boolean": ...}."""
        return bool(self._call(method, path, op, **params)["boolean"])

    # -- metadata ------------------------------------------------------------------------------

    def info(self, path: str) -> FileInfo:
        path = norm_path(path)
        return _file_info(path, self._call("GET", path, "GETFILESTATUS")["FileStatus"])

    def ls(self, path: str) -> list[FileInfo]:
        path = norm_path(path)
        statuses = self._call("GET", path, "LISTSTATUS")["FileStatuses"]["FileStatus"]
        return [_file_info(path, st) for st in statuses]

    def mkdir(self, path: str, *, parents: bool = True, permission: int | None = None) -> None:
        path = norm_path(path)
        if not parents:
            parent = posixpath.dirname(path)
            try:
                kind = self.info(parent)["type"]
            except FileNotFoundError as e:
                raise errors.make(FileNotFoundError, path, f"parent {parent} does not exist") from e
            if kind != "directory":
                raise errors.make(NotADirectoryError, path, f"parent {parent} is a file")
        if not self._boolean("PUT", path, "MKDIRS", **self._modes(permission, DIR_MODE)):
            raise errors.make(OSError, path, "MKDIRS returned false")

    def rm(self, path: str, *, recursive: bool = False) -> None:
        path = norm_path(path)
        if not self._boolean("DELETE", path, "DELETE", recursive=recursive):
            raise errors.make(
                FileNotFoundError, path, f"cannot delete {path}: no such file or directory"
            )

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        src, dst = norm_path(src), norm_path(dst)
        # with renameoptions Hadoop runs rename2: exact target, exceptions instead of `false`
        options = "OVERWRITE" if overwrite else "NONE"
        try:
            self._call("PUT", src, "RENAME", destination=dst, renameoptions=options)
        except FileNotFoundError as e:
            if self.exists(src):  # "rename destination parent ... not found"
                raise errors.make(
                    FileNotFoundError, dst, f"parent directory of {dst} does not exist"
                ) from e
            raise
        except FileExistsError as e:
            raise errors.make(FileExistsError, dst, f"cannot rename {src}: {dst} exists") from e
        except OSError as e:  # e.g. "Source ... and destination ... must both be directories"
            if type(e) is OSError and not overwrite and self.exists(dst):
                raise errors.make(FileExistsError, dst, f"cannot rename {src}: {dst} exists") from e
            raise

    def set_permission(self, path: str, mode: int) -> None:
        self._call("PUT", norm_path(path), "SETPERMISSION", permission=_octal(mode))

    def set_owner(self, path: str, owner: str | None = None, group: str | None = None) -> None:
        if owner is None and group is None:
            return
        self._call("PUT", norm_path(path), "SETOWNER", owner=owner, group=group)

    def set_replication(self, path: str, replication: int) -> None:
        path = norm_path(path)
        if not self._boolean("PUT", path, "SETREPLICATION", replication=replication):
            if self.info(path)["type"] == "directory":  # raises FileNotFoundError when missing
                raise errors.make(IsADirectoryError, path, "replication applies to files only")
            raise errors.make(OSError, path, "SETREPLICATION returned false")

    def set_times(self, path: str, mtime: float | None = None, atime: float | None = None) -> None:
        if mtime is None and atime is None:
            return
        self._call(
            "PUT",
            norm_path(path),
            "SETTIMES",
            modificationtime=_millis(mtime),
            accesstime=_millis(atime),
        )

    def modify_acl_entries(self, path: str, spec: list[str]) -> None:
        self._call("PUT", norm_path(path), "MODIFYACLENTRIES", aclspec=",".join(spec))

    def remove_acl_entries(self, path: str, spec: list[str]) -> None:
        # WebHDFS wants the (empty) permission field: "user:u:", not "user:u"
        names = [e if e.removeprefix("default:").count(":") == 2 else f"{e}:" for e in spec]
        self._call("PUT", norm_path(path), "REMOVEACLENTRIES", aclspec=",".join(names))

    def acl_entries(self, path: str) -> list[str]:
        entries = self._call("GET", norm_path(path), "GETACLSTATUS")["AclStatus"]["entries"]
        return [e for e in entries if not e.startswith("default:")]

    def content_summary(self, path: str) -> ContentSummary:
        cs = self._call("GET", norm_path(path), "GETCONTENTSUMMARY")["ContentSummary"]
        return ContentSummary(
            length=int(cs["length"]),
            file_count=int(cs["fileCount"]),
            directory_count=int(cs["directoryCount"]),
            space_consumed=int(cs["spaceConsumed"]),
            quota=int(cs.get("quota", -1)),
            space_quota=int(cs.get("spaceQuota", -1)),
        )

    def fs_status(self) -> FsStatus:
        """GETSTATUS: the NameNode's FsStatus."""
        status = self._call("GET", "/", "GETSTATUS")["FsStatus"]
        return FsStatus(capacity=int(status["capacity"]), used=int(status["used"]))

    def delegation_token(self, renewer: str | None = None) -> str:
        """GETDELEGATIONTOKEN: a new HDFS delegation token, as its URL string."""
        return self._call("GET", "/", "GETDELEGATIONTOKEN", renewer=renewer)["Token"]["urlString"]

    def checksum(self, path: str) -> str:
        """GETFILECHECKSUM's first `length` bytes in hex (bytesPerCRC, crcPerBlock, MD5), as
        `hdfs dfs -checksum` prints them (the JSON carries padding after them)."""
        fc = self._call("GET", norm_path(path), "GETFILECHECKSUM")["FileChecksum"]
        return str(fc["bytes"])[: 2 * int(fc["length"])].lower()

    def block_locations(
        self, path: str, start: int = 0, length: int | None = None
    ) -> list[BlockLocation]:
        """Blocks overlapping [start, start+length): GETFILEBLOCKLOCATIONS (Hadoop >= 3),
        else GET_BLOCK_LOCATIONS (Hadoop 2 / HopsFS)."""
        path = norm_path(path)
        if length is None:
            length = max(self.info(path)["size"] - start, 0)
        if length <= 0:
            return []
        try:
            body = self._call("GET", path, "GETFILEBLOCKLOCATIONS", offset=start, length=length)
        except OSError as e:
            if type(e) is not OSError or "GETFILEBLOCKLOCATIONS" not in str(e):
                raise  # only an unknown op (Hadoop 2, HopsFS) falls back
            return self._located_blocks(path, start, length)
        return [
            BlockLocation(
                offset=int(b["offset"]),
                length=int(b["length"]),
                hosts=list(b["hosts"]),
                names=list(b.get("names") or []),
            )
            for b in body["BlockLocations"]["BlockLocation"]
        ]

    def _located_blocks(self, path: str, start: int, length: int) -> list[BlockLocation]:
        """Block locations from the older GET_BLOCK_LOCATIONS op (LocatedBlocks JSON)."""
        body = self._call("GET", path, "GET_BLOCK_LOCATIONS", offset=start, length=length)[
            "LocatedBlocks"
        ]
        blocks = {b["startOffset"]: b for b in body.get("locatedBlocks") or []}
        last = body.get("lastLocatedBlock")
        if last:
            blocks.setdefault(last["startOffset"], last)
        located = [
            BlockLocation(
                offset=int(b["startOffset"]),
                length=int(b["block"]["numBytes"]),
                hosts=[loc.get("hostName") or loc["ipAddr"] for loc in b.get("locations", [])],
                names=[f"{loc['ipAddr']}:{loc['xferPort']}" for loc in b.get("locations", [])],
            )
            for _, b in sorted(blocks.items())
        ]
        return [
            b for b in located if b["offset"] < start + length and b["offset"] + b["length"] > start
        ]

    # -- data ----------------------------------------------------------------------------------

    def open_read(self, path: str) -> WebHdfsReader:
        path = norm_path(path)
        st = self.info(path)
        if st["type"] == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot open directory {path} for reading")
        return WebHdfsReader(self, path, st["size"])

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`, streamed by OPEN from a datanode.

        If the datanode dies mid-stream, the bytes received so far are returned (callers ask
        again for the rest, see fs.client) and the datanode is avoided from then on; with nothing
        received, DataNodeLostError (a ConnectionError).
        """
        location = self._redirect("GET", path, "OPEN", {"offset": offset, "length": length})
        try:
            resp = self._send("GET", location, path, stream=True)
        except ConnectionError as e:  # the NameNode answered: another DataNode may serve
            self._datanode_failed(location)
            raise errors.DataNodeLostError(*e.args) from e
        parts: list[bytes] = []
        with resp:
            check(resp, path)
            try:
                parts.extend(resp.iter_content(_READ_CHUNK))
            except _BROKEN as e:
                self._datanode_failed(location)
                got = sum(map(len, parts))
                if not got:
                    lost = self._unreachable(e, location, path)
                    raise errors.DataNodeLostError(*lost.args) from e
                log.warning(
                    "%s: the stream from %s broke after %d bytes (%s); resuming",
                    path,
                    urlsplit(location).netloc,
                    got,
                    e,
                )
        return b"".join(parts)

    def open_write(
        self,
        path: str,
        *,
        overwrite: bool = False,
        replication: int | None = None,
        blocksize: int | None = None,
        permission: int | None = None,
    ) -> BinaryIO:
        path = norm_path(path)
        try:
            st = self.info(path)
        except FileNotFoundError:
            pass
        else:  # fail at open, not after streaming the data
            if st["type"] == "directory":
                raise errors.make(IsADirectoryError, path, f"cannot write to directory {path}")
            if not overwrite:
                raise errors.make(FileExistsError, path, f"{path} exists")
        params = {"overwrite": overwrite, "replication": replication, "blocksize": blocksize}
        return self._upload("PUT", path, "CREATE", {**params, **self._modes(permission, FILE_MODE)})

    def _modes(self, permission: int | None, default: int) -> dict[str, str | None]:
        """The permission parameters of a new inode: `permission` as given, else `default` with
        the umask and without it, so the namenode trims it by the parent's default ACL if any."""
        if permission is not None:
            return {"permission": _octal(permission)}
        return {
            "permission": _octal(default & ~self.umask),
            "unmaskedpermission": _octal(default),
        }

    def append(self, path: str) -> BinaryIO:
        """A stream appending to the existing file `path` (not part of the Backend protocol)."""
        path = norm_path(path)
        if self.info(path)["type"] == "directory":
            raise errors.make(IsADirectoryError, path, f"cannot append to directory {path}")
        return self._upload("POST", path, "APPEND", {})

    def _upload(self, method: str, path: str, op: str, params: dict[str, Any]) -> BinaryIO:
        """Ask the namenode where to send the data (a 307 to a datanode), then stream it there."""
        location = self._redirect(method, path, op, params)
        return _Upload(self, method, location, path)  # type: ignore[return-value]

    def close(self) -> None:
        self._session.close()
        super().close()


class WebHdfsReader:
    """A RangeReader doing one OPEN&offset=&length= request per range."""

    def __init__(self, backend: WebHdfsBackend, path: str, size: int) -> None:
        self._backend = backend
        self.path = path
        self.size = size

    def read_range(self, offset: int, length: int) -> bytes:
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        return self._backend.read_range(self.path, offset, length)

    def close(self) -> None:
        pass


class _Upload(io.RawIOBase):
    """A write stream feeding a chunked PUT to the datanode from a background thread.

    Writes go through a bounded queue, so memory stays at a few MiB whatever the file size;
    close() ends the body and waits for the datanode to confirm the file.
    """

    def __init__(self, backend: WebHdfsBackend, method: str, url: str, path: str) -> None:
        super().__init__()
        self.path = path
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_UPLOAD_QUEUE)
        self._done = threading.Event()
        self._result: requests.Response | BaseException | None = None
        self._written = 0
        self._thread = threading.Thread(
            target=self._run,
            args=(backend, method, url),
            name=f"webhdfs-upload {path}",
            daemon=True,
        )
        self._thread.start()

    def _body(self) -> Iterator[bytes]:
        while (piece := self._queue.get()) is not None:
            yield piece

    def _run(self, backend: WebHdfsBackend, method: str, url: str) -> None:
        try:
            headers = {"Content-Type": "application/octet-stream"}
            self._result = backend._send(method, url, self.path, data=self._body(), headers=headers)
        except ConnectionError as e:  # the datanode went away: avoid it for the next attempt
            backend._datanode_failed(url)
            self._result = e
        except BaseException as e:  # noqa: BLE001 - handed to the writer thread by _raise
            self._result = e
        finally:
            self._done.set()

    def _put(self, piece: bytes | None) -> None:
        """Queue a piece, or fail as soon as the upload has ended early."""
        while True:
            if self._done.is_set():
                self._raise()
                raise errors.make(OSError, self.path, "the upload has already failed or ended")
            try:
                self._queue.put(piece, timeout=0.2)
                return
            except queue.Full:
                continue

    def _raise(self) -> None:
        """Raise the upload's failure, if any, once (close() after a failed write stays quiet)."""
        result, self._result = self._result, None
        if isinstance(result, BaseException):
            raise result
        if result is not None:
            check(result, self.path)

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError(f"write to closed file {self.path}")
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _UPLOAD_CHUNK):
            self._put(bytes(view[start : start + _UPLOAD_CHUNK]))
        self._written += len(view)
        return len(view)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._done.is_set():
                self._put(None)
            self._thread.join()
            self._raise()
        finally:
            super().close()


def check(resp: requests.Response, path: str) -> None:
    """Raise the Python builtin for a failed WebHDFS response (RemoteException or bare HTTP)."""
    if resp.status_code < 400:
        return
    try:
        remote = resp.json()["RemoteException"]
    except (ValueError, KeyError, TypeError):
        remote = None
    if remote:
        java = remote.get("exception") or ""
        message = remote.get("message") or java
        if java == "FileNotFoundException" and message.startswith("Path is not a file"):
            raise errors.make(IsADirectoryError, path, message)
        known = java if java in errors.JAVA_EXCEPTIONS else errors.java_class_name(message)
        raise errors.translate(known, message if known else f"{java}: {message}", path)
    where = urlsplit(resp.url)
    detail = (
        f"HTTP {resp.status_code} {resp.reason} from {where.scheme}://{where.netloc}{where.path}"
    )
    if resp.status_code in (401, 403):
        raise errors.make(PermissionError, path, f"{detail}: authentication/authorization refused")
    if resp.status_code == 404:
        raise errors.make(FileNotFoundError, path, f"{detail}: is webhdfs_url a WebHDFS endpoint?")
    raise errors.make(OSError, path, f"{detail}: {resp.text[:200]}")


def _file_info(parent: str, st: dict[str, Any]) -> FileInfo:
    """A FileInfo from a WebHDFS FileStatus (`parent` is the listed path)."""
    suffix = st.get("pathSuffix") or ""
    is_dir = st.get("type") == "DIRECTORY"
    return FileInfo(
        name=posixpath.join(parent, suffix) if suffix else parent,
        size=0 if is_dir else int(st.get("length", 0)),
        type="directory" if is_dir else "file",
        mtime=st.get("modificationTime", 0) / 1000,
        atime=st.get("accessTime", 0) / 1000,
        permission=int(st.get("permission", "0"), 8) & 0o7777,
        owner=st.get("owner", ""),
        group=st.get("group", ""),
        replication=int(st.get("replication", 0)),
        blocksize=int(st.get("blockSize", 0)),
    )


def _octal(mode: int | None) -> str | None:
    return None if mode is None else format(mode & 0o7777, "o")


def _millis(seconds: float | None) -> int:
    return -1 if seconds is None else round(seconds * 1000)
