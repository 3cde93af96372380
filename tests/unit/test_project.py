"""The project model and path resolution (pure: no cluster needed)."""

from __future__ import annotations

import getpass
from pathlib import PurePosixPath

import pytest

from hopsfs_tools.config.project import Project, current_project, resolve, split_user


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HADOOP_USER_NAME"):
        monkeypatch.delenv(name, raising=False)


PROJECT = Project(name="demo", user="demo__alice")


def test_root() -> None:
    assert PROJECT.root == "/Projects/demo"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/Projects/demo"),
        (".", "/Projects/demo"),
        ("Resources/x.csv", "/Projects/demo/Resources/x.csv"),
        ("Resources//sub/./x.csv/", "/Projects/demo/Resources/sub/x.csv"),
        ("Resources/../Logs", "/Projects/demo/Logs"),
        ("../other/Resources", "/Projects/other/Resources"),
        ("../../../../etc", "/etc"),  # never above "/"
        ("/abs/path", "/abs/path"),
        ("/", "/"),
        ("//double//slash", "/double/slash"),
        ("/../../x", "/x"),
        ("hdfs://10.0.2.15:8020/Projects/demo/Models/", "/Projects/demo/Models"),
        ("hdfs://mycluster/a/b", "/a/b"),
        ("hdfs://host:8020", "/"),
        ("hopsfs://Resources/x", "/Projects/demo/Resources/x"),
        ("hopsfs://", "/Projects/demo"),
        ("hopsfs:///abs/x", "/abs/x"),
        ("hopsfs:////abs/../x", "/x"),
        (PurePosixPath("Resources/p"), "/Projects/demo/Resources/p"),
        (b"Resources/b", "/Projects/demo/Resources/b"),
    ],
)
def test_resolve(path, expected: str) -> None:
    assert PROJECT.resolve(path) == expected


def test_resolve_without_project_is_relative_to_root() -> None:
    assert resolve("a/b") == "/a/b"
    assert resolve("hopsfs://a") == "/a"


@pytest.mark.parametrize("path", ["s3://bucket/key", "file:///tmp/x", "http://nn:9870/x"])
def test_resolve_rejects_other_schemes(path: str) -> None:
    with pytest.raises(ValueError, match="has scheme.*hdfs://host:port/path"):
        PROJECT.resolve(path)


def test_current_project_from_hadoop_user_name(monkeypatch) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", "demo__alice")
    assert current_project() == Project("demo", "demo__alice")


def test_current_project_precedence(monkeypatch) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", "demo__alice")
    monkeypatch.setenv("HOPSWORKS_PROJECT_NAME", "hops")
    assert current_project().name == "hops"  # Hopsworks' own variable beats the user's prefix
    monkeypatch.setenv("HOPSFS_PROJECT", "envproj")
    assert current_project() == Project("envproj", "demo__alice")
    assert current_project(name="argproj", user="bob") == Project("argproj", "bob")


def test_current_project_user_defaults_to_login(monkeypatch) -> None:
    monkeypatch.setenv("HOPSFS_PROJECT", "demo")
    assert current_project() == Project("demo", f"demo__{getpass.getuser()}")


def test_no_project() -> None:
    assert current_project() is None
    assert current_project(user="hdfs") is None  # a plain HDFS user names no project


@pytest.mark.parametrize("user", ["demo__", "__alice", "a__b__c", "demo____alice"])
def test_malformed_hadoop_user_name(user: str, monkeypatch) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", user)
    hint = f"'{user}' is not of the form <project>__<user>.*HOPSFS_PROJECT"
    with pytest.raises(ValueError, match=hint):
        current_project()
    with pytest.raises(ValueError, match="<project>__<user>"):
        current_project(name="demo")  # a broken user is an error even with an explicit project


@pytest.mark.parametrize("name", ["", " ", "a/b", "..", "a__b"])
def test_invalid_project_name(name: str) -> None:
    with pytest.raises(ValueError, match="Project name .* is invalid"):
        current_project(name=name)
    with pytest.raises(ValueError, match="is invalid"):
        Project(name=name, user="alice")


def test_empty_user_is_invalid() -> None:
    with pytest.raises(ValueError, match="user '' is empty"):
        Project(name="demo", user="")


def test_split_user() -> None:
    assert split_user("demo__alice") == ("demo", "alice")
    assert split_user("hdfs") == (None, "hdfs")
