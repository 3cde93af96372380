"""jupyter_server's own contents-manager test cases (tests/services/contents/test_manager.py and
test_checkpoints.py in jupyter-server/jupyter_server, same names), rewritten to run against
HopsContentsManager in this process, rooted at a fresh HDFS directory of the real cluster.

Left out, as they do not apply: root_dir as a local path, os paths, symlinks, send2trash and
the local checkpoint directory fallbacks, st_birthtime/ctime timestamps (HDFS keeps a
modification time only: `created` is it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from itertools import combinations
from typing import Any, TypeVar

import pytest
from nbformat import v4 as nbformat
from tornado.web import HTTPError
from traitlets import TraitError

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.jupyter import HopsContentsManager

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def http_status(call: Coroutine[Any, Any, Any]) -> int:
    """The status of the HTTPError `call` raises (fails the test if it raises none)."""
    with pytest.raises(HTTPError) as e:
        run(call)
    return e.value.status_code


@pytest.fixture(params=["native", "webhdfs"])
def cm(
    request: pytest.FixtureRequest, cluster_env: dict[str, str], hdfs_dir: str
) -> HopsContentsManager:
    """The manager over the native and the WebHDFS backend, rooted at a fresh HDFS directory."""
    return HopsContentsManager(root_dir=hdfs_dir, backend=request.param)


def test_root_dir_defaults_to_the_projects_jupyter_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", "team__amy")
    assert HopsContentsManager().root_dir == "/Projects/team/Jupyter"
    assert HopsContentsManager(root_dir="Resources/nb/").root_dir == "/Projects/team/Resources/nb"
    assert HopsContentsManager(root_dir="hdfs://nn:8020/data").root_dir == "/data"
    monkeypatch.setenv("HADOOP_USER_NAME", "hdfs")
    with pytest.raises(TraitError, match="No project is set: set HOPSFS_PROJECT"):
        HopsContentsManager().root_dir  # noqa: B018 - the default is computed on first access


def make_dir(cm: HopsContentsManager, path: str) -> None:
    cm.fs.makedirs(cm.hdfs_path(path), exist_ok=True)


def add_code_cell(nb: Any) -> None:
    output = nbformat.new_output("display_data", {"application/javascript": "alert('hi');"})
    nb.cells.append(nbformat.new_code_cell("print('hi')", outputs=[output]))


async def new_notebook(cm: HopsContentsManager) -> tuple[Any, str]:
    model = await cm.new_untitled(type="notebook")
    full = await cm.get(model["path"])
    full["content"]["metadata"]["counter"] = int(1e6 * time.time())
    add_code_cell(full["content"])
    await cm.save(full, model["path"])
    return full["content"], model["path"]


async def make_populated_dir(cm: HopsContentsManager, path: str) -> None:
    make_dir(cm, path)
    await cm.new(path=f"{path}/nb.ipynb")
    await cm.new(path=f"{path}/file.txt")


async def check_populated_dir_files(cm: HopsContentsManager, path: str) -> None:
    model = await cm.get(path)
    assert model["path"] == path and model["type"] == "directory"
    files = {
        (e["name"], e["type"], e["path"]) for e in model["content"] if e["type"] != "directory"
    }
    assert files == {
        ("nb.ipynb", "notebook", f"{path}/nb.ipynb"),
        ("file.txt", "file", f"{path}/file.txt"),
    }


def test_new_untitled(cm: HopsContentsManager) -> None:
    model = run(cm.new_untitled(type="notebook"))
    assert (model["type"], model["name"], model["path"]) == (
        "notebook",
        "Untitled.ipynb",
        "Untitled.ipynb",
    )
    model = run(cm.new_untitled(type="directory"))
    assert (model["type"], model["name"]) == ("directory", "Untitled Folder")
    sub = model["path"]
    model = run(cm.new_untitled(path=sub))
    assert (model["type"], model["name"], model["path"]) == ("file", "untitled", f"{sub}/untitled")
    assert run(cm.new_untitled(path=sub, ext=".foo.bar"))["name"] == "untitled.foo.bar"
    assert run(cm.new_untitled(path=sub, ext=".foo.bar"))["name"] == "untitled1.foo.bar"


def test_modified_date(cm: HopsContentsManager) -> None:
    async def check() -> None:
        _, path = await new_notebook(cm)
        model = await cm.get(path)
        add_code_cell(model["content"])
        await cm.save(model, path)
        saved = await cm.get(path)
        assert saved["last_modified"] >= model["last_modified"]
        await cm.rename(path, "renamed.ipynb")
        renamed = await cm.get("renamed.ipynb")
        assert renamed["last_modified"] >= saved["last_modified"]
        on_hdfs = cm.fs.info(cm.hdfs_path("renamed.ipynb"))["mtime"]
        assert renamed["last_modified"].timestamp() == pytest.approx(on_hdfs, abs=0.001)

    run(check())


def test_get(cm: HopsContentsManager) -> None:
    async def check() -> None:
        model = await cm.new_untitled(type="notebook")
        path = model["path"]
        got = await cm.get(path)
        assert got["content"]["nbformat"] == 4 and got["name"] == "Untitled.ipynb"
        hashed = await cm.get(path, require_hash=True)
        assert hashed["hash"] and hashed["hash_algorithm"] == "sha256"
        bare = await cm.get(path, content=False, require_hash=True)
        assert bare["content"] is None and bare["format"] is None
        assert bare["hash"] == hashed["hash"]
        make_dir(cm, "foo")
        file_model = await cm.new(path="foo/untitled.txt")
        got = await cm.get(file_model["path"], require_hash=True)
        assert {k: got[k] for k in ("content", "format", "mimetype", "name", "path", "type")} == {
            "content": "",
            "format": "text",
            "mimetype": "text/plain",
            "name": "untitled.txt",
            "path": "foo/untitled.txt",
            "type": "file",
        }
        assert got["writable"] is True and got["hash"]
        nb_as_file = await cm.get(path, content=True, type="file")
        assert nb_as_file["type"] == "file" and nb_as_file["format"] == "text"
        nb_as_bin = await cm.get(path, content=True, type="file", format="base64")
        assert nb_as_bin["format"] == "base64"
        listing = await cm.get("foo")
        assert [e["name"] for e in listing["content"]] == ["untitled.txt"]
        assert all(e["content"] is None for e in listing["content"])
        assert (await cm.get("foo", type="directory"))["type"] == "directory"
        cm.fs.pipe_file(cm.hdfs_path("foo/bin.dat"), b"\xff\xfe\x00")
        binary = await cm.get("foo/bin.dat")
        assert binary["format"] == "base64"

    run(check())
    assert http_status(cm.get("foo", type="file")) == 400
    assert http_status(cm.get("foo/untitled.txt", type="directory")) == 400
    assert http_status(cm.get("foo/bin.dat", format="text")) == 400
    assert http_status(cm.get("nothing")) == 404


def test_update(cm: HopsContentsManager) -> None:
    model = run(cm.new_untitled(type="notebook"))
    path = model["path"]
    model = run(cm.update({"path": "test.ipynb"}, path))
    assert (model["name"], model["path"]) == ("test.ipynb", "test.ipynb")
    assert http_status(cm.get(path)) == 404
    make_dir(cm, "foo")
    model = run(cm.update({"path": "foo/test.ipynb"}, "test.ipynb"))
    assert model["path"] == "foo/test.ipynb"


def test_save(cm: HopsContentsManager) -> None:
    model = run(cm.new_untitled(type="notebook"))
    full = run(cm.get(model["path"]))
    saved = run(cm.save(full, model["path"]))
    assert (saved["name"], saved["path"]) == ("Untitled.ipynb", "Untitled.ipynb")
    make_dir(cm, "foo")
    saved = run(cm.save(full, "foo/Untitled.ipynb"))
    assert saved["path"] == "foo/Untitled.ipynb"


def test_delete(cm: HopsContentsManager) -> None:
    _, path = run(new_notebook(cm))
    run(cm.delete(path))
    assert http_status(cm.delete(path)) == 404
    assert http_status(cm.get(path)) == 404
    assert not cm.fs.exists(cm.hdfs_path(path))


def test_rename(cm: HopsContentsManager) -> None:
    _, path = run(new_notebook(cm))
    run(cm.rename(path, "changed_path"))
    assert http_status(cm.get(path)) == 404
    assert isinstance(run(cm.get("changed_path")), dict)
    all_dirs = ["foo", "bar", "foo/bar", "foo/bar/foo", "foo/bar/foo/bar"]
    for d in all_dirs:
        run(make_populated_dir(cm, d))
        run(check_populated_dir_files(cm, d))
    for src, dest in combinations(all_dirs, 2):
        assert http_status(cm.rename(src, dest)) == 409
    assert http_status(cm.new_untitled("foo/bar_diff", ext=".ipynb")) == 404
    run(cm.rename("foo/bar", "foo/bar_diff"))
    for unchanged in all_dirs[:2]:
        run(check_populated_dir_files(cm, unchanged))
    for changed in all_dirs[2:]:
        assert http_status(cm.get(changed)) == 404
        run(check_populated_dir_files(cm, changed.replace("foo/bar", "foo/bar_diff", 1)))
    run(cm.new_untitled("foo/bar_diff", ext=".ipynb"))


def test_rename_nonexistent(cm: HopsContentsManager) -> None:
    assert http_status(cm.rename("nonexistent_file.txt", "new_name.txt")) == 404
    assert http_status(cm.rename("nonexistent_dir", "new_dir")) == 404


def test_delete_root(cm: HopsContentsManager) -> None:
    assert http_status(cm.delete("")) == 400


def test_copy(cm: HopsContentsManager) -> None:
    parent, name = "å b", "nb √.ipynb"
    path = f"{parent}/{name}"
    make_dir(cm, parent)
    run(cm.new(path=path))
    assert run(cm.copy(path))["name"] == "nb √-Copy1.ipynb"
    copy2 = run(cm.copy(path, "å b/copy 2.ipynb"))
    assert (copy2["name"], copy2["path"]) == ("copy 2.ipynb", "å b/copy 2.ipynb")
    to_root = run(cm.copy(path, "/"))
    assert (to_root["name"], to_root["path"]) == (name, name)
    assert http_status(cm.copy(path, "å x/copy 2.ipynb")) == 404
    copy3 = run(cm.copy(path, "/copy 3.ipynb"))
    assert (copy3["name"], copy3["path"]) == ("copy 3.ipynb", "copy 3.ipynb")


def test_copy_dir(cm: HopsContentsManager) -> None:
    dest, source = "Untitled Folder 1", "Morningstar Notebooks"
    make_dir(cm, dest)
    make_dir(cm, source)
    run(cm.new(path=f"{source}/inside.ipynb"))
    nested = f"{dest}/{source}"
    assert run(cm.copy(from_path=source, to_path=dest))["path"] == nested
    assert [e["name"] for e in run(cm.get(nested))["content"]] == ["inside.ipynb"]
    assert run(cm.copy(from_path=source, to_path=dest))["path"] == f"{nested}-Copy1"
    assert run(cm.copy(from_path=source, to_path=""))["path"] == f"{source}-Copy1"
    copy = run(cm.copy(from_path=source, to_path="FolderDoesNotExist"))
    assert copy["path"] == f"FolderDoesNotExist/{source}"


def test_copy_big_dir(cm: HopsContentsManager) -> None:
    cm.max_copy_folder_size_mb = 1
    make_dir(cm, "big")
    cm.fs.pipe_file(cm.hdfs_path("big/data.bin"), b"x" * (2 * 2**20))
    assert http_status(cm.copy(from_path="big", to_path="")) == 400
    assert not cm.fs.exists(cm.hdfs_path("big-Copy1"))


def test_mark_trusted_cells(cm: HopsContentsManager) -> None:
    nb, path = run(new_notebook(cm))
    cm.mark_trusted_cells(nb, path)
    assert all(not c.metadata.get("trusted") for c in nb.cells if c.cell_type == "code")
    run(cm.trust_notebook(path))
    nb = run(cm.get(path))["content"]
    assert all(c.metadata.get("trusted") for c in nb.cells if c.cell_type == "code")


def test_check_and_sign(cm: HopsContentsManager) -> None:
    nb, path = run(new_notebook(cm))
    cm.mark_trusted_cells(nb, path)
    cm.check_and_sign(nb, path)
    assert not cm.notary.check_signature(nb)
    run(cm.trust_notebook(path))
    nb = run(cm.get(path))["content"]
    cm.mark_trusted_cells(nb, path)
    cm.check_and_sign(nb, path)
    assert cm.notary.check_signature(nb)


def test_nb_validation(cm: HopsContentsManager) -> None:
    model = run(cm.new_untitled(type="notebook"))
    full = run(cm.get(model["path"]))
    cell = nbformat.new_code_cell("print('hi')")
    del cell["source"]  # invalid
    full["content"].cells.append(cell)
    saved = run(cm.save(full, model["path"]))
    assert "Notebook validation failed" in saved["message"]
    assert "Notebook validation failed" in run(cm.get(model["path"]))["message"]


def test_regression_is_hidden(cm: HopsContentsManager) -> None:
    make_dir(cm, ".hidden/visible")
    assert run(cm.is_hidden(".hidden/visible")) and not run(cm.is_hidden("visible"))
    assert http_status(cm.get(".hidden/visible")) == 404
    cm.allow_hidden = True
    assert run(cm.get(".hidden/visible"))["type"] == "directory"


def test_escape_root(cm: HopsContentsManager, hdfs_dir: str) -> None:
    fs = HopsFileSystem(skip_instance_cache=True)
    outside = f"{hdfs_dir}-outside"
    fs.pipe_file(outside, b"secret")
    try:
        name = outside.rsplit("/", 1)[1]
        assert http_status(cm.get(f"../{name}")) == 404
        assert (
            http_status(cm.save({"type": "file", "content": "x", "format": "text"}, f"../{name}"))
            == 404
        )
        assert http_status(cm.rename(f"../{name}", "inside")) == 404
        assert fs.cat_file(outside) == b"secret"
    finally:
        fs.rm(outside)


def test_checkpoints_follow_renames(cm: HopsContentsManager) -> None:  # test_checkpoints.py
    _, path = run(new_notebook(cm))
    checkpoint = run(cm.create_checkpoint(path))  # of the notebook with one cell
    assert run(cm.list_checkpoints(path)) == [checkpoint]
    model = run(cm.get(path))
    add_code_cell(model["content"])
    run(cm.save(model, path))
    run(cm.rename(path, "moved.ipynb"))
    assert [c["id"] for c in run(cm.list_checkpoints("moved.ipynb"))] == [checkpoint["id"]]
    run(cm.restore_checkpoint(checkpoint["id"], "moved.ipynb"))
    assert len(run(cm.get("moved.ipynb"))["content"].cells) == 1
    run(cm.delete("moved.ipynb"))
    assert run(cm.list_checkpoints("moved.ipynb")) == []
