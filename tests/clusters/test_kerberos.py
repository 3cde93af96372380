"""A real Kerberos cluster: MIT KDC, NameNode/DataNode principals, SASL-protected data transfer,
HTTPS + SPNEGO; each backend authenticates with a ticket cache, and fails clearly without one."""

from __future__ import annotations

import getpass
import importlib.util
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from child import run_child
from hdfs_native import Client
from owned import own_cluster, own_kdc

from hopsfs_tools import HopsFileSystem, KerberosError, load_config
from hopsfs_tools.cluster import Kdc, LocalCluster
from hopsfs_tools.cluster.kdc import missing_tools

# Optional: MIT Kerberos and the [kerberos] extra (.ci/run installs both; a skip fails CI there).
_MISSING = missing_tools() + [
    m for m in ("requests_gssapi",) if importlib.util.find_spec(m) is None
]
if _MISSING:
    pytest.skip(
        f"Kerberos tests need {', '.join(_MISSING)}: apt-get install krb5-kdc krb5-admin-server "
        "krb5-user libkrb5-dev gcc python3-dev, then make test EXTRAS=test,kerberos,tf,torch,notebooks,spark,jupyter,docs,tools",
        allow_module_level=True,
    )

DATA = os.urandom(3 * 2**20 + 5)  # crosses WebHDFS/packet boundaries; goes through the DataNode
PYTHON_BACKENDS = ["native", "webhdfs"]  # arrow: a fresh process (its JVM reads krb5.conf once)


@pytest.fixture(scope="module")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kdc]:
    yield from own_kdc(tmp_path_factory.mktemp("kdc"))


