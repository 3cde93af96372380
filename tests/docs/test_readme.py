"""README.md's and docs/*.md's code blocks run as shown, after `hopsfs-tools demo --keep-running`.

Every ```python and ```bash block runs, in file order, one test case per section (## or ###
heading; what comes before the first one is the file's "(top)"): python blocks in one interpreter
namespace per section, bash blocks with the cluster's environment, in a fresh process per section
(tests/docs/readme_runner.py). The state is the one README's quick start leaves: the demo project
on the local cluster (the session's, found through $HOPSFS_TOOLS_CACHE/cluster), acting as
`demo__<login>`, `.venv` and the repository's files in the working directory. Markers on a
block's first line:
`# readme-test: raises NAME` (python) / `# readme-test: fails` (bash): meant to fail that way;
`# readme-test: not run - <reason>`: cannot run on the CI machine (the reason is required).
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hopsfs_tools.cli.demo_workflow import CLUSTER_VARIABLES
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.config import cache_dir

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
# README first, then the docs site's pages: a page added to docs/ is run without changing this test.
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md"))]
RUNNER = Path(__file__).with_name("readme_runner.py")
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^#\s*readme-test:\s*(.*?)\s*$")
# Process settings a developer's shell may carry that the quick start's state does not have.
DROP = ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND",
        "VIRTUAL_ENV", *CLUSTER_VARIABLES)  # fmt: skip


@dataclass
class Section:
    """A section of README or a docs page (file and heading) and the code blocks to run in it."""

    file: str  # relative to the repository: "README.md", "docs/guide.md"
    title: str
    line: int
    blocks: list[dict] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # "line: reason" of blocks marked not run

    @property
    def id(self) -> str:
        """The test id: file and heading."""
        return f"{self.file}: {self.title}"


def sections(text: str, file: str = "README.md") -> list[Section]:
    """A file's sections with python/bash blocks, in order; markers parsed (bad ones raise)."""
    current = Section(file, "(top)", 1)  # README's headline example, a page's title and intro
    found = [current]
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(("## ", "### ")):
            current = Section(file, line.lstrip("#").strip(), i + 1)
            found.append(current)
        fence = FENCE.match(line)
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if fence.group(1) in ("python", "bash"):
                _add_block(current, fence.group(1), lines[i + 1 : end], i + 2)
            i = end
        i += 1
    return [s for s in found if s.blocks]  # sections whose blocks are all `not run` have no test


def _add_block(section: Section, lang: str, code: list[str], line: int) -> None:
    """Parse the block's marker into how it should end, or record it as not run."""
    where = f"{section.file}:{line}"
    block = {"lang": lang, "code": "\n".join(code) + "\n", "line": line, "file": section.file}
    marker = MARKER.match(code[0]) if code else None
    if marker:
        words = marker.group(1)
        if words.startswith("not run"):
            reason = words[len("not run") :].strip(" -:")
            assert reason, f"{where}: `not run` needs a reason"
            section.not_run.append(f"{line}: {reason}")
            return
        if lang == "python" and words.startswith("raises "):
            block["raises"] = words.split()[1]
        elif lang == "bash" and words == "fails":
            block["fails"] = True
        else:
            raise AssertionError(f"{where}: unknown readme-test marker {words!r}")
    section.blocks.append(block)


SECTIONS = [s for doc in DOCUMENTS for s in sections(doc.read_text(), str(doc.relative_to(REPO)))]


def test_docs_have_runnable_blocks() -> None:
    """The parser finds the blocks (a reshuffle of README or the pages must not run nothing)."""
    readme = [s for s in SECTIONS if s.file == "README.md"]
    assert readme[0].title == "(top)"  # the headline example runs
    assert sum(len(s.blocks) for s in readme) >= 3  # headline, tour, quick start's exploration
    assert sum(len(s.blocks) for s in SECTIONS) >= 15
    pages = {s.file for s in SECTIONS}
    assert {"docs/guide.md", "docs/tensorflow.md", "docs/jupyter.md"} <= pages


@pytest.fixture(scope="module")
def readme_env(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path]]:
    """The environment and working directory README's quick start leaves, the demo run once.

    $HOPSFS_TOOLS_CACHE/cluster is the session cluster (a symlink), jars and libhdfs are the
    shared cache's; `.venv` is this interpreter's environment; a lock serializes the runs
    sharing one cluster (they all use project `demo`).
    """
    home = tmp_path_factory.mktemp("readme")
    cache, work = home / "cache", home / "work"
    cache.mkdir()
    work.mkdir()
    (cache / "cluster").symlink_to(cluster.directory)
    for entry in cache_dir().iterdir():
        if entry.name != "cluster":
            (cache / entry.name).symlink_to(entry)
    (work / ".venv").symlink_to(sys.prefix)
    for entry in REPO.iterdir():
        if entry.name not in (".git", ".venv"):
            (work / entry.name).symlink_to(entry)
    env = {k: v for k, v in os.environ.items() if k not in DROP}
    env.update(
        HOPSFS_TOOLS_CACHE=str(cache),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    with (cluster.directory / ".readme-test.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        demo = subprocess.run(
            [sys.executable, "-m", "hopsfs_tools.cli", "demo", "--keep-running", "--images", "400"],
            check=False, capture_output=True, text=True, env=env, cwd=work, timeout=600,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
        # As after the quick start's `eval "$(hopsfs-tools cluster env)"` and `export ...`:
        env.update(LocalCluster(cache / "cluster").env())
        env["HADOOP_USER_NAME"] = f"demo__{getpass.getuser()}"
        yield env, work


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_readme_section(section: Section, readme_env: tuple[dict[str, str], Path]) -> None:
    env, work = readme_env
    proc = subprocess.run(
        [sys.executable, str(RUNNER)], input=json.dumps(section.blocks), check=False,
        capture_output=True, text=True, env=env, cwd=work, timeout=900,
    )  # fmt: skip
    print(proc.stdout)
    assert proc.returncode == 0, (
        f"{section.file} section {section.title!r} (line {section.line}):\n"
        f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    )


def test_chown_example_names_the_superuser(readme_env: tuple[dict[str, str], Path]) -> None:
    """The guide's refused chown (by the project's owner) says who may do it, not "ask its owner"."""
    env, work = readme_env
    code = (
        "from hopsfs_tools import hdfs\n"
        "try:\n"
        "    hdfs.chown('Logs', 'demo__bob', 'demo')\n"
        "except PermissionError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
        cwd=work, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "only the HDFS superuser" in proc.stdout and "/Projects/demo/Logs" in proc.stdout
    assert "ask its owner" not in proc.stdout


def test_quick_start_packages_are_what_ci_installs() -> None:
    """README's apt-get line names packages .ci/run also installs: CI checks the same path."""
    quick_start = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    readme = set(re.search(r"apt-get install ([\w .-]+)\n", quick_start).group(1).split())
    ci = set(re.findall(r"missing\+=\(([\w.-]+)\)", (REPO / ".ci" / "run").read_text()))
    assert {"python3-venv", "openjdk-17-jdk-headless", "maven", "make", "gcc"} <= readme
    assert readme <= ci
    assert "make test EXTRAS=test,kerberos," in (REPO / ".ci" / "run").read_text()
