"""WebHDFS over HTTPS against a real HTTPS-only cluster (its own CA), and refusals of wrong trust."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from hopsfs_tools import CertificateVerificationError, HopsFileSystem, load_config
from hopsfs_tools.cluster import LocalCluster, TlsMaterial

DATA = os.urandom(3 * 2**20 + 17)  # several WebHDFS requests and a partial last one


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """An HTTPS-only 1-DataNode cluster whose certificate names 127.0.0.1 only (not localhost)."""
    directory = tmp_path_factory.mktemp("tls-cluster")
    material = TlsMaterial.create(directory / "ca", hosts=["127.0.0.1"])
    local = LocalCluster(directory / "cluster", datanodes=1, tls=material, owned=True)
    try:
        local.up(timeout=300)
        yield local
    finally:
        local.down()


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA from the environment: each test says what it trusts; the OS user (superuser)."""
    for key in (
        "HOPSFS_CA_CERT",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HADOOP_CONF_DIR",
        "HADOOP_USER_NAME",
    ):
        monkeypatch.delenv(key, raising=False)


def webhdfs(cluster: LocalCluster, **kw: object) -> HopsFileSystem:
    """A webhdfs filesystem on `cluster` as its superuser (kw: webhdfs_url, ca_cert, ...)."""
    options = {"namenode": cluster.namenode_uri, "webhdfs_url": cluster.webhdfs_url, **kw}
    return HopsFileSystem(
        backend="webhdfs", user=getpass.getuser(), skip_instance_cache=True, **options
    )


def test_cluster_serves_https_only(tls_cluster: LocalCluster, no_ca_env: None) -> None:
    assert tls_cluster.webhdfs_url.startswith("https://127.0.0.1:")
    assert tls_cluster.env()["HOPSFS_CA_CERT"] == str(tls_cluster.tls_material.ca_cert)
    # the configuration clients read points at the HTTPS address
    assert load_config(conf_dir=str(tls_cluster.conf_dir)).webhdfs_url == tls_cluster.webhdfs_url
    http_port = tls_cluster.state.ports["namenode"]["http"]
    with pytest.raises(requests.ConnectionError):  # dfs.http.policy=HTTPS_ONLY: no plain HTTP
        requests.get(f"http://127.0.0.1:{http_port}/jmx", timeout=5)


def test_round_trip_over_https_with_the_cluster_ca(
    tls_cluster: LocalCluster, no_ca_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in tls_cluster.env().items():  # HADOOP_CONF_DIR, HOPSFS_CA_CERT, ...
        monkeypatch.setenv(key, value)
    fs = HopsFileSystem(backend="webhdfs", user=getpass.getuser(), skip_instance_cache=True)
    assert fs.config.webhdfs_url.startswith("https://")
    path = f"/tls/round-trip-{time.time_ns()}.bin"
    fs.pipe(path, DATA)
    assert fs.cat(path) == DATA
    assert fs.cat_file(path, start=2**20 - 3, end=2**20 + 5) == DATA[2**20 - 3 : 2**20 + 5]
    assert fs.info(path)["size"] == len(DATA)

    # The data itself comes from the DataNode, through an HTTPS redirect.
    url = f"{tls_cluster.webhdfs_url}/webhdfs/v1{path}?op=OPEN&user.name={getpass.getuser()}"
    ca = str(tls_cluster.tls_material.ca_cert)
    redirect = requests.get(url, allow_redirects=False, verify=ca, timeout=30)
    assert redirect.status_code == 307
    location = urlsplit(redirect.headers["Location"])
    dn_https = tls_cluster.state.ports["datanode-1"]["https"]
    assert (location.scheme, location.port) == ("https", dn_https)


def test_swebhdfs_url_and_explicit_ca(tls_cluster: LocalCluster, no_ca_env: None) -> None:
    port = tls_cluster.state.ports["namenode"]["https"]
    fs = webhdfs(
        tls_cluster,
        webhdfs_url=f"swebhdfs://127.0.0.1:{port}",
        ca_cert=str(tls_cluster.tls_material.ca_cert),
    )
    assert fs.config.webhdfs_url == f"https://127.0.0.1:{port}"
    path = f"/tls/swebhdfs-{time.time_ns()}.txt"
    fs.pipe(path, b"over swebhdfs")
    assert fs.cat(path) == b"over swebhdfs"


def test_native_backend_delegates_to_webhdfs_over_https(
    tls_cluster: LocalCluster, no_ca_env: None
) -> None:
    ca = str(tls_cluster.tls_material.ca_cert)
    # no user=: hdfs-native has one user per process, and earlier tests may hold another
    native = HopsFileSystem(
        conf_dir=str(tls_cluster.conf_dir), ca_cert=ca, skip_instance_cache=True
    )
    path = f"/tls/checksum-{time.time_ns()}.bin"
    try:
        native.pipe(path, DATA)
        web = webhdfs(tls_cluster, ca_cert=ca)
        assert native.backend.checksum(path) == web.backend.checksum(path)  # HTTPS
    finally:
        native.close()


def test_wrong_ca_is_refused_before_sending_data(
    tls_cluster: LocalCluster, no_ca_env: None, tmp_path: Path
) -> None:
    other_ca = TlsMaterial.create(tmp_path / "other", hosts=["127.0.0.1"]).ca_cert
    fs = webhdfs(tls_cluster, ca_cert=str(other_ca))
    path = f"/tls/refused-{time.time_ns()}.bin"
    started = time.monotonic()
    with pytest.raises(CertificateVerificationError) as err:
        fs.pipe(path, DATA)
    assert time.monotonic() - started < 30
    message = str(err.value)
    assert isinstance(err.value, ConnectionError)
    assert tls_cluster.webhdfs_url in message
    assert "failed verification" in message and str(other_ca) in message
    assert "ca_cert=" in message and "HOPSFS_CA_CERT" in message
    assert "nothing was sent" in message
    trusted = webhdfs(tls_cluster, ca_cert=str(tls_cluster.tls_material.ca_cert))
    assert not trusted.exists(path)


def test_system_trust_refuses_the_self_signed_ca(
    tls_cluster: LocalCluster, no_ca_env: None
) -> None:
    fs = webhdfs(tls_cluster)  # no ca_cert: the system's CAs, which do not know this one
    with pytest.raises(CertificateVerificationError, match="against system CAs"):
        fs.ls("/")


def test_hostname_is_verified(tls_cluster: LocalCluster, no_ca_env: None) -> None:
    port = tls_cluster.state.ports["namenode"]["https"]  # the certificate names 127.0.0.1 only
    fs = webhdfs(
        tls_cluster,
        webhdfs_url=f"https://localhost:{port}",
        ca_cert=str(tls_cluster.tls_material.ca_cert),
    )
    with pytest.raises(CertificateVerificationError, match="(?i)hostname mismatch.*localhost"):
        fs.ls("/")


def test_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(FileNotFoundError, match="HOPSFS_CA_CERT"):
        load_config(webhdfs_url="https://nn:9871", ca_cert=str(missing))
