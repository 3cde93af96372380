"""The handle hops' `hdfs.get_fs()` returns: pydoop's `hdfs` filesystem API on a HopsFileSystem.

Hopsworks code calls pydoop methods on it (`open_file(path, flags='w')`, `list_directory`,
`get_path_info`, `walk`, ...); for everything else it is the fsspec filesystem. Paths follow
the filesystem's rules ("rel" is project-relative, "/abs" absolute; pydoop would put "rel"
under /user/<user>).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from hopsfs_tools.fs import HopsFileSystem

_MODE_CLAUSE = re.compile(r"\s*([ugoa]*)([-+=])([rwx]*)\s*")
_PERM_BITS = {"r": 4, "w": 2, "x": 1}
_SHIFTS = {"u": 6, "g": 3, "o": 0}


def apply_mode(old: int, mode: int | str) -> int:
    """The permission bits `chmod` sets: an int as given (pydoop passes it on unchanged), an
    octal string ("750"), or pydoop's symbolic form "[ugoa]*[-+=][rwx]*" applied to `old`
    (several clauses may be joined with ","; an empty "who" means "a" minus the umask)."""
    if isinstance(mode, int):
        return mode
    text = mode.strip()
    if text and all(c in "01234567" for c in text.removeprefix("0o")):
        return int(text.removeprefix("0o"), 8)
    new = old
    for clause in text.split(","):
        match = _MODE_CLAUSE.fullmatch(clause)
        if not match:
            raise ValueError(
                f"chmod mode {mode!r} is neither an int, octal ('750') nor symbolic "
                "('u+x', 'go-w', 'a=r')"
            )
        who, op, perms = match.groups()
        bits = sum(_PERM_BITS[c] for c in set(perms))
        umask = 0 if who else _umask()
        for field, shift in _SHIFTS.items():
            if who and field not in who and "a" not in who:
                continue
            field_bits = bits & ~(umask >> shift) & 7
            current = (new >> shift) & 7
            value = {"+": current | field_bits, "-": current & ~field_bits, "=": field_bits}[op]
            new = (new & ~(7 << shift)) | (value << shift)
    return new


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class PydoopFileSystem(HopsFileSystem):
    """A HopsFileSystem that also speaks pydoop's `pydoop.hdfs.fs.hdfs` API."""

    @property
    def host(self) -> str:
        """The NameNode host (pydoop's `hdfs.host`): of an HA or viewfs URI, its logical name."""
        return urlsplit(self.config.namenode_uri).hostname or ""

    @property
    def port(self) -> int:
        """The NameNode port (pydoop's `hdfs.port`; 0 for an HA nameservice or a viewfs table)."""
        return urlsplit(self.config.namenode_uri).port or 0

    @property
    def user(self) -> str | None:
        """The HDFS user acting (pydoop's `hdfs.user`)."""
        return self.project.user if self.project else self.config.user

    def uri(self, path: str) -> str:
        """The full "hdfs://host:port/abs" URI of a path."""
        return self.config.namenode_uri + self.resolve(path)

    def pydoop_info(self, info: dict[str, Any]) -> dict[str, Any]:
        """An fsspec info dict with pydoop's keys added and `name` as a full URI (pydoop's)."""
        path = self.resolve(info["name"])
        return {
            **info,
            "name": self.config.namenode_uri + path,
            "path": path,
            "kind": info["type"],
            "permissions": info.get("permission", 0),
            "last_mod": info.get("mtime", 0),
            "last_access": info.get("atime", 0),
            "block_size": info.get("blocksize", 0),
            "replication": info.get("replication", 0),
        }

    def get_path_info(self, path: str) -> dict[str, Any]:
        """pydoop's path info dict (name, kind, size, owner, group, permissions, last_mod, ...)."""
        return self.pydoop_info(self.info(path))

    def list_directory(self, path: str) -> list[dict[str, Any]]:
        """pydoop's info dicts of a directory's entries ([the file's] for a file)."""
        info = self.info(path)
        entries = self.ls(path, detail=True) if info["type"] == "directory" else [info]
        return [self.pydoop_info(e) for e in entries]

    def walk(self, top: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        """pydoop's walk(top): info dicts of `top` (a path or info dict) and everything below.

        Called with more than `top` (as fsspec's own methods call it), it is fsspec's walk.
        """
        if args or kwargs:
            yield from super().walk(top, *args, **kwargs)
            return
        if not top:
            raise ValueError("Empty path")
        info = top if isinstance(top, dict) else self.get_path_info(top)
        yield info
        if info["kind"] == "directory":
            for child in self.list_directory(info["path"]):
                yield from self.walk(child)

    def create_directory(self, path: str) -> None:
        """Create a directory and its missing parents."""
        self.makedirs(path, exist_ok=True)

    def delete(self, path: str, recursive: bool = True) -> None:  # type: ignore[override]
        """Delete a file or directory (a non-empty one only with `recursive`); missing: error."""
        self.info(path)  # FileNotFoundError naming the path
        self.rm(path, recursive=recursive)

    def rename(self, from_path: str, to_path: str) -> None:  # type: ignore[override]
        """HDFS rename: into `to_path` when it is a directory; an existing file is an error."""
        self.mv(from_path, to_path, overwrite=False)

    def open_file(
        self,
        path: str,
        mode: str = "r",
        buff_size: int = 0,  # type: ignore[override]
        replication: int = 0,
        blocksize: int = 0,
        encoding: str | None = None,
        errors: str | None = None,
        *,
        flags: str | None = None,
    ) -> IO[Any]:
        """pydoop's open_file: mode 'r', 'w' or 'a' (first letter; 'rw' reads), text when the
        second letter is 't'; 0 for buff_size/replication/blocksize means the configured value.

        `flags` is older pydoop's name for `mode` (hops' experiment logger passes either).
        """
        mode = flags if flags is not None else mode
        if not path:
            raise ValueError("Empty path")
        if not mode or mode[0] not in "rwa":
            raise ValueError(
                f"open_file mode {mode!r} is not supported: use 'r', 'w' or 'a', "
                "optionally followed by 't' (text)"
            )
        options: dict[str, Any] = {"block_size": buff_size} if buff_size > 0 else {}
        if mode[0] != "r":
            options.update({"replication": replication} if replication > 0 else {})
            options.update({"block_size": blocksize} if blocksize > 0 else {})
        if mode[1:2] == "t":
            text = {"encoding": encoding or "utf-8", "errors": errors}
            return self.open(path, mode[0] + "t", **text, **options)
        return self.open(path, mode[0] + "b", **options)

    def chmod(self, path: str, mode: int | str) -> None:
        """Set permission bits: an int as given, an octal string or symbolic ("u+x")."""
        old = self.info(path).get("permission", 0) if isinstance(mode, str) else 0
        super().chmod(path, apply_mode(old, mode))

    def chown(self, path: str, user: str = "", group: str = "") -> None:  # type: ignore[override]
        """Set owner and/or group ('' keeps it; a new owner needs the HDFS superuser)."""
        super().chown(path, user or None, group or None)

    def get_hosts(self, path: str, start: int, length: int) -> list[list[str]]:
        """The DataNode hosts of each block of a file overlapping [start, start + length)."""
        return [b["hosts"] for b in self.block_locations(path, start, length)]

    def capacity(self) -> int:
        """The raw capacity of the filesystem in bytes."""
        return int(self.fs_status()["capacity"])

    def used(self) -> int:
        """The raw bytes used by all files (replicas included)."""
        return int(self.fs_status()["used"])
