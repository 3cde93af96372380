"""File checksums that compare: HDFS's COMPOSITE_CRC form, one CRC32C of the whole content
whatever the block and chunk sizes, for HDFS files and local files alike.

`hdfs dfs -checksum` gives this value on a cluster with dfs.checksum.combine.mode=COMPOSITE_CRC;
WebHDFS's GETFILECHECKSUM (the only checksum call all three backends reach) answers in
MD5-of-MD5-of-CRC32C, which depends on the block size and so cannot be compared with a local
file. The value is therefore computed here from the content, streamed through google-crc32c:
one read of the file, the same on every backend.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import google_crc32c

from hopsfs_tools.fs.ranges import read_exactly

if TYPE_CHECKING:
    from hopsfs_tools.fs.client import Client

ALGORITHM = "COMPOSITE-CRC32C"  # as `hdfs dfs -checksum` names it
CHUNK = 8 * 2**20


def hdfs_checksum(client: Client, path: str) -> str:
    """The CRC32C (8 hex digits) of HDFS file `path`'s content."""
    reader = client.open_reader(path)
    try:
        crc, offset = 0, 0
        while offset < reader.size:
            data = read_exactly(reader, offset, min(CHUNK, reader.size - offset))
            if not data:
                break
            crc = google_crc32c.extend(crc, data)
            offset += len(data)
        return f"{crc:08x}"
    finally:
        reader.close()


def local_checksum(path: str | os.PathLike[str]) -> str:
    """The CRC32C (8 hex digits) of local file `path`'s content, comparable with hdfs_checksum."""
    crc = 0
    with open(path, "rb") as f:
        while data := f.read(CHUNK):
            crc = google_crc32c.extend(crc, data)
    return f"{crc:08x}"


__all__ = ["ALGORITHM", "hdfs_checksum", "local_checksum"]
