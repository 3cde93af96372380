"""Test helper: run a Python snippet in a fresh process (its own JVM, its own environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


def run_child(script: str, env: dict[str, str | None], timeout: float = 300) -> dict[str, object]:
    """Run `script` (which fills the dict `result`) in a new interpreter with this process's
    environment changed by `env` (None: unset) and without libhdfs's JVM settings (CLASSPATH,
    LIBHDFS_OPTS: a fresh shell's, not what earlier arrow tests left here); return `result`.
    The child must exit 0."""
    code = "import json\nresult = {}\n" + textwrap.dedent(script) + "\nprint(json.dumps(result))\n"
    child = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    for name in ("CLASSPATH", "LIBHDFS_OPTS", *(k for k, v in env.items() if v is None)):
        child.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child,  # type: ignore[arg-type]
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
