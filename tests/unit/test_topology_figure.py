"""scripts/topology_figure.py draws docs/multihost-topology.png, shown by docs/real-cluster.md."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")  # extra [notebooks]

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "multihost-topology.png"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_script_regenerates_the_committed_figure(tmp_path: Path) -> None:
    out = tmp_path / "topology.png"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "topology_figure.py"), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert png_size(out) == png_size(COMMITTED)  # the committed figure is the script's default
    assert "](multihost-topology.png)" in (REPO / "docs" / "real-cluster.md").read_text()
