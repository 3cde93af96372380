"""Hadoop's token file and WebHDFS's token URL string, against a token file Hadoop wrote."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from hopsfs_tools.hadoop import tokens

# A token file written by Hadoop's Java client (`hdfs fetchdt`, Writable format), as published in
# hdfs-native's tests (rust/src/security/user.rs, test_load_writable_token).
HADOOP_WRITTEN = base64.b64decode(
    "SERUUwABDjEyNy4wLjAuMTo5MDAwLgAaaGRmcy9sb2NhbGhvc3RARVhBTVBMRS5DT00AAIoBiX/hghSKAYmj7gYU"
    "AQIUadF4ni3ObKqU8niv40WBFsGhFm4VSERGU19ERUxFR0FUSU9OX1RPS0VODjEyNy4wLjAuMTo5MDAwAA=="
)


@pytest.fixture
def hadoop_file(tmp_path: Path) -> Path:
    path = tmp_path / "hadoop.tokens"
    path.write_bytes(HADOOP_WRITTEN)
    return path


def test_reads_a_file_hadoop_wrote(hadoop_file: Path) -> None:
    (token,) = tokens.read_token_file(hadoop_file)
    assert (token.kind, token.service, token.alias) == (
        "HDFS_DELEGATION_TOKEN",
        "127.0.0.1:9000",
        "127.0.0.1:9000",
    )
    info = token.describe()
    assert info["owner"] == "hdfs/localhost@EXAMPLE.COM"
    assert info["issued"] < info["max_date"]
    assert tokens.hdfs_token(hadoop_file) == token


def test_writes_what_hadoop_writes(hadoop_file: Path, tmp_path: Path) -> None:
    """Byte for byte: our Writable encoding (vlongs, Text) is Hadoop's."""
    written = tokens.write_token_file(tmp_path / "ours", tokens.read_token_file(hadoop_file))
    assert written.read_bytes() == HADOOP_WRITTEN
    assert written.stat().st_mode & 0o777 == 0o600


def test_url_string_round_trip(hadoop_file: Path) -> None:
    token = tokens.hdfs_token(hadoop_file)
    text = token.url_string()
    assert "=" not in text and "+" not in text and "/" not in text  # URL-safe, unpadded
    assert tokens.Token.from_url_string(text) == token
    with pytest.raises(ValueError, match="not a Hadoop token URL string"):
        tokens.Token.from_url_string("bm90IGEgdG9rZW4")


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def _proto(number: int, value: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def test_reads_the_protobuf_format(hadoop_file: Path, tmp_path: Path) -> None:
    """Format byte 1: a length-delimited CredentialsProto (Hadoop 3's other token file format)."""
    token = tokens.hdfs_token(hadoop_file)
    token_proto = b"".join(
        _proto(n, v)
        for n, v in (
            (1, token.identifier),
            (2, token.password),
            (3, token.kind.encode()),
            (4, token.service.encode()),
        )
    )
    kv = _proto(1, b"alias") + _proto(2, token_proto)
    message = _proto(1, kv) + _proto(2, _proto(1, b"secret-alias"))  # + one secret key
    path = tmp_path / "proto.tokens"
    path.write_bytes(tokens.MAGIC + b"\x01" + _varint(len(message)) + message)
    (read,) = tokens.read_token_file(path)
    assert read == tokens.Token(
        token.identifier, token.password, token.kind, token.service, "alias"
    )


@pytest.mark.parametrize(
    "value,encoded",
    [(0, b"\x00"), (127, b"\x7f"), (-112, b"\x90"), (128, b"\x8f\x80"), (-113, b"\x87\x70")],
)
def test_vlong_is_hadoops(value: int, encoded: bytes) -> None:
    out = io.BytesIO()
    tokens._write_vlong(out, value)
    assert out.getvalue() == encoded
    assert tokens._read_vlong(io.BytesIO(encoded)) == value


def test_not_a_token_file(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"PK\x03\x04 not tokens")
    with pytest.raises(ValueError, match="not a Hadoop token file"):
        tokens.read_token_file(path)
    cut = tmp_path / "cut"
    cut.write_bytes(HADOOP_WRITTEN[:60])
    with pytest.raises(ValueError, match=f"{cut} is a damaged Hadoop token file"):
        tokens.read_token_file(cut)
    empty = tokens.write_token_file(tmp_path / "empty", [])
    with pytest.raises(ValueError, match="holds no HDFS_DELEGATION_TOKEN"):
        tokens.hdfs_token(empty)
