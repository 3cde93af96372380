"""Every module reads (and hands children) the process environment only through
config/settings.py, the one place settings are resolved (issue #11)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "hopsfs_tools"
SETTINGS = PACKAGE / "config" / "settings.py"


def environment_uses(path: Path) -> list[str]:
    """`os.environ` / `os.getenv` / `os.putenv` uses in a module, as "file:line"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "getenv", "putenv", "unsetenv")
        ):
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_only_settings_reads_the_environment() -> None:
    modules = sorted(p for p in PACKAGE.rglob("*.py") if p != SETTINGS)
    assert len(modules) > 80  # the scan really covers the package
    assert [use for module in modules for use in environment_uses(module)] == []
    assert environment_uses(SETTINGS)  # ... where it does happen