@pytest.fixture(scope="module")
def krb_cluster(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A secure 1-DataNode cluster (Kerberos, block tokens, SASL data transfer, HTTPS only)."""
    yield from own_cluster(tmp_path_factory.mktemp("krb-cluster"), datanodes=1, kerberos=kdc)


@pytest.fixture(scope="module")
def keytabs(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Client principals: the cluster's superuser (the OS user) and an ordinary user, alice."""
    directory = tmp_path_factory.mktemp("client-keytabs")
    tabs = {name: directory / f"{name}.keytab" for name in (getpass.getuser(), "alice")}
    for name, tab in tabs.items():
        kdc.add_principal(name, tab)
    return tabs


@pytest.fixture
def krb_env(krb_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The cluster's environment (HADOOP_CONF_DIR, HOPSFS_CA_CERT, KRB5_CONFIG) and an empty
    ticket cache in KRB5CCNAME; returns the cache's path (fill it with `kdc.kinit`)."""
    for key, value in krb_cluster.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    cache = tmp_path / "krb5cc"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    return cache


def test_cluster_is_secure(krb_cluster: LocalCluster, kdc: Kdc) -> None:
    props = load_config(conf_dir=str(krb_cluster.conf_dir)).properties
    assert props["hadoop.security.authentication"] == "kerberos"
    assert props["hadoop.security.authorization"] == "true"
    assert props["dfs.block.access.token.enable"] == "true"
    assert props["dfs.data.transfer.protection"] == "authentication"
    assert props["dfs.http.policy"] == "HTTPS_ONLY"
    assert krb_cluster.principals["namenode"] == f"nn/localhost@{kdc.realm}"
    assert props["dfs.namenode.kerberos.principal"] == krb_cluster.principals["namenode"]
    # WebHDFS demands SPNEGO: a request without a Kerberos token is refused.
    url = f"{krb_cluster.webhdfs_url}/webhdfs/v1/?op=LISTSTATUS"
    resp = requests.get(url, verify=str(krb_cluster.tls_material.ca_cert), timeout=30)
    assert resp.status_code == 401
    assert resp.headers.get("WWW-Authenticate", "").startswith("Negotiate")


@pytest.mark.parametrize("backend", PYTHON_BACKENDS)
def test_round_trip_with_a_ticket(
    backend: str,
    krb_env: Path,
    kdc: Kdc,
    keytabs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    superuser = getpass.getuser()
    kdc.kinit(superuser, keytabs[superuser], krb_env)
    monkeypatch.setenv("HADOOP_USER_NAME", "mallory")  # ignored: the ticket says who we are
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    path = f"/krb/{backend}-{time.time_ns()}.bin"
    fs.pipe(path, DATA)  # NameNode RPC (Kerberos) + DataNode write (SASL, block token)
    assert fs.cat(path) == DATA
    assert fs.cat_file(path, start=2**20, end=2**20 + 9) == DATA[2**20 : 2**20 + 9]
    info = fs.info(path)
    assert (info["size"], info["owner"]) == (len(DATA), superuser)
    assert fs.backend.checksum(path)  # native delegates this to WebHDFS: SPNEGO there too


@pytest.mark.parametrize("backend", PYTHON_BACKENDS)
def test_identity_comes_from_the_ticket(
    backend: str,
    krb_env: Path,
    kdc: Kdc,
    keytabs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kdc.kinit("alice", keytabs["alice"], krb_env)
    monkeypatch.setenv("HADOOP_USER_NAME", getpass.getuser())  # claiming the superuser: no effect
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    with pytest.raises(PermissionError, match="alice") as err:
        fs.mkdir(f"/alice-may-not-{backend}")  # "/" belongs to the superuser, mode 755
    assert not isinstance(err.value, KerberosError)  # authenticated, then denied


@pytest.mark.parametrize("backend", PYTHON_BACKENDS)
def test_no_ticket_is_a_kerberos_error(backend: str, krb_env: Path, kdc: Kdc) -> None:
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    started = time.monotonic()
    with pytest.raises(KerberosError) as err:
        fs.ls("/")
    assert time.monotonic() - started < 15  # at once: never a "connection refused" after retries
    message = str(err.value)
    assert isinstance(err.value, PermissionError)
    assert "kinit" in message and f"@{kdc.realm}" in message and "nn/localhost" in message
    assert str(krb_env) in message  # the ticket cache that was looked at
    assert "HADOOP_TOKEN_FILE_LOCATION" in message  # the other way in: a delegation token


def test_arrow_backend_with_and_without_a_ticket(
    krb_env: Path, kdc: Kdc, keytabs: dict[str, Path]
) -> None:
    """libhdfs's JVM reads KRB5_CONFIG (via LIBHDFS_OPTS) and the ticket cache (KRB5CCNAME).

    The JVM logs in once per process, so each case runs in a process of its own (as a user
    would: `kinit` first, then Python)."""

    def run(script: str) -> dict[str, object]:
        imports = "from hopsfs_tools import HopsFileSystem, KerberosError\n"
        return run_child(imports + textwrap.dedent(script), {"HADOOP_USER_NAME": "mallory"})

    without = run("""
        try:
            HopsFileSystem(backend="arrow", skip_instance_cache=True).ls("/")
        except KerberosError as e:
            result["no_ticket"] = str(e)
    """)
    assert "kinit" in without["no_ticket"] and kdc.realm in without["no_ticket"]
    kdc.kinit(getpass.getuser(), keytabs[getpass.getuser()], krb_env)
    with_ticket = run("""
        fs = HopsFileSystem(backend="arrow", skip_instance_cache=True)
        data = bytes(range(256)) * 4096
        fs.pipe("/krb/arrow.bin", data)
        result["equal"] = fs.cat("/krb/arrow.bin") == data
        result["owner"] = fs.info("/krb/arrow.bin")["owner"]
    """)
    assert with_ticket["equal"] is True
    assert with_ticket["owner"] == getpass.getuser()


def test_datanodes_demand_sasl(
    krb_env: Path, kdc: Kdc, keytabs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that skips SASL on data transfer (dfs.data.transfer.protection unset) is refused
    by the DataNode although the NameNode accepted its ticket: the protection is really on."""
    superuser = getpass.getuser()
    kdc.kinit(superuser, keytabs[superuser], krb_env)
    path = f"/krb/sasl-{time.time_ns()}.bin"
    HopsFileSystem(backend="native", skip_instance_cache=True).pipe(path, DATA)
    config = load_config()
    props = {k: v for k, v in config.properties.items() if k != "dfs.data.transfer.protection"}
    monkeypatch.delenv("HADOOP_CONF_DIR")  # hdfs-native would read the property from there
    plain = Client(config.namenode_uri, config=props)
    assert plain.get_file_info(path).length == len(DATA)  # NameNode RPC: fine
    with pytest.raises(RuntimeError, match="All DataNodes failed"):
        plain.read(path).read()
