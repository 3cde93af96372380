"""The layer contracts of pyproject.toml ([tool.importlinter], DESIGN.md's "Layers") hold, and
they bite: an import up a layer breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import importlinter  # noqa: F401 - the checker itself (the test extra): missing fails here

REPO = Path(__file__).resolve().parents[2]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's `lint-imports` on the package under `root` (found there first)."""
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--no-cache"],
        cwd=root, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip


def test_imports_keep_the_layer_contracts() -> None:
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout


def test_a_call_time_import_up_a_layer_breaks_them(tmp_path: Path) -> None:
    """The settings (the bottom layer) importing the CLI inside a function is still caught."""
    shutil.copytree(REPO / "hopsfs_tools", tmp_path / "hopsfs_tools")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    settings = tmp_path / "hopsfs_tools" / "config" / "settings.py"
    settings.write_text(
        settings.read_text() + "\n\ndef _upward() -> None:\n    from hopsfs_tools.cli import main\n"
    )
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "hopsfs_tools.config.settings -> hopsfs_tools.cli.main" in proc.stdout, proc.stdout
