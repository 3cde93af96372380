"""HDFS delegation tokens: Hadoop's token file (`Credentials`, what HADOOP_TOKEN_FILE_LOCATION
names) and WebHDFS's URL string, read, written and fetched with the Java client.

A delegation token lets a process without a Kerberos ticket (a YARN container, a Spark
executor) act as the user who fetched it, until it expires. Hadoop writes a token file as
"HDTS", a format byte (0: Writable, 1: protobuf) and the tokens; WebHDFS passes one token as
`delegation=<url string>`, the URL-safe base64 of the token's Writable form (Token.encodeToUrlString).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hopsfs_tools.config import settings
from hopsfs_tools.hadoop.jars import hadoop_jars

VARIABLE = settings.ENVIRONMENT["token_file"]  # HADOOP_TOKEN_FILE_LOCATION
HDFS_KIND = "HDFS_DELEGATION_TOKEN"
MAGIC = b"HDTS"
FETCHER = "org.apache.hadoop.hdfs.tools.DelegationTokenFetcher"
_WRITABLE, _PROTOBUF = 0, 1


@dataclass(frozen=True)
class Token:
    """One Hadoop token: its identifier and password (the secret), kind and service."""

    identifier: bytes
    password: bytes
    kind: str
    service: str  # "host:port" of the NameNode it was issued by ("ha-hdfs:ns" for HA)
    alias: str = ""

    def url_string(self) -> str:
        """The token as WebHDFS's `delegation=` parameter (Token.encodeToUrlString)."""
        out = io.BytesIO()
        for field in (self.identifier, self.password):
            _write_vlong(out, len(field))
            out.write(field)
        for text in (self.kind, self.service):
            _write_text(out, text)
        return base64.urlsafe_b64encode(out.getvalue()).rstrip(b"=").decode()

    @classmethod
    def from_url_string(cls, text: str) -> Token:
        """The token WebHDFS's GETDELEGATIONTOKEN answers as `urlString`."""
        try:
            raw = io.BytesIO(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            fields = [_read_bytes(raw) for _ in range(2)]
            kind, service = _read_text(raw), _read_text(raw)
        except (ValueError, IndexError) as e:
            raise ValueError(f"not a Hadoop token URL string ({e}): {text[:40]}...") from None
        return cls(fields[0], fields[1], kind, service, alias=service)

    def describe(self) -> dict[str, object]:
        """Owner, renewer and expiry of a delegation token (its identifier, decoded)."""
        raw = io.BytesIO(self.identifier)
        raw.read(1)  # identifier version
        owner, renewer, real_user = (_read_text(raw) for _ in range(3))
        issued, max_date = (_read_vlong(raw) for _ in range(2))
        return {
            "kind": self.kind,
            "service": self.service,
            "owner": owner,
            "renewer": renewer,
            "real_user": real_user,
            "issued": _iso(issued),
            "max_date": _iso(max_date),
        }


def read_token_file(path: str | os.PathLike) -> list[Token]:
    """The tokens in a Hadoop token file (Writable or protobuf format)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC or len(data) < 5 or data[4] not in (_WRITABLE, _PROTOBUF):
        raise ValueError(
            f"{path} is not a Hadoop token file (it must start with HDTS and a format byte 0 or "
            "1): fetch one with `hopsfs-tools token fetch FILE` or `hdfs fetchdt FILE`"
        )
    raw = io.BytesIO(data[5:])
    try:
        return _read_protobuf(raw) if data[4] == _PROTOBUF else _read_writable(raw)
    except ValueError as e:
        raise ValueError(
            f"{path} is a damaged Hadoop token file ({e}): fetch a new one with "
            "`hopsfs-tools token fetch FILE`"
        ) from None


def _read_writable(raw: io.BytesIO) -> list[Token]:
    """Credentials.readFields: a vint count, then (Text alias, Token) pairs."""
    tokens = []
    for _ in range(_read_vlong(raw)):
        alias = _read_text(raw)
        fields = [_read_bytes(raw) for _ in range(2)]
        tokens.append(Token(fields[0], fields[1], _read_text(raw), _read_text(raw), alias))
    return tokens


def write_token_file(path: str | os.PathLike, tokens: list[Token]) -> Path:
    """Write `tokens` as a Hadoop token file (Writable format, read by every Hadoop version and
    hdfs-native), mode 0600 via a temporary file and rename: it is a secret."""
    out = io.BytesIO()
    out.write(MAGIC + bytes([_WRITABLE]))
    _write_vlong(out, len(tokens))
    for token in tokens:
        _write_text(out, token.alias or token.service)
        for field in (token.identifier, token.password):
            _write_vlong(out, len(field))
            out.write(field)
        _write_text(out, token.kind)
        _write_text(out, token.service)
    _write_vlong(out, 0)  # no secret keys
    target = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(out.getvalue())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def hdfs_token(path: str | os.PathLike) -> Token:
    """The HDFS delegation token in a token file (the first, if several)."""
    found = [t for t in read_token_file(path) if t.kind == HDFS_KIND]
    if not found:
        raise ValueError(f"{path} holds no {HDFS_KIND}: fetch one with `hopsfs-tools token fetch`")
    return found[0]


def require_environment(token_file: str | None, backend: str) -> None:
    """ValueError unless `token_file` is the one HADOOP_TOKEN_FILE_LOCATION names: the client
    library of `backend` (hdfs-native, the libhdfs JVM) reads it only from the environment."""
    exported = settings.env(VARIABLE)
    same = exported and Path(exported).expanduser().resolve() == Path(token_file or "").resolve()
    if token_file and not same:
        raise ValueError(
            f"token_file={token_file!r}: the {backend} backend reads delegation tokens only from "
            f"the environment: export {VARIABLE}={token_file} before the first {backend} "
            "filesystem of the process, or use backend='webhdfs'"
        )


def fetch_with_java(
    path: str | os.PathLike, conf_dir: str, renewer: str | None = None, timeout: float = 120.0
) -> Path:
    """Fetch a delegation token into `path` with Hadoop's own Java client (`hdfs fetchdt`): the
    JVM logs in from the ticket cache (KRB5CCNAME) and asks the NameNode of `conf_dir`."""
    target = Path(path).expanduser().resolve()
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError(
            "`java` is not on PATH: install a JDK (e.g. `apt-get install openjdk-17-jdk-headless`)"
            " or fetch the token with via='webhdfs'"
        )
    cmd = [java, "-Djava.net.preferIPv4Stack=true"]
    krb5_conf = settings.java().krb5_config
    if krb5_conf:  # Java reads only /etc/krb5.conf unless told
        cmd.append(f"-Djava.security.krb5.conf={krb5_conf.split(os.pathsep)[0]}")
    classpath = os.pathsep.join([conf_dir, str(hadoop_jars() / "*")])
    cmd += ["-cp", classpath, FETCHER, *(["--renewer", renewer] if renewer else []), str(target)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not target.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise PermissionError(
            f"{FETCHER} could not fetch a delegation token into {target} (exit "
            f"{proc.returncode}); a Kerberos ticket is needed (`kinit`, KRB5CCNAME):\n{tail}"
        )
    target.chmod(0o600)
    return target


# -- Hadoop's Writable encodings (WritableUtils.writeVLong, Text) --------------------------------


def _write_vlong(out: io.BytesIO, value: int) -> None:
    if -112 <= value <= 127:
        out.write(value.to_bytes(1, "big", signed=True))
        return
    length = -112
    if value < 0:
        value ^= -1
        length = -120
    size = (value.bit_length() + 7) // 8
    out.write((length - size).to_bytes(1, "big", signed=True))
    out.write(value.to_bytes(size, "big"))


def _read_vlong(raw: io.BytesIO) -> int:
    first = raw.read(1)
    if not first:
        raise ValueError("truncated")
    head = int.from_bytes(first, "big", signed=True)
    if head >= -112:
        return head
    size = (-119 - head) if head < -120 else (-111 - head)
    body = raw.read(size - 1)
    if len(body) != size - 1:
        raise ValueError("truncated")
    value = int.from_bytes(body, "big")
    return value ^ -1 if head < -120 else value


def _read_bytes(raw: io.BytesIO) -> bytes:
    """A vint length and that many bytes (a token's identifier or password)."""
    size = _read_vlong(raw)
    data = raw.read(size)
    if size < 0 or len(data) != size:
        raise ValueError("truncated")
    return data


def _write_text(out: io.BytesIO, text: str) -> None:
    data = text.encode()
    _write_vlong(out, len(data))
    out.write(data)


def _read_text(raw: io.BytesIO) -> str:
    return _read_bytes(raw).decode()


# -- the protobuf format (CredentialsProto, length-delimited) ------------------------------------


def _read_protobuf(raw: io.BytesIO) -> list[Token]:
    """CredentialsProto{repeated CredentialsKVProto tokens = 1}, each {alias = 1, TokenProto
    token = 2}, TokenProto{identifier = 1, password = 2, kind = 3, service = 4}."""
    message = raw.read(_varint(raw))
    tokens = []
    for number, kv in _fields(message):
        if number != 1:  # 2: secret keys
            continue
        entry = dict(_fields(kv))
        token = dict(_fields(entry.get(2, b"")))
        tokens.append(
            Token(
                token.get(1, b""),
                token.get(2, b""),
                token.get(3, b"").decode(),
                token.get(4, b"").decode(),
                entry.get(1, b"").decode(),
            )
        )
    return tokens


def _varint(raw: io.BytesIO) -> int:
    value = shift = 0
    while byte := raw.read(1):
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
    raise ValueError("truncated varint")


def _fields(message: bytes) -> list[tuple[int, bytes]]:
    """The length-delimited fields of a protobuf message (the only wire type these use)."""
    raw, out = io.BytesIO(message), []
    while raw.tell() < len(message):
        key = _varint(raw)
        if key & 7 != 2:
            raise ValueError(f"unexpected protobuf wire type {key & 7} in a token file")
        out.append((key >> 3, raw.read(_varint(raw))))
    return out


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="seconds")
