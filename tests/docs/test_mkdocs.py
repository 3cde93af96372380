"""The docs site builds with `mkdocs build --strict` (extra `docs`), as `make docs` serves it.

Strict makes every warning fatal: a broken link or anchor, a page in docs/ missing from the nav
(mkdocs.yml's `validation`), or a docstring the API reference cannot render.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
pytest.importorskip("material", reason="the docs extra (mkdocs-material)")
pytest.importorskip("mkdocstrings_handlers.python", reason="the docs extra (mkdocstrings[python])")


def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        check=False, capture_output=True, text=True, cwd=REPO, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    pages = {p.stem for p in (REPO / "docs").glob("*.md")} - {"index"}
    built = {p.parent.name for p in site.glob("*/index.html")}
    assert pages <= built, f"pages not built: {pages - built}"
    reference = (site / "reference" / "index.html").read_text()
    for name in (  # a few of the documented objects, rendered from their docstrings
        "fs.filesystem.HopsFileSystem",
        "hdfs.project_path",
        "tensorflow.dataset.tfrecord_dataset",
        "cluster.launcher.LocalCluster",
    ):
        assert f'id="hopsfs_tools.{name}"' in reference, f"{name} is not in the API reference"


def test_readme_is_a_front_door() -> None:
    """README stays a page a newcomer reads in five minutes; the reference lives in docs/."""
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: move reference material to docs/"
