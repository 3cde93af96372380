"""Run one section's code blocks (JSON on stdin) in order, as tests/docs/test_readme.py asks.

A section is one of README.md's or a docs/*.md page's (## or ### heading); each block names its
file and line.

Python blocks share one namespace; bash blocks run in `bash -e -o pipefail` with this process's
environment and working directory. A block's first-line marker says how it is meant to end
(`# readme-test: raises NAME` / `# readme-test: fails`). Exits 1 naming the first block that
did not end as meant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from typing import Any


def run_python(code: str, where: str, namespace: dict[str, Any], raises: str | None) -> str:
    """Exec `code` in `namespace`; the problem ("" if none) given the expected exception name."""
    try:
        exec(compile(code, where, "exec"), namespace)  # noqa: S102 - docs' code, run on purpose
    except BaseException as exc:  # noqa: BLE001 - reported, whatever it is
        names = {cls.__name__ for cls in type(exc).__mro__}
        if raises and raises in names:
            print(f"{where}: raised {type(exc).__name__} as marked: {exc}")
            return ""
        return f"{where} raised:\n{traceback.format_exc()}"
    return f"{where} was marked `raises {raises}` but raised nothing" if raises else ""


def run_bash(code: str, where: str, fails: bool) -> str:
    """Run `code` with bash; the problem ("" if none) given whether it is meant to fail."""
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], check=False)
    if fails:
        return "" if proc.returncode != 0 else f"{where} was marked `fails` but exited 0"
    return f"{where} exited {proc.returncode}" if proc.returncode != 0 else ""


def main() -> int:
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    for block in json.load(sys.stdin):
        where = f"{block['file']}:{block['line']} ({block['lang']} block)"
        print(f"=== {where}", flush=True)
        if block["lang"] == "python":
            problem = run_python(block["code"], where, namespace, block.get("raises"))
        else:
            problem = run_bash(block["code"], where, block.get("fails", False))
        sys.stdout.flush()
        if problem:
            print(problem, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every block has run and its outcome is decided: leave without interpreter finalization,
    # where pyarrow/delta-rs native threads sometimes abort the process ("terminate called
    # without an active exception", apache/arrow#34314) after the page's code worked.
    os._exit(code)
