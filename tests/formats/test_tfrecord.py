"""TFRecord framing (hopsfs_tools.formats.tfrecord) on the real cluster; interop with TensorFlow."""

from __future__ import annotations

import gzip
import io
import itertools
import os
import random
import zlib

import pytest

from hopsfs_tools.formats.tfrecord import (
    TFRecordError,
    TFRecordWriter,
    encode_record,
    masked_crc32c,
    read_record_batches,
    read_records,
    record_pieces,
)
from hopsfs_tools.fs import HopsFileSystem

COMPRESSIONS = [None, "GZIP", "ZLIB"]


@pytest.fixture(scope="module")
def fs(cluster) -> HopsFileSystem:
    return HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def sample_records(count: int = 300, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    records = [rng.randbytes(rng.choice([0, 1, 17, 1000, 5000])) for _ in range(count)]
    return records + [rng.randbytes(3 * 2**20)]  # one record larger than a small read chunk


def write_hdfs(
    fs: HopsFileSystem, path: str, records: list[bytes], compression: str | None
) -> None:
    with fs.open(path, "wb") as f, TFRecordWriter(f, compression) as writer:
        assert writer.write_all(records) == len(records)


def decompress(data: bytes, compression: str | None) -> bytes:
    if compression == "GZIP":
        return gzip.decompress(data)
    return zlib.decompress(data) if compression == "ZLIB" else data


def test_masked_crc_matches_the_tfrecord_spec():
    crc = 0xE3069283  # CRC32C("123456789"), the standard check value
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"123456789") == masked
    assert masked_crc32c(b"") == 0xA282EAD8
    framed = encode_record(b"abc")
    assert framed[:8] == (3).to_bytes(8, "little") and framed[12:15] == b"abc"
    assert len(framed) == 3 + 16


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_round_trip_on_hdfs(fs, hdfs_dir, compression):
    records = sample_records()
    path = f"{hdfs_dir}/data.tfrecord"
    write_hdfs(fs, path, records, compression)
    with fs.open(path, "rb") as f:
        assert list(read_records(f, compression=compression)) == records
    # small read chunks: records and headers straddle chunk boundaries everywhere
    with fs.open(path, "rb") as f:
        batches = list(read_record_batches(f, compression=compression, chunk_size=4093))
    assert [r for b in batches for r in b] == records
    assert 1 < len(batches) < len(records)  # batched, not one call per record


def test_empty_stream_has_no_records(fs, hdfs_dir):
    for compression in COMPRESSIONS:
        path = f"{hdfs_dir}/empty-{compression}"
        write_hdfs(fs, path, [], compression)
        with fs.open(path, "rb") as f:
            assert list(read_records(f, compression=compression)) == []


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_tensorflow_reads_what_we_write(tf, fs, hdfs_dir, tmp_path, compression):
    records = sample_records(200)
    write_hdfs(fs, f"{hdfs_dir}/ours", records, compression)
    local = tmp_path / "ours.tfrecord"
    fs.get_file(f"{hdfs_dir}/ours", str(local))
    dataset = tf.data.TFRecordDataset(str(local), compression_type=compression or "")
    assert [r.numpy() for r in dataset] == records
    # byte for byte what TF writes (compressed: the same record stream inside)
    theirs = tmp_path / "theirs.tfrecord"
    with tf.io.TFRecordWriter(str(theirs), options=compression or "") as writer:
        for record in records:
            writer.write(record)
    assert decompress(local.read_bytes(), compression) == decompress(
        theirs.read_bytes(), compression
    )
    if compression is None:
        assert local.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_we_read_what_tensorflow_writes(tf, fs, hdfs_dir, tmp_path, compression):
    records = sample_records(200, seed=11)
    local = tmp_path / "theirs.tfrecord"
    with tf.io.TFRecordWriter(str(local), options=compression or "") as writer:
        for record in records:
            writer.write(record)
    fs.put_file(str(local), f"{hdfs_dir}/theirs")
    with fs.open(f"{hdfs_dir}/theirs", "rb") as f:
        assert list(read_records(f, compression=compression)) == records


def corrupt(fs: HopsFileSystem, path: str, at: int) -> None:
    data = bytearray(fs.cat_file(path))
    data[at] ^= 0x40
    fs.pipe_file(path, bytes(data))


def record_offsets(records: list[bytes]) -> list[int]:
    offsets, at = [], 0
    for record in records:
        offsets.append(at)
        at += len(record) + 16
    return offsets


def read_all(fs: HopsFileSystem, path: str, **kwargs) -> list[bytes]:
    with fs.open(path, "rb") as f:
        return list(read_records(f, **kwargs))


