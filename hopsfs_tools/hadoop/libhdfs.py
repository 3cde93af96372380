"""Find or build libhdfs.so, the JNI library pyarrow.fs.HadoopFileSystem loads.

No registry ships libhdfs.so as a binary. Hadoop's libhdfs C sources are bundled in
pydoop's source distribution on PyPI. We download that archive (never running its setup.py,
so the installed pip and setuptools do not matter), check it against a pinned sha256, and
compile its src/libhdfs once with gcc against $JAVA_HOME/include into a cache dir. A user
with a Hadoop install uses its own ($HADOOP_HOME/lib/native) and nothing is built.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

import requests

from hopsfs_tools.config import cache_dir, settings
from hopsfs_tools.hadoop.jars import hadoop_classpath

log = logging.getLogger(__name__)

PYDOOP_SDIST = "pydoop-2.0.0.tar.gz"
PYDOOP_VERSION = "2.0.0"
# The sha256 of PYDOOP_SDIST as published on PyPI; a download that differs is refused.
PYDOOP_SHA256 = "c7eb2ad8c36d2a75dc1c6cee701928334614f2e862a70798b0cb278e3102f77d"
PYPI_JSON = "https://pypi.org/pypi/pydoop/json"  # PyPI's JSON API: the sdist's download URL
LIB_NAME = "libhdfs.so"

# Every libhdfs function pyarrow's HDFS shim (arrow/io/hdfs_internal.cc) looks up with dlsym.
REQUIRED_SYMBOLS: tuple[str, ...] = (
    "hdfsAvailable",
    "hdfsBuilderConfSetStr",
    "hdfsBuilderConnect",
    "hdfsBuilderSetForceNewInstance",
    "hdfsBuilderSetKerbTicketCachePath",
    "hdfsBuilderSetNameNode",
    "hdfsBuilderSetNameNodePort",
    "hdfsBuilderSetUserName",
    "hdfsChmod",
    "hdfsChown",
    "hdfsCloseFile",
    "hdfsCopy",
    "hdfsCreateDirectory",
    "hdfsDelete",
    "hdfsDisconnect",
    "hdfsExists",
    "hdfsFlush",
    "hdfsFreeFileInfo",
    "hdfsFreeHosts",
    "hdfsGetCapacity",
    "hdfsGetDefaultBlockSize",
    "hdfsGetHosts",
    "hdfsGetPathInfo",
    "hdfsGetUsed",
    "hdfsGetWorkingDirectory",
    "hdfsListDirectory",
    "hdfsMove",
    "hdfsNewBuilder",
    "hdfsOpenFile",
    "hdfsPread",
    "hdfsRead",
    "hdfsRename",
    "hdfsSeek",
    "hdfsSetReplication",
    "hdfsSetWorkingDirectory",
    "hdfsTell",
    "hdfsUtime",
    "hdfsWrite",
)

# Hadoop 3 moved libhdfs's stack-trace helper to commons-lang3 (Hadoop no longer ships
# commons-lang 2); pydoop's copy predates that, so we apply the same one-line change.
_SOURCE_PATCHES = {
    "exception.c": (
        "org/apache/commons/lang/exception/ExceptionUtils",
        "org/apache/commons/lang3/exception/ExceptionUtils",
    ),
}


def build_dir() -> Path:
    """Where the libhdfs.so built by hopsfs-tools is cached."""
    return cache_dir() / "libhdfs"


def java_home() -> Path:
    """$JAVA_HOME, else the JDK that `java` on PATH belongs to."""
    given = settings.java().java_home
    if given:
        return Path(given)
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(
            "no Java found: set JAVA_HOME to a JDK (>= 8, e.g. /usr/lib/jvm/java-17-openjdk-amd64) "
            "or put `java` on PATH (e.g. `apt-get install openjdk-17-jdk-headless`)"
        )
    return Path(java).resolve().parent.parent


def libjvm_dir(home: Path) -> Path:
    """The directory holding libjvm.so inside the JDK/JRE at `home`."""
    for sub in ("lib/server", "jre/lib/amd64/server", "jre/lib/server", "lib/amd64/server"):
        if (home / sub / "libjvm.so").exists():
            return home / sub
    found = next(iter(sorted(home.glob("**/server/libjvm.so"))), None)
    if found is None:
        raise RuntimeError(f"no libjvm.so under JAVA_HOME={home}; point JAVA_HOME at a JDK")
    return found.parent


def ensure_libhdfs(*, rebuild: bool = False) -> Path:
    """The directory of a libhdfs.so: $ARROW_LIBHDFS_DIR, $HADOOP_HOME/lib/native, or our build.

    `rebuild=True` ignores the environment and rebuilds the cached copy.
    """
    if not rebuild:
        java = settings.java()
        for value, sub in ((java.libhdfs_dir, ""), (java.hadoop_home, "lib/native")):
            if value and (Path(value, sub) / LIB_NAME).exists():
                return Path(value, sub)
        if (build_dir() / LIB_NAME).exists():
            return build_dir()
    return build_libhdfs()


def build_libhdfs() -> Path:
    """Download pydoop's sdist, compile its bundled libhdfs with gcc and cache libhdfs.so."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError(
            "building libhdfs.so needs a C compiler: install gcc (e.g. `apt-get install gcc`), "
            "or set ARROW_LIBHDFS_DIR / HADOOP_HOME to an existing libhdfs.so"
        )
    home = java_home()
    include = home / "include"
    if not (include / "jni.h").exists() or not (include / "linux" / "jni_md.h").exists():
        raise RuntimeError(
            f"JAVA_HOME={home} has no JNI headers ({include}/jni.h, {include}/linux/jni_md.h): "
            "point JAVA_HOME at a JDK, not a JRE (e.g. `apt-get install openjdk-17-jdk-headless`)"
        )
    jvm_dir = libjvm_dir(home)
    target = build_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="libhdfs-build-") as tmp:
        src = _fetch_sources(Path(tmp))
        partial = target / f".{LIB_NAME}.{os.getpid()}.partial"
        sources = sorted(
            str(p) for pattern in ("*.c", "common/*.c", "os/posix/*.c") for p in src.glob(pattern)
        )
        cmd = [
            gcc,
            "-shared",
            "-fPIC",
            "-O2",
            "-w",
            "-o",
            str(partial),
            f"-I{src}",
            f"-I{src / 'include'}",
            f"-I{src / 'os' / 'posix'}",
            f"-I{include}",
            f"-I{include / 'linux'}",
            *sources,
            f"-L{jvm_dir}",
            "-ljvm",
            f"-Wl,-rpath,{jvm_dir}",
            "-lpthread",
        ]
        log.info("compiling libhdfs.so from %s against JAVA_HOME=%s", src, home)
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"gcc failed to compile libhdfs:\n{_tail(proc.stderr)}")
        missing = sorted(set(REQUIRED_SYMBOLS) - exported_symbols(partial))
        if missing:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"the libhdfs.so built from {PYDOOP_SDIST} lacks {missing}")
        os.replace(partial, target / LIB_NAME)
    info = {"java_home": str(home), "libjvm_dir": str(jvm_dir), "source": PYDOOP_SDIST}
    (target / "BUILD_INFO.json").write_text(json.dumps(info, indent=1) + "\n")
    log.info("built %s", target / LIB_NAME)
    return target


