"""Typed ctypes bindings of libhdfs (the JNI client pyarrow loads), beside the code that finds
or builds it (`hadoop.libhdfs`): the calls pyarrow does not expose (full file status,
chmod/chown/utime/setrep, rename without clobber, capacity)."""

from __future__ import annotations

import ctypes
import os
from typing import Any

from hopsfs_tools.hadoop.libhdfs import LIB_NAME

EINTERNAL = 255  # libhdfs's errno for a Java exception it has no errno for (details on stderr)


class FileInfoStruct(ctypes.Structure):
    """libhdfs's hdfsFileInfo."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("mtime", ctypes.c_long),
        ("size", ctypes.c_int64),
        ("replication", ctypes.c_short),
        ("blocksize", ctypes.c_int64),
        ("owner", ctypes.c_char_p),
        ("group", ctypes.c_char_p),
        ("permissions", ctypes.c_short),
        ("atime", ctypes.c_long),
    ]


_INFO_P = ctypes.POINTER(FileInfoStruct)
_P, _S, _I = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "hdfsNewBuilder": (_P, []),
    "hdfsBuilderSetNameNode": (None, [_P, _S]),
    "hdfsBuilderSetUserName": (None, [_P, _S]),
    "hdfsBuilderSetForceNewInstance": (None, [_P]),
    "hdfsBuilderSetKerbTicketCachePath": (None, [_P, _S]),
    "hdfsBuilderConfSetStr": (_I, [_P, _S, _S]),
    "hdfsBuilderConnect": (_P, [_P]),
    "hdfsDisconnect": (_I, [_P]),
    "hdfsGetPathInfo": (_INFO_P, [_P, _S]),
    "hdfsListDirectory": (_INFO_P, [_P, _S, ctypes.POINTER(_I)]),
    "hdfsFreeFileInfo": (None, [_INFO_P, _I]),
    "hdfsRename": (_I, [_P, _S, _S]),
    "hdfsChmod": (_I, [_P, _S, ctypes.c_short]),
    "hdfsChown": (_I, [_P, _S, _S, _S]),
    "hdfsUtime": (_I, [_P, _S, ctypes.c_long, ctypes.c_long]),
    "hdfsSetReplication": (_I, [_P, _S, ctypes.c_int16]),
    "hdfsGetCapacity": (ctypes.c_int64, [_P]),
    "hdfsGetUsed": (ctypes.c_int64, [_P]),
}


def load(directory: str) -> ctypes.CDLL:
    """The libhdfs.so pyarrow loads (same file, so the same handle and JVM), typed for ctypes."""
    lib = ctypes.CDLL(os.path.join(directory, LIB_NAME), use_errno=True)
    for name, (restype, argtypes) in _SIGNATURES.items():
        func = getattr(lib, name)
        func.restype, func.argtypes = restype, argtypes
    return lib


def encode(text: str | None) -> bytes | None:
    """A C string argument (None: NULL)."""
    return None if text is None else text.encode()


__all__ = ["EINTERNAL", "FileInfoStruct", "encode", "load"]
