"""Security past the ticket cache, on a real Kerberos cluster with `hadoop.rpc.protection=privacy`
and `dfs.encrypt.data.transfer=true`: delegation tokens used by processes without a ticket (the
YARN/Spark executor case) on every backend, and what goes over the wire really encrypted."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from child import run_child
from owned import own_cluster, own_kdc
from wire import LoopbackCapture

from hopsfs_tools import HopsFileSystem, load_config
from hopsfs_tools.cluster import Kdc, LocalCluster
from hopsfs_tools.cluster.kdc import missing_tools
from hopsfs_tools.cluster.siteconf import NAMENODE
from hopsfs_tools.fs.delegation import fetch_token
from hopsfs_tools.hadoop import tokens

if missing_tools():  # MIT Kerberos (.ci/run installs it; a skip fails CI there)
    pytest.skip(
        f"needs {', '.join(missing_tools())}: see test_kerberos.py", allow_module_level=True
    )
gssapi_auth = pytest.importorskip("requests_gssapi").HTTPSPNEGOAuth  # the [kerberos] extra

MARKER = b"hopsfs-plaintext-marker-"  # file bytes and a path name that must not be seen on the wire
DATA = MARKER * 40_000 + os.urandom(2**20)  # ~2 MiB: several packets, through the DataNode
BACKENDS = ["native", "webhdfs", "arrow"]
AES = "AES/CTR/NoPadding"

# What a child process does with the credentials it is given: a round trip.
ROUND_TRIP = """
    import os
    from pathlib import Path
    from hopsfs_tools import HopsFileSystem
    fs = HopsFileSystem(backend=os.environ["BACKEND"], skip_instance_cache=True)
    path, data = os.environ["TARGET"], Path(os.environ["DATA"]).read_bytes()
    fs.pipe(path, data)
    result.update(equal=fs.cat(path) == data, owner=fs.info(path)["owner"])
    result["checksum"] = fs.backend.checksum(path)  # native/arrow: through WebHDFS, with the token
"""


@pytest.fixture(scope="module")
def kdc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kdc]:
    yield from own_kdc(tmp_path_factory.mktemp("kdc"))


@pytest.fixture(scope="module")
def private_cluster(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A secure 1-DataNode cluster whose RPC and block traffic are encrypted (blocks with AES,
    as production clusters do; the CLI test below covers Hadoop's default, 3DES)."""
    yield from own_cluster(
        tmp_path_factory.mktemp("private-cluster"),
        datanodes=1,
        kerberos=kdc,
        rpc_protection="privacy",
        encrypt_data_transfer=AES,
    )


