"""A throw-away MIT Kerberos KDC for a local secure cluster (Debian: krb5-kdc, krb5-admin-server).

Everything lives in one directory: krb5.conf (clients: KRB5_CONFIG; Java:
-Djava.security.krb5.conf), kdc.conf (KRB5_KDC_PROFILE), the database, keytabs and the KDC log.
The KDC runs in the foreground as our child on a free port, and exits when the thread that
started it does (PR_SET_PDEATHSIG); nothing in /etc is touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from hopsfs_tools.cluster.owner import dying_with_parent
from hopsfs_tools.cluster.ports import free_port
from hopsfs_tools.config import settings

DEFAULT_REALM = "HOPSFS.TEST"
_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
_PACKAGES = "krb5-kdc krb5-admin-server krb5-user"


class KdcError(RuntimeError):
    """The KDC could not be created, started or used; the message says why."""


def _find(name: str) -> str | None:
    """The path of a Kerberos command (the KDC's live in /usr/sbin, often not on PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


def _tool(name: str) -> str:
    """The path of a Kerberos command, or a KdcError naming the packages to install."""
    found = _find(name)
    if not found:
        raise KdcError(
            f"`{name}` not found: install MIT Kerberos, e.g. `apt-get install {_PACKAGES}`"
        )
    return found


def missing_tools() -> list[str]:
    """The MIT Kerberos commands a `Kdc` needs that are not installed (empty: all there)."""
    return [name for name in _TOOLS if not _find(name)]


class Kdc:
    """An MIT KDC for `realm` kept in `directory`: start(), add principals, kinit, stop()."""

    def __init__(self, directory: str | os.PathLike, realm: str = DEFAULT_REALM) -> None:
        self.directory = Path(directory).resolve()
        self.realm = realm
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def krb5_conf(self) -> Path:
        return self.directory / "krb5.conf"

    @property
    def kdc_conf(self) -> Path:
        return self.directory / "kdc.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "kdc.log"

    def env(self) -> dict[str, str]:
        """What MIT Kerberos clients (kinit, libgssapi) need to find this realm's KDC."""
        return {"KRB5_CONFIG": str(self.krb5_conf)}

    def principal(self, name: str) -> str:
        """`name` with this realm appended ("nn/localhost" -> "nn/localhost@REALM")."""
        return name if "@" in name else f"{name}@{self.realm}"

    def start(self, timeout: float = 30.0) -> Kdc:
        """Create the realm's database and run krb5kdc until the KDC accepts connections."""
        tools = {name: _tool(name) for name in _TOOLS}
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._write_config()
        self._run(
            [tools["kdb5_util"], "create", "-s", "-r", self.realm, "-P", secrets.token_urlsafe(16)],
            "creating the KDC database",
        )
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            # A killed owner (a test run) leaves no KDC behind.
            dying_with_parent([tools["krb5kdc"], "-n", "-r", self.realm]),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(),
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise KdcError(
                    f"krb5kdc exited with {self._process.returncode}:\n{self._log_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise KdcError(f"krb5kdc did not listen on port {self.port} within {timeout:g}s")

    def stop(self) -> None:
        """Stop the KDC (the directory, with its keytabs, stays until the caller removes it)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def add_principal(self, name: str, keytab: str | os.PathLike | None = None) -> str:
        """Create principal `name` with a random key; export it to `keytab` if given."""
        principal = self.principal(name)
        self._kadmin(f"addprinc -randkey {principal}")
        if keytab is not None:
            self._kadmin(f"ktadd -k {keytab} {principal}")
        return principal

    def kinit(self, principal: str, keytab: str | os.PathLike, ccache: str | os.PathLike) -> None:
        """Get a ticket for `principal` from `keytab` into the credential cache file `ccache`."""
        self._run(
            [_tool("kinit"), "-kt", str(keytab), "-c", f"FILE:{ccache}", self.principal(principal)],
            f"kinit {principal}",
        )

    # ----------------------------------------------------------------- internals
    def _write_config(self) -> None:
        d, realm, port = self.directory, self.realm, self.port
        self.krb5_conf.write_text(f"""\
[libdefaults]
    default_realm = {realm}
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    ignore_acceptor_hostname = true
    udp_preference_limit = 1
    ticket_lifetime = 24h
    forwardable = true

[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
    }}

[domain_realm]
    localhost = {realm}
    127.0.0.1 = {realm}
""")
        self.kdc_conf.write_text(f"""\
[kdcdefaults]
    kdc_ports = {port}
    kdc_tcp_ports = {port}

[realms]
    {realm} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        max_life = 24h
        max_renewable_life = 7d
    }}

[logging]
    kdc = FILE:{self.log_path}
""")

    def _env(self) -> dict[str, str]:
        """The environment of the KDC's own commands (krb5kdc, kdb5_util, kadmin.local)."""
        return settings.child_environment(**self.env(), KRB5_KDC_PROFILE=str(self.kdc_conf))

    def _kadmin(self, query: str) -> None:
        self._run([_tool("kadmin.local"), "-r", self.realm, "-q", query], f"kadmin.local {query!r}")

    def _run(self, cmd: list[str], what: str) -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self._env(), check=False)
        # kadmin.local reports most failures on stderr with exit status 0
        failed = proc.returncode != 0 or "error" in proc.stderr.lower()
        if failed:
            raise KdcError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {self.log_path})"
