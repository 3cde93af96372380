"""The container engine (podman or Docker) and the cluster's image, built from compose/Containerfile.

The image is tagged by a hash of everything that goes into it (Containerfile, entrypoint, the
daemons' configuration, the jar list, the base image's id), so a second build is a lookup. Without
a registry (podman here) the base is a Debian bookworm root filesystem with the JRE made by
`debootstrap --variant=minbase` from the mirror apt uses and imported as a local image.

podman on hosts like this one (a hybrid cgroup hierarchy, no RLIMIT_NOFILE raise allowed) needs
the runc runtime, the cgroupfs cgroup manager and no default ulimits: a containers.conf this
module writes and hands to every podman call through CONTAINERS_CONF.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hopsfs_tools.cluster.state import ClusterError
from hopsfs_tools.config import cache_dir, settings
from hopsfs_tools.hadoop.jars import HADOOP_VERSION, hadoop_jars

log = logging.getLogger(__name__)

ENGINES = ("podman", "docker")
# compose/ of a source checkout (the package is used from one: pip install -e, or PYTHONPATH).
COMPOSE_DIR = Path(__file__).resolve().parents[2] / "compose"
IMAGE = "hopsfs-tools-hdfs"
BASE_IMAGE = "hopsfs-tools-base"
REGISTRY_BASE = "debian:bookworm-slim"
SUITE = "bookworm"
BASE_PACKAGES = ("openjdk-17-jre-headless",)
# A mirror line of /etc/apt/sources.list (`deb [opts] URL ...`) or of a deb822 .sources file.
SOURCE_LINE = re.compile(r"^(?:URIs:|deb)\s+(?:\[[^\]]*\]\s+)?(\S+)", re.MULTILINE)
CONTAINERS_CONF = """\
# podman settings for hosts with a hybrid cgroup hierarchy (crun: "cgroups in hybrid mode not
# supported") that may not raise RLIMIT_NOFILE ("setrlimit RLIMIT_NOFILE: Operation not permitted").
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


@dataclass(frozen=True)
class Engine:
    """podman or docker: the one place their commands are spelled."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.name!r}")

    def environment(self) -> dict[str, str]:
        """The environment of every engine call (podman: CONTAINERS_CONF)."""
        env = settings.child_environment()
        if self.name == "podman":
            conf = cache_dir() / "podman" / "containers.conf"
            if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
                conf.parent.mkdir(parents=True, exist_ok=True)
                conf.write_text(CONTAINERS_CONF)
            env["CONTAINERS_CONF"] = str(conf)
        return env

    def compose_command(self) -> list[str]:
        """`podman-compose` or `docker compose`; ClusterError naming the package if missing."""
        if self.name == "podman":
            tool = shutil.which("podman-compose")
            if tool is None:
                raise ClusterError(
                    "podman-compose is not on PATH: `apt-get install podman-compose`"
                )
            return [tool]
        return [self._binary(), "compose"]

    def run(
        self, *args: str, check: bool = True, stdin: bytes | None = None, quiet: bool = False
    ) -> str:
        """Run `engine args...`; its stdout, or ClusterError with its stderr (when `check`)."""
        return self.call([self._binary(), *args], check=check, stdin=stdin, quiet=quiet)

    def call(
        self,
        cmd: list[str],
        *,
        check: bool = True,
        stdin: bytes | None = None,
        quiet: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        """Run `cmd` in the engine's environment; stdout, or ClusterError if it fails."""
        if not quiet:
            log.info("%s", " ".join(cmd))
        proc = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            check=False,
            env={**self.environment(), **(extra_env or {})},
        )
        if check and proc.returncode != 0:
            tail = "\n".join(proc.stderr.decode(errors="replace").strip().splitlines()[-15:])
            raise ClusterError(
                f"`{' '.join(cmd[:4])} ...` failed (exit {proc.returncode}):\n{tail}"
            )
        return proc.stdout.decode(errors="replace")

    def logs(self, container: str, lines: int = 30) -> str:
        """The last `lines` lines a container wrote (stdout and stderr)."""
        proc = subprocess.run(
            [self._binary(), "logs", "--tail", str(lines), container],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
            env=self.environment(),
        )
        return proc.stdout.decode(errors="replace")

    def has_image(self, tag: str) -> bool:
        """Whether the engine's local storage holds image `tag`."""
        return bool(self.run("images", "-q", tag, quiet=True).strip())

    def _binary(self) -> str:
        binary = shutil.which(self.name)
        if binary is None:
            hint = (
                "apt-get install podman runc podman-compose"
                if self.name == "podman"
                else (
                    "install Docker Engine with the compose plugin (docs.docker.com/engine/install)"
                )
            )
            raise ClusterError(f"`{self.name}` is not on PATH: {hint}")
        return binary


