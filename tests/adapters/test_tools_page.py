"""docs/tools.md's code blocks run as shown, one fresh process per section, acting as a member of
a fresh project on the session cluster (README's runner and block conventions)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
PAGE = TESTS.parent / "docs" / "tools.md"
RUNNER = TESTS / "docs" / "readme_runner.py"


def _readme_tests():
    """tests/docs/test_readme.py, for its block parser."""
    spec = importlib.util.spec_from_file_location(
        "readme_blocks", TESTS / "docs" / "test_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


SECTIONS = _readme_tests().sections(PAGE.read_text())


def test_the_page_has_a_block_per_tool() -> None:
    titles = [s.title for s in SECTIONS]
    for tool in ("polars", "MLflow", "PyIceberg", "deltalake", "TensorBoard"):
        assert any(tool in title for title in titles), titles


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS, ids=[s.title for s in SECTIONS])
def test_tools_page_section(section, native_project: str, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        [sys.executable, str(RUNNER)],
        input=json.dumps(section.blocks),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (
        f"docs/tools.md section {section.title!r} (line {section.line}):\n"
        + done.stdout[-3000:]
        + done.stderr[-3000:]
    )
