"""TensorBoard without TensorFlow on a cluster logdir: its fsspec fallback appends to the event
file as training goes and reads it incrementally (seeks), in a process where `import tensorflow`
fails; the writer is torch's SummaryWriter (tensorboard's own EventFileWriter)."""

from __future__ import annotations

import os

import pytest
from tool_process import run_python

pytest.importorskip("tensorboard")
pytest.importorskip("torch")

from hopsfs_tools import hdfs

SCRIPT = """
import sys
sys.modules["tensorflow"] = None  # `import tensorflow` raises ImportError: TensorBoard's stub
{prelude}
from torch.utils.tensorboard import SummaryWriter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat import tf
assert tf.__name__.startswith("tensorboard.compat.tensorflow_stub"), tf.__name__
logdir = {logdir!r}
writer = SummaryWriter(logdir)
reader = EventAccumulator(logdir)
for epoch in range(3):  # TensorBoard reading while training writes
    for step in range(epoch * 4, epoch * 4 + 4):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.flush()
    reader.Reload()
    print(len(reader.Scalars("loss")))
writer.close()
"""


def test_a_logdir_written_and_read_incrementally_without_tensorflow(project: str) -> None:
    """hopsfs:// (no import needed: fsspec's entry point) on native; hdfs:// on WebHDFS."""
    if os.environ["HOPSFS_BACKEND"] == "native":
        logdir, prelude = "hopsfs://Logs/tb/run1", ""
    else:
        logdir, prelude = hdfs.project_path() + "Logs/tb/run1", "import hopsfs_tools"
    out = run_python(SCRIPT.format(logdir=logdir, prelude=prelude), no_jvm=True)
    assert out.split() == ["4", "8", "12"]  # each reload sees the steps appended since
    fs = hdfs.get_fs()
    events = fs.ls(f"/Projects/{project}/Logs/tb/run1", detail=True)
    assert len(events) == 1 and "tfevents" in events[0]["name"]  # one file, appended to
    assert events[0]["owner"] == f"{project}__alice"
