"""HopsContentsManager: Jupyter's contents API over HDFS, rooted at a project's Jupyter dataset.

Every member of a project runs a server acting as their `P__u` user over the same HDFS tree, so
they share notebooks under the project's permissions. Async: HDFS calls run in worker threads,
so a slow namenode never stalls the server's event loop (kernels, terminals, other requests).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import mimetypes
import os
import posixpath
import threading
from datetime import UTC, datetime
from typing import Any

import nbformat
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado.web import HTTPError
from traitlets import Bool, Enum, Int, TraitError, Unicode, default, validate

from hopsfs_tools.jupyter.checkpoints import HopsCheckpoints
from hopsfs_tools.jupyter.hops import (
    JUPYTER_DATASET,
    TEMP_MARKER,
    HopsFileSystem,
    call,
    current_project,
    resolve,
)

Model = dict[str, Any]
_FS_LOCK = threading.Lock()


class HopsContentsManager(AsyncContentsManager):
    """Notebooks, files and directories on HDFS; saves are atomic (temporary file + rename)."""

    root_dir = Unicode(
        config=True,
        help="HDFS directory served as the root: absolute, or relative to the project "
        "(default: the project's Jupyter dataset, /Projects/<P>/Jupyter).",
    )
    backend = Unicode(
        None,
        allow_none=True,
        config=True,
        help="HDFS client: native, webhdfs or arrow (default: $HOPSFS_BACKEND, else native).",
    )
    hash_algorithm = Enum(
        sorted(hashlib.algorithms_available),
        default_value="sha256",
        config=True,
        help="Hash of file contents returned with hash=1 (JupyterLab compares it before saving).",
    )
    always_delete_dir = Bool(
        True, config=True, help="Delete non-empty directories (JupyterLab asks for confirmation)."
    )
    delete_to_trash = Bool(
        True,
        config=True,
        help="Deletes move to the user's HDFS trash when the cluster's trash is on (as "
        "jupyter_server's delete_to_trash; `hopsfs-tools trash restore` brings them back).",
    )
    max_copy_folder_size_mb = Int(500, config=True, help="The largest folder copied, in MiB.")

    @default("root_dir")
    def _default_root_dir(self) -> str:
        project = current_project()
        if project is None:
            raise TraitError(
                "No project is set: set HOPSFS_PROJECT=<project> or HADOOP_USER_NAME="
                "<project>__<user>, or give --HopsContentsManager.root_dir=/Projects/P/Jupyter"
            )
        return f"{project.root}/{JUPYTER_DATASET}"

    @validate("root_dir")
    def _validate_root_dir(self, proposal: dict[str, Any]) -> str:
        project = current_project()
        value = proposal["value"]
        return project.resolve(value) if project else resolve(value)

    @default("files_handler_params")
    def _default_files_handler_params(self) -> dict[str, str]:
        # /files/ is served by jupyter_server's FilesHandler through this manager; it is a
        # tornado StaticFileHandler, which needs a `path` it then does not use (without it every
        # download fails: jupyter-server/jupyter_server#1313)
        return {"path": getattr(self.parent, "root_dir", "") or os.getcwd()}

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type:
        return HopsCheckpoints

    @property
    def fs(self) -> HopsFileSystem:
        """The filesystem this manager uses (connects on first use)."""
        with _FS_LOCK:  # the first requests may come in several worker threads at once
            if getattr(self, "_fs", None) is None:
                self._fs = HopsFileSystem(backend=self.backend or None, skip_instance_cache=True)
        return self._fs

    @property
    def user(self) -> str:
        """The HDFS user this server acts as."""
        return self.fs.config.user or getpass.getuser()

    def info_string(self) -> str:
        return f"Serving notebooks from HDFS directory {self.root_dir} as {self.user}"

    # -- paths ---------------------------------------------------------------------------------

    def hdfs_path(self, path: str) -> str:
        """The absolute HDFS path of API path `path` (404 outside root_dir)."""
        path = path.strip("/")
        full = posixpath.normpath(posixpath.join(self.root_dir, path)) if path else self.root_dir
        root = self.root_dir.rstrip("/")
        if full != self.root_dir and not full.startswith(root + "/"):
            raise HTTPError(404, f"{path} is outside root contents directory")
        return full

    def _hidden(self, path: str) -> bool:
        """Whether API path `path` names a hidden file or directory, or sits in one."""
        return any(part.startswith(".") for part in path.strip("/").split("/"))

    def _check_visible(self, path: str, code: int, what: str) -> None:
        """Refuse a hidden path with `code` (after refusing one outside root_dir with 404)."""
        self.hdfs_path(path)
        if not self.allow_hidden and self._hidden(path):
            raise HTTPError(code, f"{what} hidden file or directory {path!r}")

    # -- sync helpers (run in worker threads) --------------------------------------------------

    def _info(self, path: str) -> dict[str, Any] | None:
        try:
            return self.fs.info(self.hdfs_path(path))
        except FileNotFoundError:
            return None

    def _acl(self, hpath: str) -> list[str]:
        try:
            return self.fs.acl_entries(hpath)
        except PermissionError:
            return []

    def _may_write(self, info: dict[str, Any], acl: list[str]) -> bool:
        """Whether this user may write a path, from its owner, mode and ACL entries.

        The owner's bits, else a named-user entry limited by the mask (the group bits when there
        is an ACL), else the others' bits; group membership is resolved on the namenode's host,
        which a client cannot see, so group entries count for nobody (as for `P__u` users).
        """
        mode, user = info.get("permission") or 0, self.user
        if info.get("owner") == user:
            return bool(mode & 0o200)
        for entry in acl:
            kind, name, perms = entry.split(":")
            if kind == "user" and name == user:
                return "w" in perms and bool(mode & 0o020)
        return bool(mode & 0o002)

    def _model(self, path: str, info: dict[str, Any], acl: list[str]) -> Model:
        """The model without content of API path `path` whose HDFS info is `info`."""
        mtime = datetime.fromtimestamp(info["mtime"], tz=UTC)
        if info["type"] == "directory":
            kind, size = "directory", None
        else:
            kind, size = ("notebook" if path.endswith(".ipynb") else "file"), info["size"]
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "type": kind,
            # HDFS keeps no creation time; every save writes a new file, so it is the mtime
            "created": mtime,
            "last_modified": mtime,
            "content": None,
            "format": None,
            "mimetype": mimetypes.guess_type(path)[0] if kind == "file" else None,
            "size": size,
            "writable": self._may_write(info, acl),
            "hash": None,
            "hash_algorithm": None,
        }

    def _listing(self, hpath: str, path: str, acl: list[str]) -> list[Model]:
        """The visible entries of a directory; they are judged writable with the directory's
        ACL entries (the project's default ACLs give them the same), not one call each."""
        models = []
        for info in self.fs.ls(hpath, detail=True):
            name = posixpath.basename(info["name"])
            if info["name"] == hpath or not self.should_list(name):
                continue
            if name.startswith(".") and not self.allow_hidden:
                continue
            models.append(self._model(f"{path}/{name}".strip("/"), info, acl))
        return models

    def _get(
        self, path: str, content: bool, type: str | None, format: str | None, require_hash: bool
    ) -> Model:
        hpath = self.hdfs_path(path)
        info = self.fs.info(hpath)
        acl = self._acl(hpath)
        model = self._model(path, info, acl)
        if model["type"] == "directory":
            if type not in (None, "directory"):
                raise HTTPError(400, f"{path} is a directory, not a {type}", reason="bad type")
            if content:
                model.update(content=self._listing(hpath, path, acl), format="json")
            return model
        if type == "directory":
            raise HTTPError(400, f"{path} is not a directory", reason="bad type")
        if type is not None:  # e.g. a notebook as a plain file
            model["type"] = type
        data = self.fs.cat_file(hpath) if content or require_hash else b""
        if content and model["type"] == "notebook":
            self._notebook_content(model, data)
        elif content:
            text, model["format"] = _decode(data, format, path)
            model.update(content=text, mimetype=model["mimetype"] or _MIME[model["format"]])
        if require_hash:
            digest = hashlib.new(self.hash_algorithm, data).hexdigest()
            model.update(hash=digest, hash_algorithm=self.hash_algorithm)
        return model

    def _notebook_content(self, model: Model, data: bytes) -> None:
        """Parse a notebook into the model (its validation errors go to model["_invalid"])."""
        errors: dict[str, Any] = {}
        try:
            nb = nbformat.reads(data.decode("utf-8"), as_version=4, capture_validation_error=errors)
        except Exception as e:
            raise HTTPError(400, f"Unreadable Notebook: {model['path']} {e!r}") from e
        model.update(content=nb, format="json", _invalid=errors)

    def _write(self, path: str, data: bytes, expected_hash: str | None) -> None:
        """Write a file atomically; refuse (409) when it no longer has `expected_hash`."""
        hpath = self.hdfs_path(path)
        if expected_hash is not None:
            self._check_unchanged(path, hpath, expected_hash)
        with self.fs.open(hpath, "wb") as f:
            f.write(data)

    def _check_unchanged(self, path: str, hpath: str, expected_hash: str) -> None:
        """409 when the file at `hpath` is not the version (hash) the client edited."""
        try:
            info = self.fs.info(hpath)
            current = hashlib.new(self.hash_algorithm, self.fs.cat_file(hpath)).hexdigest()
        except FileNotFoundError:
            return
        if current != expected_hash:
            when = datetime.fromtimestamp(info["mtime"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            raise HTTPError(
                409,
                f"{path} was saved by {info['owner']} at {when} UTC since you opened it: reload "
                "it (or save yours under another name) instead of overwriting their changes",
            )

    def _mkdir(self, path: str) -> None:
        hpath = self.hdfs_path(path)
        info = self._info(path)
        if info is None:
            self.fs.mkdir(hpath, create_parents=False)
        elif info["type"] != "directory":
            raise HTTPError(400, f"Not a directory: {path}")

    def _upload_path(self, hpath: str) -> str:
        """The hidden file a chunked upload of `hpath` grows in (one per user and target; its
        name is a temporary one, so listings hide it and `clean-tmp` removes it if abandoned)."""
        key = hashlib.md5(f"{self.user}:{hpath}".encode(), usedforsecurity=False).hexdigest()
        parent, name = posixpath.split(hpath)
        return posixpath.join(parent, f".{name}{TEMP_MARKER}{key}")

    def _save_chunk(self, path: str, data: bytes, chunk: int) -> Model | None:
        """Add one chunk of an upload; the last one (-1) renames the whole over the target.

        Before the last chunk, the model of the upload so far (the target is not there yet)."""
        hpath = self.hdfs_path(path)
        staging = self._upload_path(hpath)
        if chunk == 1:
            self.fs.pipe_file(staging, data)
        else:
            if not self.fs.exists(staging):
                raise HTTPError(
                    400,
                    f"upload of {path}: chunk {chunk} came without the earlier "
                    "ones (the upload was interrupted): upload the file again",
                )
            with self.fs.open(staging, "ab") as f:
                f.write(data)
        if chunk == -1:
            if self.fs.isdir(hpath):
                raise HTTPError(400, f"cannot upload to {path}: it is a directory")
            self.fs.mv(staging, hpath)
            return None
        return self._model(path, self.fs.info(staging), self._acl(staging))

    def _delete(self, path: str) -> None:
        hpath = self.hdfs_path(path)
        info = self.fs.info(hpath)
        if info["type"] == "directory" and not self.always_delete_dir:
            checkpoints = getattr(self.checkpoints, "checkpoint_dir", None)
            names = {posixpath.basename(p) for p in self.fs.ls(hpath, detail=False)}
            if names - {checkpoints}:
                raise HTTPError(400, f"Directory {path} not empty")
        self.fs.rm(hpath, recursive=info["type"] == "directory", trash=self.delete_to_trash)

    def _rename(self, old_path: str, new_path: str) -> None:
        old, new = self.hdfs_path(old_path), self.hdfs_path(new_path)
        if self.fs.exists(new):
            raise HTTPError(409, f"File already exists: {new_path}")
        if not self.fs.exists(old):
            raise HTTPError(404, f"File or directory does not exist: {old_path}")
        self.fs.mv(old, new, overwrite=False)

    def _copy_tree(self, from_path: str, to_path: str) -> None:
        src, dst = self.hdfs_path(from_path), self.hdfs_path(to_path)
        size = self.fs.du(src)
        if size > self.max_copy_folder_size_mb * 2**20:
            raise HTTPError(
                400,
                f"Can't copy folders larger than {self.max_copy_folder_size_mb}"
                f" MiB: {from_path} holds {size / 2**20:.0f} MiB",
            )
        self.fs.copy(src, dst, recursive=True)

    # -- the ContentsManager API ---------------------------------------------------------------

    async def dir_exists(self, path: str) -> bool:
        info = await call(path, self._info, path)
        return info is not None and info["type"] == "directory"

    async def file_exists(self, path: str) -> bool:
        info = await call(path, self._info, path)
        return info is not None and info["type"] != "directory"

    async def exists(self, path: str) -> bool:
        return await call(path, self._info, path) is not None

    async def is_hidden(self, path: str) -> bool:
        return self._hidden(path)

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> Model:
        path = path.strip("/")
        self._check_visible(path, 404, "Refusing to serve")
        model = await call(path, self._get, path, content, type, format, require_hash)
        if "_invalid" in model:  # the notary's database belongs to this (the loop's) thread
            errors = model.pop("_invalid")
            self.mark_trusted_cells(model["content"], path)
            self.validate_notebook_model(model, errors)
        self.emit(data={"action": "get", "path": path})
        return model

    async def save(self, model: Model, path: str = "") -> Model:
        """Save a model (notebook, file or directory, or one chunk of an upload); return it
        without content."""
        path = path.strip("/")
        chunk = model.get("chunk")
        if chunk in (None, 1):
            self.run_pre_save_hooks(model=model, path=path)
        kind = model.get("type")
        if kind is None:
            raise HTTPError(400, "No file type provided")
        if "content" not in model and kind != "directory":
            raise HTTPError(400, "No file content provided")
        self._check_visible(path, 400, "Cannot create")
        validation: dict[str, Any] = {}
        if chunk is not None:
            if kind != "file":
                raise HTTPError(400, f'File type "{kind}" is not supported for large file transfer')
            data = _encode(model["content"], model.get("format"), path)
            partial = await call(path, self._save_chunk, path, data, chunk)
            if partial is not None:
                return partial
        elif kind == "notebook":
            nb = nbformat.from_dict(model["content"])
            self.check_and_sign(nb, path)
            text = nbformat.writes(
                nb, version=nbformat.NO_CONVERT, capture_validation_error=validation
            )
            await call(path, self._write, path, text.encode("utf-8"), model.get("hash"))
            if not await self.checkpoints.list_checkpoints(path):  # one always exists
                await self.create_checkpoint(path)
        elif kind == "file":
            data = _encode(model["content"], model.get("format"), path)
            await call(path, self._write, path, data, model.get("hash"))
        elif kind == "directory":
            await call(path, self._mkdir, path)
        else:
            raise HTTPError(400, f"Unhandled contents type: {kind}")
        message = None
        if kind == "notebook":
            self.validate_notebook_model(model, validation_error=validation)
            message = model.get("message")
        saved = await self.get(path, content=False)
        if message:
            saved["message"] = message
        if chunk in (None, -1):
            self.run_post_save_hooks(model=saved, os_path=self.hdfs_path(path))
        self.emit(data={"action": "save", "path": path})
        return saved

    async def delete_file(self, path: str) -> None:
        path = path.strip("/")
        self._check_visible(path, 400, "Cannot delete")
        await call(path, self._delete, path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if old_path == new_path:
            return
        self._check_visible(old_path, 400, "Cannot rename")
        self._check_visible(new_path, 400, "Cannot rename to")
        await call(old_path, self._rename, old_path, new_path)

    async def copy(self, from_path: str, to_path: str | None = None) -> Model:
        """Copy a file or directory on HDFS (files stream, never decoded); to a directory:
        as "<name>-Copy<n>" in it."""
        path = from_path.strip("/")
        if await self.file_exists(path):
            return await self._copy_file(path, to_path)
        if not await self.dir_exists(path):
            raise HTTPError(404, f"file or directory does not exist: {path!r}")
        from_dir, _, name = path.rpartition("/")
        to_dir = from_dir if to_path is None else to_path.strip("/")
        to_name = await self.increment_filename(copy_pat.sub(".", name), to_dir, insert="-Copy")
        target = f"{to_dir}/{to_name}".strip("/")
        await call(path, self._copy_tree, path, target)
        self.emit(data={"action": "copy", "path": target, "source_path": path})
        return await self.get(target, content=False)

    async def _copy_file(self, path: str, to_path: str | None) -> Model:
        from_dir, _, name = path.rpartition("/")
        target = from_dir if to_path is None else to_path.strip("/")
        if await self.dir_exists(target):
            to_name = await self.increment_filename(copy_pat.sub(".", name), target, insert="-Copy")
            target = f"{target}/{to_name}".strip("/")
        elif to_path is None:
            raise HTTPError(404, f"No such directory: {target}")
        elif "/" in target and not await self.dir_exists(target.rsplit("/", 1)[0]):
            raise HTTPError(
                404, f"No such parent directory: {target.rsplit('/', 1)[0]} to copy file in"
            )
        self._check_visible(target, 400, "Cannot create")
        await call(path, self.fs.cp_file, self.hdfs_path(path), self.hdfs_path(target))
        self.emit(data={"action": "copy", "path": target, "source_path": path})
        return await self.get(target, content=False)


_MIME = {"text": "text/plain", "base64": "application/octet-stream"}


def _decode(data: bytes, format: str | None, path: str) -> tuple[str, str]:
    """File bytes as the model's content and format: UTF-8 text if it is, else base64."""
    if format in (None, "text"):
        try:
            return data.decode("utf-8"), "text"
        except UnicodeError as e:
            if format == "text":
                raise HTTPError(400, f"{path} is not UTF-8 encoded", reason="bad format") from e
    return base64.encodebytes(data).decode("ascii"), "base64"


def _encode(content: Any, format: str | None, path: str) -> bytes:
    """A file model's content ("text" or "base64") as bytes."""
    if format not in ("text", "base64"):
        raise HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
    try:
        return content.encode("utf-8") if format == "text" else base64.b64decode(content)
    except Exception as e:
        raise HTTPError(400, f"Encoding error saving {path}: {e}") from e
