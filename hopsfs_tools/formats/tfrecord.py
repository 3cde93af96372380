"""TFRecord framing over any binary file object, byte-compatible with TensorFlow, without TF.

A record is: uint64 length (little-endian), masked CRC32C of those 8 bytes, the data, masked
CRC32C of the data. Files may be GZIP or ZLIB compressed as a whole (TF's compression_type).
CRC32C comes from google-crc32c's C implementation.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any, Literal, Self

import google_crc32c

Compression = Literal["GZIP", "ZLIB"] | None

READ_CHUNK = 8 * 2**20  # bytes read per refill: 8 MiB, as HopsFS's TF readers use
WRITE_CHUNK = 2**20  # records are written (and compressed) in batches of about 1 MiB
_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")  # length, masked crc32c of the length
_FOOTER = struct.Struct("<I")  # masked crc32c of the data
_LENGTH = struct.Struct("<Q")
_WBITS = {"GZIP": 16 + zlib.MAX_WBITS, "ZLIB": zlib.MAX_WBITS}
_crc = google_crc32c.cext.value if google_crc32c.implementation == "c" else google_crc32c.value


class TFRecordError(ValueError):
    """A TFRecord file is corrupt or truncated; `name` and `offset` say where."""

    def __init__(
        self, name: str, offset: int, problem: str, unit: str = "byte offset", hint: str = ""
    ) -> None:
        where = f"{problem} in TFRecord file {name} at {unit} {offset}"
        super().__init__(f"{where} ({hint})" if hint else where)
        self.name, self.offset = name, offset


# What to do about a bad file (the ends of TFRecordError messages).
DAMAGED = "the file is damaged: rewrite it from its source"
CUT_SHORT = "the file was cut short, e.g. by an interrupted copy: rewrite it"
MAYBE_COMPRESSED = (
    "if the file is compressed, pass compression='GZIP' or 'ZLIB'; otherwise it is damaged"
)
MAYBE_NOT_COMPRESSED = (
    "if the file is not compressed, pass compression=None; otherwise it is damaged"
)


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C of `data`."""
    crc = _crc(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def compression_of(compression: str | None) -> Compression:
    """ "GZIP", "ZLIB" or None from TF's spellings ("", "gzip", None, ...)."""
    if not compression:
        return None
    upper = compression.upper()
    if upper not in _WBITS:
        raise ValueError(
            f"unknown TFRecord compression {compression!r}: use None, 'GZIP' or 'ZLIB'"
        )
    return upper  # type: ignore[return-value]


def encode_record(data: bytes) -> bytes:
    """One framed record."""
    length = _LENGTH.pack(len(data))
    return b"".join(
        (length, _FOOTER.pack(masked_crc32c(length)), data, _FOOTER.pack(masked_crc32c(data)))
    )


class TFRecordWriter:
    """Write TFRecords to a binary file object; close() finishes the stream, not the file object."""

    def __init__(self, fileobj: IO[bytes], compression: str | None = None, level: int = -1) -> None:
        self.fileobj = fileobj
        kind = compression_of(compression)
        # memLevel 9 as TF's ZlibCompressionOptions, so output matches tf.io.TFRecordWriter's
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, _WBITS[kind], 9) if kind else None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.closed = False

    def write(self, record: bytes) -> None:
        """Append one record."""
        if self.closed:
            raise ValueError("write to a closed TFRecordWriter")
        framed = encode_record(bytes(record))
        self._pending.append(framed)
        self._pending_size += len(framed)
        if self._pending_size >= WRITE_CHUNK:
            self._drain()

    def write_all(self, records: Iterable[bytes]) -> int:
        """Append many records; returns how many."""
        count = 0
        for record in records:
            self.write(record)
            count += 1
        return count

    def _drain(self) -> None:
        data = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        if self._compressor is not None:
            data = self._compressor.compress(data)
        if data:
            self.fileobj.write(data)

    def flush(self) -> None:
        """Hand everything written so far to the file object (a compressed stream stays open)."""
        self._drain()
        if self._compressor is not None:
            self.fileobj.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self.fileobj.flush()

    def close(self) -> None:
        """Write what is pending and end the compressed stream; the file object stays open."""
        if self.closed:
            return
        self._drain()
        if self._compressor is not None:
            self.fileobj.write(self._compressor.flush(zlib.Z_FINISH))
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a GZIP (possibly multi-member) or ZLIB stream."""

    def __init__(self, fileobj: IO[bytes], kind: str, name: str) -> None:
        super().__init__()
        self._src, self._wbits, self._name = fileobj, _WBITS[kind], name
        self._inflater = zlib.decompressobj(self._wbits)
        self._consumed = 0  # compressed bytes fed so far, for error messages

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = READ_CHUNK if size is None or size < 0 else size
        while True:
            tail = self._inflater.unconsumed_tail
            if self._inflater.eof:
                rest = self._inflater.unused_data or self._src.read(READ_CHUNK)
                if not rest:
                    return b""
                self._inflater = zlib.decompressobj(self._wbits)  # next gzip member
                tail = rest
            elif not tail:
                tail = self._src.read(READ_CHUNK)
                if not tail:
                    raise TFRecordError(
                        self._name,
                        self._consumed,
                        "truncated compressed stream (no end marker)",
                        hint=CUT_SHORT,
                    )
            try:
                out = self._inflater.decompress(tail, size)
            except zlib.error as e:
                hint = MAYBE_NOT_COMPRESSED if self._consumed == 0 else DAMAGED
                raise TFRecordError(
                    self._name, self._consumed, f"corrupt compressed data ({e})", hint=hint
                ) from None
            self._consumed += len(tail) - len(self._inflater.unconsumed_tail)
            if out:
                return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_record_batches(
    fileobj: IO[bytes],
    *,
    compression: str | None = None,
    verify: bool = True,
    name: str | None = None,
    chunk_size: int = READ_CHUNK,
) -> Iterator[list[bytes]]:
    """The records of a TFRecord stream, as one list per `chunk_size` read (fewer Python calls).

    Raises TFRecordError (a ValueError) naming the file and the (uncompressed) byte offset of a
    record whose CRC does not match (when `verify`) or that the stream cuts short.
    """
    name = name or str(getattr(fileobj, "path", None) or getattr(fileobj, "name", "<stream>"))
    kind = compression_of(compression)
    src: IO[bytes] = _Decompressed(fileobj, kind, name) if kind else fileobj  # type: ignore[assignment]
    unit = "uncompressed byte offset" if kind else "byte offset"
    buf, pos, base = b"", 0, 0  # base: stream offset of buf[0]
    while True:
        more = src.read(chunk_size)
        if more:
            buf, base, pos = buf[pos:] + more, base + pos, 0
        end, batch = len(buf), []
        while end - pos >= 12:
            length, length_crc = _HEADER.unpack_from(buf, pos)
            if verify and masked_crc32c(buf[pos : pos + 8]) != length_crc:
                hint = MAYBE_COMPRESSED if base + pos == 0 and not kind else DAMAGED
                raise TFRecordError(
                    name, base + pos, "corrupt record length (CRC mismatch)", unit, hint
                )
            stop = pos + 16 + length
            if stop > end:
                if more and not batch:  # one record larger than a chunk: read all of it
                    chunk_size = max(chunk_size, stop - end)
                break
            data = buf[pos + 12 : stop - 4]
            if verify and masked_crc32c(data) != _FOOTER.unpack_from(buf, stop - 4)[0]:
                raise TFRecordError(
                    name, base + pos, "corrupt record data (CRC mismatch)", unit, DAMAGED
                )
            batch.append(data)
            pos = stop
        if batch:
            yield batch
        if more:
            continue
        if pos < end:
            raise _truncated(buf, pos, name, base, unit)
        return


def record_pieces(
    fileobj: IO[bytes], *, name: str | None = None, chunk_size: int = READ_CHUNK
) -> Iterator[tuple[int, memoryview]]:
    """An uncompressed TFRecord stream cut at record boundaries: (offset, bytes) pieces of about
    `chunk_size` bytes, each a valid TFRecord file on its own (a record larger than a chunk makes
    a larger piece).

    Only what cutting needs is checked here (TFRecordError naming the file and offset): the length
    CRC of a record that crosses a chunk's end, so a corrupt length never makes us read ahead,
    and truncation. Every other CRC is left to whoever reads the pieces (TF's reader checks all).
    """
    name = name or str(getattr(fileobj, "path", None) or getattr(fileobj, "name", "<stream>"))
    carry, base = b"", 0  # carry: the start of a record the last piece did not hold
    want, length_at = chunk_size, _LENGTH.unpack_from  # (a local: this loop runs per record)
    while True:
        more = fileobj.read(want)
        buf = carry + more if carry else more
        pos, end, want = 0, len(buf), chunk_size
        while end - pos >= 12:
            stop = pos + 16 + length_at(buf, pos)[0]
            if stop > end:  # a record this chunk cuts: trust its length only if its CRC agrees
                length_crc = _HEADER.unpack_from(buf, pos)[1]
                if masked_crc32c(buf[pos : pos + 8]) != length_crc:
                    hint = MAYBE_COMPRESSED if base + pos == 0 else DAMAGED
                    raise TFRecordError(
                        name, base + pos, "corrupt record length (CRC mismatch)", hint=hint
                    )
                if not pos:  # one record larger than a chunk: read the rest of it at once
                    want = max(chunk_size, stop - end)
                break
            pos = stop
        if pos:
            yield base, memoryview(buf)[:pos]
        if not more:
            if pos < end:
                raise _truncated(buf, pos, name, base, "byte offset")
            return
        carry, base = buf[pos:], base + pos


def _truncated(buf: bytes, pos: int, name: str, base: int, unit: str) -> TFRecordError:
    """The error for a stream that ends inside the record starting at buf[pos]."""
    problem = "truncated record header"
    if len(buf) - pos >= 12:
        length = _HEADER.unpack_from(buf, pos)[0]
        problem = f"truncated record ({len(buf) - pos} of {16 + length} bytes present)"
    return TFRecordError(name, base + pos, problem, unit, CUT_SHORT)


def read_records(
    fileobj: IO[bytes],
    *,
    compression: str | None = None,
    verify: bool = True,
    name: str | None = None,
) -> Iterator[bytes]:
    """The records of a TFRecord stream, one at a time (see read_record_batches)."""
    for batch in read_record_batches(fileobj, compression=compression, verify=verify, name=name):
        yield from batch


__all__ = [
    "TFRecordError",
    "TFRecordWriter",
    "compression_of",
    "encode_record",
    "masked_crc32c",
    "read_record_batches",
    "read_records",
    "record_pieces",
]