def apt_mirror() -> str:
    """The Debian mirror apt uses here (from /etc/apt/sources.list*), for debootstrap."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in SOURCE_LINE.finditer(text):
            url = match.group(1)
            if "security" not in url and url.startswith(("http://", "https://")):
                return url
    return "http://deb.debian.org/debian"


def local_base(engine: Engine) -> str:
    """A Debian bookworm + JRE base image made without a registry (debootstrap, then import);
    made once, tagged by what it was made from."""
    mirror = apt_mirror()
    key = hashlib.sha256(f"{SUITE} {mirror} {' '.join(BASE_PACKAGES)}".encode()).hexdigest()
    tag = f"{BASE_IMAGE}:{SUITE}-{key[:12]}"
    if engine.has_image(tag):
        return tag
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists() or os.geteuid() != 0:
        raise ClusterError(
            "making the base image without a registry needs root and debootstrap "
            "(`apt-get install debootstrap`); or pass base='debian:bookworm-slim' (--base) to "
            "pull it from a registry"
        )
    work = Path(tempfile.mkdtemp(prefix="hopsfs-base-", dir=cache_dir()))
    try:
        log.info("debootstrap %s from %s (about a minute)", SUITE, mirror)
        include = ",".join(BASE_PACKAGES)
        cmd = [debootstrap, "--variant=minbase", f"--include={include}", SUITE, str(work), mirror]
        engine.call(cmd)
        tar = subprocess.run(["tar", "-C", str(work), "-c", "."], capture_output=True, check=True)
        engine.run("import", "-", tag, stdin=tar.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tag


def image_files() -> list[Path]:
    """The files of compose/ the image is built from (Containerfile, entrypoint, conf/)."""
    if not (COMPOSE_DIR / "Containerfile").exists():
        raise ClusterError(
            f"{COMPOSE_DIR}/Containerfile not found: container clusters need a source checkout "
            "of hopsfs-tools (its compose/ folder)"
        )
    files = [COMPOSE_DIR / "Containerfile", COMPOSE_DIR / "entrypoint.sh"]
    return files + sorted((COMPOSE_DIR / "conf").iterdir())


def ensure_image(engine: Engine, base: str | None = None) -> str:
    """The cluster image's tag, built if no image of the same content exists.

    `base`: the FROM image (default: debian:bookworm-slim for Docker, a local debootstrap-made
    base for podman).
    """
    if base is None:
        base = REGISTRY_BASE if engine.name == "docker" else local_base(engine)
    jars = hadoop_jars(HADOOP_VERSION)
    digest = hashlib.sha256()
    for path in image_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for jar in sorted(jars.glob("*.jar")):
        digest.update(f"{jar.name} {jar.stat().st_size}\n".encode())
    if not engine.has_image(base):
        engine.run("pull", base)  # before hashing: the tag is tied to the base's image id
    digest.update(engine.run("images", "-q", base, quiet=True).strip().encode())
    tag = f"{IMAGE}:{HADOOP_VERSION}-{digest.hexdigest()[:12]}"
    if engine.has_image(tag):
        return tag
    context = Path(tempfile.mkdtemp(prefix="hopsfs-image-", dir=cache_dir()))
    try:
        for path in image_files():
            target = context / path.relative_to(COMPOSE_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        (context / "jars").mkdir()
        for jar in jars.glob("*.jar"):
            _link_or_copy(jar, context / "jars" / jar.name)
        engine.run(
            "build",
            "-f",
            str(context / "Containerfile"),
            "-t",
            tag,
            "--build-arg",
            f"BASE={base}",
            str(context),
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return tag


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (same filesystem: no copy of 75 MB of jars), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
