"""Every notebook in notebooks/ runs top to bottom against the session cluster (nbclient).

Each notebook gets a project of its own, created through hopsfs_tools.hopsworks.admin by the HDFS
superuser, and runs in a fresh kernel of this interpreter acting as the project's user
(HADOOP_USER_NAME=P__nb), as in a person's Jupyter. A failing cell (the notebooks assert what
they show) fails the test with that cell's source and traceback. The executed notebooks, with
their outputs and plots, are saved under the test's tmp directory, or under
$HOPSFS_NOTEBOOK_OUT (e.g. build/notebooks) when it is set. The kernels have opted into the
`hops` package (hopsfs_tools.compat.install_hops() in an IPython startup file, as docs/guide.md
says), so notebooks written for Hopsworks (`from hops import hdfs`) run unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.hopsworks.admin import create_project

try:  # the [notebooks] extra
    import nbclient
    import nbformat
except ImportError:  # every test skips (_notebooks_extra), which fails CI's HOPSFS_FAIL_ON_SKIP
    nbclient = nbformat = None

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "hopsfs-tools-test"  # a kernelspec written for this run: this interpreter's ipykernel
CELL_TIMEOUT = 600  # seconds per cell
NOTEBOOK_TIMEOUT = 1200  # seconds per notebook (pytest-timeout), kernel start-up included
MEMBER = "nb"  # the notebooks act as <project>__nb
INLINE = "module://matplotlib_inline.backend_inline"  # non-interactive; figures become outputs
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def _notebooks_extra() -> None:
    """Skip each test, not the module, without the [notebooks] extra: HOPSFS_FAIL_ON_SKIP sees
    only test skips, so in CI a missing extra fails instead of passing unnoticed."""
    if nbclient is None or importlib.util.find_spec("ipykernel") is None:
        pytest.skip("needs the [notebooks] extra (nbclient, nbformat, ipykernel)")


def _code(notebook: nbformat.NotebookNode) -> list[str]:
    """The sources of the code cells."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _plots(notebook: nbformat.NotebookNode) -> int:
    """The number of PNG images among the notebook's outputs."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_notebooks_are_found() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path) -> None:
    """Committed without outputs (reviewable diffs), opening with a markdown introduction and
    asserting what it shows (so that running it is a test)."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells and notebook.cells[0].cell_type == "markdown", "start with an intro"
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"cell {number} of {path.name} has outputs: clear them before committing"
            )
    assert any(re.search(r"^\s*assert\b", source, re.MULTILINE) for source in _code(notebook)), (
        f"{path.name} asserts nothing, so a broken notebook would pass"
    )


@pytest.fixture(scope="session")
def kernel_spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec running ipykernel on this interpreter, found first through JUPYTER_PATH
    (an installed "python3" spec, e.g. in ~/.local/share/jupyter, may name another one)."""
    data_dir = tmp_path_factory.mktemp("jupyter")
    spec_dir = data_dir / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "JUPYTER_PATH",
            os.pathsep.join([str(data_dir), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
        )
        yield KERNEL


@pytest.fixture(scope="session")
def ipython_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IPYTHONDIR whose startup file opts into the `hops` package, as a user would."""
    directory = tmp_path_factory.mktemp("ipython")
    startup = directory / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-hops.py").write_text(
        "from hopsfs_tools.compat import install_hops\ninstall_hops()\n"
    )
    return directory


@pytest.fixture
def project(
    request: pytest.FixtureRequest, cluster: LocalCluster, cluster_env: dict[str, str]
) -> Iterator[str]:
    """A fresh project (deleted afterwards) for one notebook; its member user is MEMBER."""
    stem = re.sub(r"[^a-z0-9]", "", request.node.callspec.id.lower())[:16]
    name = f"nb{stem}{uuid.uuid4().hex[:6]}"
    admin = HopsFileSystem(backend="webhdfs", user=cluster.state.user)  # no per-process user
    create_project(name, MEMBER, fs=admin)
    yield name
    admin.rm(f"/Projects/{name}", recursive=True)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where executed notebooks go: $HOPSFS_NOTEBOOK_OUT, else the test's tmp directory."""
    directory = Path(os.environ.get("HOPSFS_NOTEBOOK_OUT") or tmp_path / "executed")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.mark.slow
@pytest.mark.timeout(NOTEBOOK_TIMEOUT)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(
    path: Path,
    project: str,
    kernel_spec: str,
    cluster_env: dict[str, str],
    out_dir: Path,
    tmp_path: Path,
    ipython_dir: Path,
) -> None:
    """Every cell runs without error in the notebook's own project; one that plots shows a plot."""
    notebook = nbformat.read(path, as_version=4)
    workdir = tmp_path / "cwd"  # the kernel's working directory (local logs, caches)
    workdir.mkdir()
    env = {
        **os.environ,
        **cluster_env,
        "HADOOP_USER_NAME": f"{project}__{MEMBER}",
        "MPLBACKEND": INLINE,
        "HOPSFS_CACHE_DIR": str(tmp_path / "cache"),
        "IPYTHONDIR": str(ipython_dir),
    }
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME"):  # the project comes from the user
        env.pop(key, None)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel_spec,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(workdir)}},
    )
    failure = None
    errors = nbclient.exceptions
    try:
        client.execute(env=env)
    except (errors.CellExecutionError, errors.CellTimeoutError, errors.DeadKernelError) as e:
        failure = _ANSI.sub("", str(e))
    finally:
        nbformat.write(notebook, out_dir / path.name)
    if failure:
        pytest.fail(
            f"{path.name} failed (executed copy: {out_dir / path.name}):\n{failure}", pytrace=False
        )
    if any(re.search(r"\bmatplotlib\b", source) for source in _code(notebook)):
        assert _plots(notebook), f"{path.name} uses matplotlib but showed no plot"
