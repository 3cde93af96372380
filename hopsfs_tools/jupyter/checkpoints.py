"""HopsCheckpoints: Jupyter checkpoints kept on HDFS beside the file, so every member of the
project can revert to them.

`dir/name.ipynb` has its checkpoint at `dir/.ipynb_checkpoints/name-checkpoint.ipynb` (as
jupyter_server's FileCheckpoints); creating and restoring one are atomic HDFS copies.
"""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado.web import HTTPError
from traitlets import Unicode

from hopsfs_tools.jupyter.hops import call

if TYPE_CHECKING:
    from hopsfs_tools.jupyter.contents import HopsContentsManager

CHECKPOINT_ID = "checkpoint"  # one checkpoint per file, as in jupyter_server's FileCheckpoints


class HopsCheckpoints(AsyncCheckpoints):
    """Checkpoints of a HopsContentsManager's files, in a hidden directory next to each file."""

    checkpoint_dir = Unicode(
        ".ipynb_checkpoints",
        config=True,
        help="The directory, next to each file, that holds its checkpoint.",
    )

    @property
    def manager(self) -> HopsContentsManager:
        return self.parent  # type: ignore[no-any-return]

    def checkpoint_path(self, checkpoint_id: str, path: str) -> str:
        """The HDFS path of checkpoint `checkpoint_id` of API path `path`."""
        parent, _, name = path.strip("/").rpartition("/")
        stem, ext = posixpath.splitext(name)
        directory = self.manager.hdfs_path(parent)
        return posixpath.join(directory, self.checkpoint_dir, f"{stem}-{checkpoint_id}{ext}")

    def _model(self, checkpoint_id: str, hpath: str) -> dict[str, Any]:
        mtime = self.manager.fs.info(hpath)["mtime"]
        return {"id": checkpoint_id, "last_modified": datetime.fromtimestamp(mtime, tz=UTC)}

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Copy the file to its checkpoint (replacing the previous one)."""
        target = self.checkpoint_path(CHECKPOINT_ID, path)

        def create() -> dict[str, Any]:
            self.manager.fs.cp_file(self.manager.hdfs_path(path), target)
            return self._model(CHECKPOINT_ID, target)

        return await call(path, create)

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        """Copy the checkpoint back over the file (atomically: readers see one or the other)."""
        source = self.checkpoint_path(checkpoint_id, path)
        if not await call(path, self.manager.fs.exists, source):
            self._no_such_checkpoint(path, checkpoint_id)
        await call(path, self.manager.fs.cp_file, source, self.manager.hdfs_path(path))

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        old = self.checkpoint_path(checkpoint_id, old_path)
        new = self.checkpoint_path(checkpoint_id, new_path)

        def rename() -> None:
            if self.manager.fs.exists(old):
                self.manager.fs.makedirs(posixpath.dirname(new), exist_ok=True)
                self.manager.fs.mv(old, new)

        await call(old_path, rename)

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        target = self.checkpoint_path(checkpoint_id, path)
        if not await call(path, self.manager.fs.exists, target):
            self._no_such_checkpoint(path, checkpoint_id)
        await call(path, self.manager.fs.rm_file, target)

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """The file's checkpoint, if it has one."""
        target = self.checkpoint_path(CHECKPOINT_ID, path)

        def listing() -> list[dict[str, Any]]:
            try:
                return [self._model(CHECKPOINT_ID, target)]
            except FileNotFoundError:
                return []

        return await call(path, listing)

    def _no_such_checkpoint(self, path: str, checkpoint_id: str) -> None:
        raise HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")