def test_corrupt_data_names_file_and_offset(fs, hdfs_dir):
    records = sample_records(50)
    offsets = record_offsets(records)
    path = f"{hdfs_dir}/bad-data.tfrecord"
    write_hdfs(fs, path, records, None)
    k = next(i for i, r in enumerate(records) if i > 10 and len(r) > 100)
    corrupt(fs, path, offsets[k] + 12 + 50)  # a data byte of record k
    with pytest.raises(TFRecordError, match="data") as info:
        read_all(fs, path)
    assert isinstance(info.value, ValueError)
    assert info.value.offset == offsets[k] and info.value.name == path
    assert path in str(info.value) and f"byte offset {offsets[k]}" in str(info.value)
    assert len(read_all(fs, path, verify=False)) == len(records)  # verify=False skips CRCs


def test_corrupt_length_names_offset(fs, hdfs_dir):
    records = sample_records(50)
    offsets = record_offsets(records)
    path = f"{hdfs_dir}/bad-length.tfrecord"
    write_hdfs(fs, path, records, None)
    corrupt(fs, path, offsets[20] + 2)  # a length byte of record 20
    with pytest.raises(TFRecordError, match="length") as info:
        read_all(fs, path)
    assert info.value.offset == offsets[20] and path in str(info.value)


@pytest.mark.parametrize("cut", [5, 14, 200])  # inside a header, inside the length CRC, inside data
def test_truncated_file_names_offset(fs, hdfs_dir, cut):
    records = [os.urandom(1000) for _ in range(10)]
    offsets = record_offsets(records)
    path = f"{hdfs_dir}/truncated.tfrecord"
    write_hdfs(fs, path, records, None)
    fs.pipe_file(path, fs.cat_file(path)[: offsets[7] + cut])
    with pytest.raises(TFRecordError, match="truncated") as info:
        read_all(fs, path)
    assert info.value.offset == offsets[7] and path in str(info.value)


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_truncated_compressed_file(fs, hdfs_dir, compression):
    path = f"{hdfs_dir}/truncated.gz"
    write_hdfs(fs, path, [os.urandom(5000) for _ in range(20)], compression)
    fs.pipe_file(path, fs.cat_file(path)[:-30])
    with pytest.raises(TFRecordError, match="truncated") as info:
        read_all(fs, path, compression=compression)
    assert path in str(info.value)


def test_concatenated_gzip_members_read_as_one_stream():
    parts = [io.BytesIO(), io.BytesIO()]
    for i, part in enumerate(parts):
        with TFRecordWriter(part, "GZIP") as writer:
            writer.write(f"member {i}".encode())
    joined = io.BytesIO(parts[0].getvalue() + parts[1].getvalue())
    assert list(read_records(joined, compression="gzip")) == [b"member 0", b"member 1"]


def test_unknown_compression_is_refused():
    with pytest.raises(ValueError, match="GZIP"):
        TFRecordWriter(io.BytesIO(), "snappy")


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 20])
def test_record_pieces_cut_at_record_boundaries(fs, hdfs_dir, chunk):
    records = [bytes([i % 251]) * (i * 37 % 3000) for i in range(300)]  # some larger than a chunk
    path = f"{hdfs_dir}/pieces.tfrecord"
    with fs.open(path, "wb") as f, TFRecordWriter(f) as writer:
        writer.write_all(records)
    data = fs.cat_file(path)
    with fs.open(path, "rb") as f:
        pieces = [(offset, bytes(piece)) for offset, piece in record_pieces(f, chunk_size=chunk)]
    assert b"".join(piece for _, piece in pieces) == data
    assert [offset for offset, _ in pieces] == list(
        itertools.accumulate([0] + [len(p) for _, p in pieces[:-1]])
    )
    assert len(pieces) > 1 if chunk < len(data) else len(pieces) == 1
    parsed = [r for _, piece in pieces for r in read_records(io.BytesIO(piece))]  # each whole
    assert parsed == records


def test_record_pieces_name_the_file_and_offset_of_bad_framing(fs, hdfs_dir):
    path = f"{hdfs_dir}/bad.tfrecord"
    good = b"".join(encode_record(b"y" * 100) for _ in range(5))
    fs.pipe_file(path, good[:-7])  # the last record cut short
    with (
        fs.open(path, "rb") as f,
        pytest.raises(TFRecordError, match=rf"{path} at byte offset 464"),
    ):
        list(record_pieces(f, name=path, chunk_size=200))
    bad = bytearray(good)
    bad[2 * 116 + 1] ^= 1  # the length of record 2
    fs.pipe_file(path, bytes(bad))
    with fs.open(path, "rb") as f, pytest.raises(TFRecordError, match="corrupt record length.*232"):
        list(record_pieces(f, name=path))