def _fetch_sources(tmp: Path) -> Path:
    """Download pydoop's sdist into `tmp`, check its sha256, unpack only src/libhdfs, patch it."""
    archive = tmp / PYDOOP_SDIST
    log.info("downloading %s from PyPI (for Hadoop's libhdfs C sources)", PYDOOP_SDIST)
    try:
        url = _sdist_url()
        with requests.get(url, stream=True, timeout=60) as resp, archive.open("wb") as out:
            resp.raise_for_status()
            digest = hashlib.sha256()
            for chunk in resp.iter_content(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise RuntimeError(
            f"could not download {PYDOOP_SDIST} from PyPI ({exc}); access to pypi.org is needed "
            "once to get libhdfs's C sources, or set ARROW_LIBHDFS_DIR to a directory holding "
            "libhdfs.so"
        ) from None
    if digest.hexdigest() != PYDOOP_SHA256:
        raise RuntimeError(
            f"{url} has sha256 {digest.hexdigest()}, expected {PYDOOP_SHA256}: refusing to build "
            "from it (a proxy rewrote it, or the download is corrupt; retry, or set "
            "ARROW_LIBHDFS_DIR to a directory holding libhdfs.so)"
        )
    prefix = f"pydoop-{PYDOOP_VERSION}/src/libhdfs/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        if not members:
            raise RuntimeError(f"{PYDOOP_SDIST} holds no {prefix} directory")
        tar.extractall(tmp, members=members, filter="data")
    src = tmp / prefix
    for name, (old, new) in _SOURCE_PATCHES.items():
        path = src / name
        path.write_text(path.read_text().replace(old, new))
    return src


def _sdist_url() -> str:
    """The download URL of PYDOOP_SDIST, from PyPI's JSON API."""
    resp = requests.get(PYPI_JSON, timeout=30)
    resp.raise_for_status()
    for file in resp.json()["releases"][PYDOOP_VERSION]:
        if file["filename"] == PYDOOP_SDIST:
            return file["url"]
    raise ValueError(f"PyPI lists no {PYDOOP_SDIST}")


def exported_symbols(lib: Path) -> set[str]:
    """The dynamic symbols `lib` defines (`nm -D --defined-only`)."""
    nm = shutil.which("nm")
    if nm is None:
        raise RuntimeError("`nm` (binutils) is needed to check libhdfs.so; install binutils")
    out = subprocess.run(
        [nm, "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def arrow_environment(conf_dir: str | None) -> dict[str, str]:
    """The env vars libhdfs needs: ARROW_LIBHDFS_DIR, JAVA_HOME, CLASSPATH, LD_LIBRARY_PATH,
    and LIBHDFS_OPTS: the JVM's log4j config, and $KRB5_CONFIG (Java reads only /etc/krb5.conf)."""
    home = java_home()
    jvm_dir = str(libjvm_dir(home))
    given = settings.java()
    ld_path = given.ld_library_path or ""
    if jvm_dir not in ld_path.split(os.pathsep):
        ld_path = os.pathsep.join(p for p in (jvm_dir, ld_path) if p)
    env = {
        "ARROW_LIBHDFS_DIR": str(ensure_libhdfs()),
        "JAVA_HOME": str(home),
        # Explicit jars: the JVM started through JNI does not expand `dir/*` wildcards.
        "CLASSPATH": hadoop_classpath(conf_dir=conf_dir),
        "LD_LIBRARY_PATH": ld_path,
    }
    opts = [given.libhdfs_opts or ""]
    krb5_conf = given.krb5_config
    if krb5_conf and "java.security.krb5.conf" not in opts[0]:
        first = krb5_conf.split(os.pathsep)[0]  # MIT allows a list of files; Java takes one
        opts.append(f"-Djava.security.krb5.conf={first}")
    if "log4j.configuration" not in opts[0]:  # errors only, not the daemons' INFO/WARN chatter
        opts.append(f"-Dlog4j.configuration=file:{client_log4j()}")
    env["LIBHDFS_OPTS"] = " ".join(opts).strip()
    return env


def client_log4j() -> Path:
    """The log4j.properties the libhdfs JVM uses unless LIBHDFS_OPTS names one."""
    return Path(str(resources.files("hopsfs_tools.hadoop") / "log4j-client.properties"))


def describe(conf_dir: str | None = None) -> str:
    """A human-readable summary of the libhdfs setup the arrow backend will use."""
    env = arrow_environment(conf_dir)
    jars = [p for p in env["CLASSPATH"].split(os.pathsep) if p.endswith(".jar")]
    return "\n".join(
        [
            f"libhdfs.so:  {Path(env['ARROW_LIBHDFS_DIR']) / LIB_NAME}",
            f"JAVA_HOME:   {env['JAVA_HOME']}",
            f"CLASSPATH:   {len(jars)} jars" + (f" + {conf_dir}" if conf_dir else ""),
        ]
    )


def main_libhdfs(rebuild: bool) -> str:
    """What `hopsfs-tools libhdfs [--rebuild]` prints."""
    if rebuild:
        ensure_libhdfs(rebuild=True)
    return describe(settings.java().conf_dir)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