@pytest.fixture(scope="module")
def keytab(kdc: Kdc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keytab of the cluster's superuser (the OS user)."""
    tab = tmp_path_factory.mktemp("keytab") / "superuser.keytab"
    kdc.add_principal(getpass.getuser(), tab)
    return tab


@pytest.fixture
def secure_env(
    private_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """The cluster's environment, no HADOOP_USER_NAME / token file and an empty ticket cache in
    KRB5CCNAME (its path is returned: fill it with `kdc.kinit`)."""
    for key, value in private_cluster.env().items():
        monkeypatch.setenv(key, value)
    for key in ("HADOOP_USER_NAME", tokens.VARIABLE):
        monkeypatch.delenv(key, raising=False)
    cache = tmp_path / "krb5cc"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    return cache


@pytest.fixture
def ticket(secure_env: Path, kdc: Kdc, keytab: Path) -> Path:
    """A ticket of the superuser in the test's ticket cache."""
    kdc.kinit(getpass.getuser(), keytab, secure_env)
    return secure_env


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DATA in a local file, for children to write (too big for an environment variable)."""
    path = tmp_path_factory.mktemp("data") / "data.bin"
    path.write_bytes(DATA)
    return str(path)


def capture(cluster: LocalCluster) -> LoopbackCapture:
    """A capture of the NameNode's RPC port and every DataNode's data transfer port."""
    ports = cluster.state.ports
    return LoopbackCapture(
        [ports[NAMENODE]["rpc"], *(ports[dn]["xfer"] for dn in cluster.datanode_names)]
    )


def captured(cap: LoopbackCapture, cluster: LocalCluster) -> tuple[bytes, bytes]:
    """What went through the NameNode's RPC port, and through the DataNodes' transfer ports."""
    ports = cluster.state.ports
    xfer = b"".join(cap.payload(ports[dn]["xfer"]) for dn in cluster.datanode_names)
    return cap.payload(ports[NAMENODE]["rpc"]), xfer


def assert_encrypted(cap: LoopbackCapture, cluster: LocalCluster) -> None:
    """Traffic went through the NameNode's and DataNodes' ports, and none of it in plaintext."""
    rpc, xfer = captured(cap, cluster)
    assert len(rpc) > 1000 and len(xfer) > len(DATA)  # the file went over the wire (both ways)
    assert MARKER not in rpc  # path names: RPC privacy
    assert MARKER not in xfer  # file bytes: encrypted data transfer


def test_cluster_protection(private_cluster: LocalCluster) -> None:
    props = load_config(conf_dir=str(private_cluster.conf_dir)).properties
    assert props["hadoop.rpc.protection"] == "privacy"
    assert props["dfs.encrypt.data.transfer"] == "true"
    assert props["dfs.encrypt.data.transfer.cipher.suites"] == AES
    assert props["dfs.block.access.token.enable"] == "true"
    assert props["hadoop.security.authentication"] == "kerberos"


def test_protection_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a Kerberos cluster"):
        LocalCluster(tmp_path, rpc_protection="privacy")
    with pytest.raises(ValueError, match="hadoop.rpc.protection"):
        LocalCluster(tmp_path, kerberos=Kdc(tmp_path), rpc_protection="secret")


def test_the_capture_sees_plaintext_without_protection(
    cluster: LocalCluster, cluster_env: dict[str, str], hdfs_dir: str
) -> None:
    """The control: on the shared (unprotected) cluster the same capture shows the path in the
    NameNode RPC and the file bytes in the block traffic, so their absence below means something."""
    fs = HopsFileSystem(backend="native", skip_instance_cache=True)
    with capture(cluster) as cap:
        fs.pipe(f"{hdfs_dir}/{MARKER.decode()}.bin", DATA)
    rpc, xfer = captured(cap, cluster)
    assert MARKER in rpc and MARKER * 100 in xfer


@pytest.mark.parametrize("backend", ["native", "webhdfs"])
def test_ticket_round_trip_is_encrypted(
    backend: str, ticket: Path, private_cluster: LocalCluster
) -> None:
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    path = f"/{MARKER.decode()}{backend}-{time.time_ns()}.bin"
    with capture(private_cluster) as cap:
        fs.pipe(path, DATA)
        assert fs.cat(path) == DATA
    assert fs.info(path)["owner"] == getpass.getuser()
    # webhdfs: HTTPS to the servers, whose own Java client (RPC, block pipeline) is captured
    assert_encrypted(cap, private_cluster)


@pytest.mark.parametrize("via", ["webhdfs", "java"])
def test_fetch_token(via: str, ticket: Path, tmp_path: Path, private_cluster: LocalCluster) -> None:
    written = fetch_token(tmp_path / "tokens", via=via, renewer=getpass.getuser())
    assert written.stat().st_mode & 0o777 == 0o600  # a secret
    token = tokens.hdfs_token(written)
    info = token.describe()
    assert info["kind"] == tokens.HDFS_KIND
    assert info["owner"].split("@")[0] == getpass.getuser()
    assert info["max_date"] > info["issued"]
    rpc = private_cluster.namenode_uri.removeprefix("hdfs://")
    assert token.service == rpc  # what RPC clients select it by
    # the URL string WebHDFS takes is the same token
    assert tokens.Token.from_url_string(token.url_string()).password == token.password


def test_token_cli(ticket: Path, tmp_path: Path, private_cluster: LocalCluster) -> None:
    """`hopsfs-tools token fetch FILE` says what it fetched and how to use it; `token show`."""
    cli = [sys.executable, "-m", "hopsfs_tools.cli", "token"]
    file = tmp_path / "cli.token"
    fetched = subprocess.run(
        [*cli, "fetch", str(file), "--via", "java"], capture_output=True, text=True, check=True
    )
    assert f"export HADOOP_TOKEN_FILE_LOCATION={file}" in fetched.stdout
    shown = subprocess.run([*cli, "show", str(file)], capture_output=True, text=True, check=True)
    (line,) = shown.stdout.splitlines()
    rpc = private_cluster.namenode_uri.removeprefix("hdfs://")
    assert f'"service": "{rpc}"' in line and f'"owner": "{getpass.getuser()}@' in line
    missing = subprocess.run(
        [*cli, "show", str(tmp_path / "none")], capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_no_tokens_from_a_cluster_without_kerberos(cluster_env: dict[str, str], tmp_path: Path):
    with pytest.raises(ValueError, match="does not use Kerberos"):
        fetch_token(tmp_path / "t")
    with pytest.raises(ValueError, match="via='ftp'"):
        fetch_token(tmp_path / "t", via="ftp")


@pytest.fixture(scope="module")
def token_files(
    private_cluster: LocalCluster, kdc: Kdc, keytab: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Token files fetched both ways with a ticket that the children never see."""
    directory = tmp_path_factory.mktemp("tokens")
    cache = directory / "fetcher.cc"
    kdc.kinit(getpass.getuser(), keytab, cache)
    with pytest.MonkeyPatch.context() as env:
        for key, value in {**private_cluster.env(), "KRB5CCNAME": f"FILE:{cache}"}.items():
            env.setenv(key, value)
        env.delenv(tokens.VARIABLE, raising=False)
        return {via: fetch_token(directory / via, via=via) for via in ("webhdfs", "java")}


@pytest.mark.parametrize("via", ["webhdfs", "java"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_token_without_a_ticket(
    backend: str,
    via: str,
    secure_env: Path,
    token_files: dict[str, Path],
    private_cluster: LocalCluster,
    data_file: str,
) -> None:
    """A process with no ticket (KRB5CCNAME names an empty cache) and HADOOP_TOKEN_FILE_LOCATION
    writes, reads and checksums a file as the token's owner, over encrypted wires."""
    assert not secure_env.exists()
    target = f"/{MARKER.decode()}token-{backend}-{via}-{time.time_ns()}.bin"
    with capture(private_cluster) as cap:
        result = run_child(
            ROUND_TRIP,
            {
                tokens.VARIABLE: str(token_files[via]),
                "BACKEND": backend,
                "TARGET": target,
                "DATA": data_file,
                "HADOOP_USER_NAME": "mallory",  # ignored: the token says who we are
            },
        )
    assert result["equal"] is True
    assert result["owner"] == getpass.getuser()
    assert result["checksum"]
    assert_encrypted(cap, private_cluster)


def test_arrow_with_a_ticket_is_encrypted(
    ticket: Path, private_cluster: LocalCluster, data_file: str
) -> None:
    """libhdfs's JVM logs in from the ticket cache (a process of its own: one login per JVM)."""
    target = f"/{MARKER.decode()}arrow-ticket-{time.time_ns()}.bin"
    with capture(private_cluster) as cap:
        result = run_child(ROUND_TRIP, {"BACKEND": "arrow", "TARGET": target, "DATA": data_file})
    assert result["equal"] is True and result["owner"] == getpass.getuser()
    assert_encrypted(cap, private_cluster)


def test_webhdfs_token_file_argument(
    secure_env: Path, token_files: dict[str, Path], private_cluster: LocalCluster
) -> None:
    """WebHDFS takes the token file as an argument too (no environment needed)."""
    fs = HopsFileSystem(backend="webhdfs", token_file=str(token_files["webhdfs"]))
    assert fs.info("/")["type"] == "directory"
    with pytest.raises(ValueError, match="export HADOOP_TOKEN_FILE_LOCATION"):
        HopsFileSystem(backend="native", token_file=str(token_files["webhdfs"])).info("/")
    with pytest.raises(FileNotFoundError, match="HADOOP_TOKEN_FILE_LOCATION"):
        HopsFileSystem(backend="webhdfs", token_file=str(secure_env.parent / "missing"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelled_token_is_a_kerberos_error(
    backend: str, ticket: Path, tmp_path: Path, private_cluster: LocalCluster
) -> None:
    """A token the NameNode no longer knows fails at once with KerberosError naming the file."""
    token_file = fetch_token(tmp_path / "cancelled")
    cancel = (
        f"{private_cluster.webhdfs_url}/webhdfs/v1/?op=CANCELDELEGATIONTOKEN"
        f"&token={tokens.hdfs_token(token_file).url_string()}"
    )
    ca = str(private_cluster.tls_material.ca_cert)
    requests.put(cancel, auth=gssapi_auth(), verify=ca, timeout=30).raise_for_status()
    result = run_child(
        """
        import os, time
        from hopsfs_tools import HopsFileSystem, KerberosError
        started = time.monotonic()
        try:
            HopsFileSystem(backend=os.environ["BACKEND"], skip_instance_cache=True).ls("/")
        except KerberosError as e:
            result.update(error=str(e), seconds=time.monotonic() - started)
        """,
        {
            tokens.VARIABLE: str(token_file),
            "KRB5CCNAME": f"FILE:{tmp_path / 'no-ticket'}",
            "BACKEND": backend,
        },
    )
    assert str(token_file) in result["error"] and "HADOOP_TOKEN_FILE_LOCATION" in result["error"]
    assert result["seconds"] < 15  # never retried as if the NameNode were down


def test_cli_cluster_encrypts_data_transfer(tmp_path: Path, data_file: str) -> None:
    """`cluster up --encrypt-data-transfer` (no Kerberos needed): every backend's blocks go
    encrypted; `--rpc-protection privacy` without Kerberos is refused, saying why."""
    directory = str(tmp_path / "cli-cluster")
    cli = [sys.executable, "-m", "hopsfs_tools.cli", "cluster"]
    refused = subprocess.run(
        [*cli, "up", "--dir", directory, "--rpc-protection", "privacy"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1 and "needs a Kerberos cluster" in refused.stderr
    try:
        up = [*cli, "up", "--dir", directory, "--datanodes", "1", "--encrypt-data-transfer"]
        subprocess.run(up, check=True, capture_output=True, timeout=300)
        local = LocalCluster(directory)
        assert (
            load_config(conf_dir=str(local.conf_dir)).properties["dfs.encrypt.data.transfer"]
            == "true"
        )
        for backend in BACKENDS:
            target = f"/{MARKER.decode()}cli-{backend}.bin"
            with capture(local) as cap:
                result = run_child(
                    ROUND_TRIP,
                    {
                        **local.env(),
                        "BACKEND": backend,
                        "TARGET": target,
                        "DATA": data_file,
                        "HADOOP_USER_NAME": None,  # the superuser
                        "HOPSFS_PROJECT": None,
                    },
                )
            assert result["equal"] is True
            xfer = captured(cap, local)[1]
            assert len(xfer) > len(DATA) and MARKER not in xfer, backend
    finally:
        subprocess.run([*cli, "down", "--dir", directory], check=False, timeout=120)
