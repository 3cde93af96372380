"""Whole-file write/read through a raw Backend (shared by the per-backend tests)."""

from __future__ import annotations

from typing import Any

from hopsfs_tools.fs.backends.base import Backend


def put(backend: Backend, path: str, data: bytes, **kw: Any) -> None:
    with backend.open_write(path, **kw) as f:
        f.write(data)


def get(backend: Backend, path: str) -> bytes:
    reader = backend.open_read(path)
    try:
        return reader.read_range(0, reader.size)
    finally:
        reader.close()
