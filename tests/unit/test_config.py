"""load_config: every precedence rule and every error, with XML files written in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopsfs_tools.config import ClusterConfig, default_cluster_dir, load_config, write_site_xml

ENV = (
    "HOPSFS_NAMENODE_URI",
    "HOPSFS_WEBHDFS_URL",
    "HOPSFS_BACKEND",
    "HADOOP_CONF_DIR",
    "HADOOP_USER_NAME",
    "HOPSFS_TIMEOUT",
    "HOPSFS_RETRIES",
    "HOPSFS_RETRY_BACKOFF",
    "XDG_CACHE_HOME",
)


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration from the machine running the tests; an empty cache dir."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path / "cache"))


def conf(directory: Path, core: dict | None = None, hdfs: dict | None = None) -> Path:
    """A Hadoop conf dir holding the given core-site.xml / hdfs-site.xml properties."""
    directory.mkdir(parents=True, exist_ok=True)
    if core is not None:
        write_site_xml(directory / "core-site.xml", core)
    if hdfs is not None:
        write_site_xml(directory / "hdfs-site.xml", hdfs)
    return directory


def test_conf_dir_xml(tmp_path: Path) -> None:
    d = conf(
        tmp_path / "c",
        {"fs.defaultFS": "hdfs://nn.example:8020"},
        {"dfs.namenode.http-address": "nn.example:9870", "dfs.replication": "2"},
    )
    cfg = load_config(conf_dir=str(d))
    assert cfg == ClusterConfig(
        namenode_uri="hdfs://nn.example:8020",
        webhdfs_url="http://nn.example:9870",
        backend="native",
        conf_dir=str(d),
        user=None,
        timeout=20.0,
        properties={
            "fs.defaultFS": "hdfs://nn.example:8020",
            "dfs.namenode.http-address": "nn.example:9870",
            "dfs.replication": "2",
        },
    )


def test_env_conf_dir_and_hdfs_site_wins_over_core_site(tmp_path: Path, monkeypatch) -> None:
    d = conf(tmp_path / "c", {"fs.defaultFS": "hdfs://nn:1", "x.key": "core"}, {"x.key": "hdfs"})
    monkeypatch.setenv("HADOOP_CONF_DIR", str(d))
    cfg = load_config()
    assert (cfg.namenode_uri, cfg.conf_dir) == ("hdfs://nn:1", str(d))
    assert cfg.properties["x.key"] == "hdfs"
    assert cfg.webhdfs_url is None  # no http-address configured: nothing invented


def test_explicit_conf_dir_beats_env(tmp_path: Path, monkeypatch) -> None:
    env_dir = conf(tmp_path / "env", {"fs.defaultFS": "hdfs://env:1"})
    monkeypatch.setenv("HADOOP_CONF_DIR", str(env_dir))
    cfg = load_config(conf_dir=str(conf(tmp_path / "arg", {"fs.defaultFS": "hdfs://arg:1"})))
    assert cfg.namenode_uri == "hdfs://arg:1"


def test_env_beats_xml_and_args_beat_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(
        "HADOOP_CONF_DIR",
        str(
            conf(
                tmp_path / "c",
                {"fs.defaultFS": "hdfs://xml:1"},
                {"dfs.namenode.http-address": "xml:2"},
            )
        ),
    )
    monkeypatch.setenv("HOPSFS_NAMENODE_URI", "hdfs://env:1")
    monkeypatch.setenv("HOPSFS_WEBHDFS_URL", "http://env:2/")
    monkeypatch.setenv("HOPSFS_BACKEND", "WebHDFS")
    monkeypatch.setenv("HADOOP_USER_NAME", "envuser")
    monkeypatch.setenv("HOPSFS_TIMEOUT", "7.5")
    cfg = load_config()
    assert (cfg.namenode_uri, cfg.webhdfs_url, cfg.backend, cfg.user, cfg.timeout) == (
        "hdfs://env:1",
        "http://env:2",
        "webhdfs",
        "envuser",
        7.5,
    )
    cfg = load_config(
        namenode="hdfs://arg:1",
        webhdfs_url="http://arg:2",
        backend="arrow",
        user="arguser",
        timeout=3,
    )
    assert (cfg.namenode_uri, cfg.webhdfs_url, cfg.backend, cfg.user, cfg.timeout) == (
        "hdfs://arg:1",
        "http://arg:2",
        "arrow",
        "arguser",
        3.0,
    )


def test_namenode_without_scheme_and_with_path_is_normalised() -> None:
    assert load_config(namenode="nn.example:8020").namenode_uri == "hdfs://nn.example:8020"
    cfg = load_config(namenode="hdfs://nn.example:8020/user/x/")
    assert cfg.namenode_uri == "hdfs://nn.example:8020"


def test_bind_all_http_address_uses_namenode_host(tmp_path: Path) -> None:
    d = conf(
        tmp_path / "c",
        {"fs.defaultFS": "hdfs://nn.example:8020"},
        {"dfs.namenode.http-address": "0.0.0.0:9870"},
    )
    assert load_config(conf_dir=str(d)).webhdfs_url == "http://nn.example:9870"


def test_https_only_policy_uses_https_address(tmp_path: Path) -> None:
    d = conf(
        tmp_path / "c",
        {"fs.defaultFS": "hdfs://nn:8020"},
        {
            "dfs.http.policy": "HTTPS_ONLY",
            "dfs.namenode.http-address": "nn:9870",
            "dfs.namenode.https-address": "nn:9871",
        },
    )
    assert load_config(conf_dir=str(d)).webhdfs_url == "https://nn:9871"


def test_ha_nameservice(tmp_path: Path) -> None:
    hdfs = {
        "dfs.nameservices": "mycluster",
        "dfs.ha.namenodes.mycluster": "nn1, nn2",
        "dfs.namenode.rpc-address.mycluster.nn1": "host1:8020",
        "dfs.namenode.rpc-address.mycluster.nn2": "host2:8020",
        "dfs.namenode.http-address.mycluster.nn1": "host1:9870",
        "dfs.namenode.http-address.mycluster.nn2": "host2:9870",
    }
    d = conf(tmp_path / "c", {"fs.defaultFS": "hdfs://mycluster"}, hdfs)
    cfg = load_config(conf_dir=str(d))
    assert cfg.namenode_uri == "hdfs://mycluster"
    assert cfg.webhdfs_url == "http://host1:9870"
    assert {k: cfg.properties[k] for k in hdfs} == hdfs  # handed to hdfs-native / pyarrow as is


def test_webhdfs_only_cluster_gets_hadoop_webhdfs_uri() -> None:
    cfg = load_config(webhdfs_url="https://gateway:8443")
    assert cfg.namenode_uri == "swebhdfs://gateway:8443"
    assert cfg.webhdfs_url == "https://gateway:8443"
    assert cfg.backend == "webhdfs"  # the default when no RPC address is known
    assert load_config(webhdfs_url="https://gateway:8443", backend="arrow").backend == "arrow"
    assert load_config(namenode="hdfs://nn:8020").backend == "native"


def test_default_local_cluster_conf_dir_is_last_resort(tmp_path: Path) -> None:
    d = conf(
        default_cluster_dir() / "conf",
        {"fs.defaultFS": "hdfs://127.0.0.1:1"},
        {"dfs.namenode.http-address": "127.0.0.1:2"},
    )
    cfg = load_config()
    assert (cfg.namenode_uri, cfg.webhdfs_url, cfg.conf_dir) == (
        "hdfs://127.0.0.1:1",
        "http://127.0.0.1:2",
        str(d),
    )
    # an explicit namenode is a different cluster: the local cluster's settings are not mixed in
    cfg = load_config(namenode="hdfs://other:8020")
    assert (cfg.webhdfs_url, cfg.conf_dir, cfg.properties) == (None, None, {})


def test_no_cluster_says_how_to_configure_one() -> None:
    hint = "hopsfs-tools cluster up.*HADOOP_CONF_DIR.*HOPSFS_NAMENODE_URI"
    with pytest.raises(ValueError, match=hint):
        load_config()


def test_local_default_fs_is_no_cluster(tmp_path: Path) -> None:
    d = conf(tmp_path / "c", {"fs.defaultFS": "file:///"})
    with pytest.raises(ValueError, match=f"HADOOP_CONF_DIR={d}.*cluster up"):
        load_config(conf_dir=str(d))


def test_missing_conf_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="nope does not exist.*HADOOP_CONF_DIR"):
        load_config(namenode="hdfs://nn:1")


def test_invalid_xml_names_the_file(tmp_path: Path) -> None:
    d = conf(tmp_path / "c")
    (d / "core-site.xml").write_text("<configuration><property>")
    with pytest.raises(ValueError, match="core-site.xml is not valid XML"):
        load_config(conf_dir=str(d))


@pytest.mark.parametrize("uri", ["s3://bucket", "hdfs:///no-authority"])
def test_bad_namenode_uri(uri: str) -> None:
    with pytest.raises(ValueError, match="is not hdfs://host:port"):
        load_config(namenode=uri)


def test_bad_webhdfs_url() -> None:
    with pytest.raises(ValueError, match="is not http\\(s\\)://host:port.*HOPSFS_WEBHDFS_URL"):
        load_config(webhdfs_url="gateway:8443")


def test_unknown_backend(monkeypatch) -> None:
    with pytest.raises(ValueError, match="Unknown backend 'pydoop'.*native, arrow, webhdfs"):
        load_config(namenode="hdfs://nn:1", backend="pydoop")
    monkeypatch.setenv("HOPSFS_BACKEND", "libhdfs3")
    with pytest.raises(ValueError, match="libhdfs3.*HOPSFS_BACKEND"):
        load_config(namenode="hdfs://nn:1")


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan"])
def test_bad_timeout(value: str, monkeypatch) -> None:
    monkeypatch.setenv("HOPSFS_TIMEOUT", value)
    with pytest.raises(ValueError, match="not a positive number.*HOPSFS_TIMEOUT"):
        load_config(namenode="hdfs://nn:1")


@pytest.mark.parametrize(
    ("value", "umask"),
    [
        ("022", 0o022),
        ("0027", 0o027),
        ("u=rwx,g=rwx,o=", 0o007),
        ("u=rwx,g=r-x,o=r-x", 0o022),
        ("a=rx", 0o222),
        ("o=", 0o007),
    ],
)
def test_umask_octal_and_symbolic(tmp_path: Path, value: str, umask: int) -> None:
    d = conf(tmp_path / "c", {"fs.defaultFS": "hdfs://nn:1", "fs.permissions.umask-mode": value})
    assert load_config(conf_dir=str(d)).umask == umask


def test_umask_default_and_error(tmp_path: Path) -> None:
    assert (
        load_config(conf_dir=str(conf(tmp_path / "a", {"fs.defaultFS": "hdfs://nn:1"}))).umask
        == 0o022
    )
    bad = load_config(
        conf_dir=str(
            conf(tmp_path / "b", {"fs.defaultFS": "hdfs://nn:1", "fs.permissions.umask-mode": "rw"})
        )
    )
    with pytest.raises(ValueError, match="fs.permissions.umask-mode='rw' is neither octal"):
        bad.umask  # noqa: B018 - the property parses on access


def test_retries_and_backoff_precedence(monkeypatch) -> None:
    cfg = load_config(namenode="hdfs://nn:1")
    assert (cfg.retries, cfg.retry_backoff) == (5, 0.5)
    monkeypatch.setenv("HOPSFS_RETRIES", "2")
    monkeypatch.setenv("HOPSFS_RETRY_BACKOFF", "0.1")
    cfg = load_config(namenode="hdfs://nn:1")
    assert (cfg.retries, cfg.retry_backoff) == (2, 0.1)
    cfg = load_config(namenode="hdfs://nn:1", retries=0, retry_backoff=3)
    assert (cfg.retries, cfg.retry_backoff) == (0, 3.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HOPSFS_RETRIES", "-1", "not a whole number >= 0.*HOPSFS_RETRIES"),
        ("HOPSFS_RETRIES", "many", "not a whole number >= 0.*HOPSFS_RETRIES"),
        ("HOPSFS_RETRY_BACKOFF", "-0.5", "not a number of seconds >= 0.*HOPSFS_RETRY_BACKOFF"),
        ("HOPSFS_RETRY_BACKOFF", "nan", "not a number of seconds >= 0.*HOPSFS_RETRY_BACKOFF"),
    ],
)
def test_bad_retry_settings(name: str, value: str, message: str, monkeypatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        load_config(namenode="hdfs://nn:1")
