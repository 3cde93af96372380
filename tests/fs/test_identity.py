"""Who acts on the cluster, and what a filesystem leaves in the process (hadoop.identity, .jvm).

Each scenario runs in a fresh Python process: the HDFS user of hdfs-native is process-wide,
and the JVM of the arrow backend starts once per process.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from hopsfs_tools.config import BACKENDS

LOGIN = getpass.getuser()


def run_script(cluster: Any, script: str, **env: str) -> dict[str, Any]:
    """Run `script` in a fresh interpreter (cluster endpoints as NN/WEB/CONF, no HADOOP_USER_NAME
    nor project in its environment); the JSON object it prints last."""
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME")
    }
    child_env.update(
        NN=cluster.namenode_uri, WEB=cluster.webhdfs_url, CONF=str(cluster.conf_dir), **env
    )
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_project_without_user_acts_as_project_user_on_every_backend(cluster, hdfs_dir, backend):
    """HopsFileSystem(project="demo") with HADOOP_USER_NAME unset acts as demo__<login> on the
    cluster and in spark.configure (the native backend used to act as <login>)."""
    result = run_script(
        cluster,
        """
        import json, os
        from hopsfs_tools import HopsFileSystem
        fs = HopsFileSystem(project="idbug", backend=os.environ["BACKEND"], namenode=os.environ["NN"],
                            webhdfs_url=os.environ["WEB"], conf_dir=os.environ["CONF"])
        path = os.environ["DIR"] + "/owned"
        fs.pipe_file(path, b"x")
        print(json.dumps({"owner": fs.info(path)["owner"], "project_user": fs.project.user}))
    """,
        BACKEND=backend,
        DIR=hdfs_dir,
    )
    assert result == {"owner": f"idbug__{LOGIN}", "project_user": f"idbug__{LOGIN}"}


def test_spark_configure_exports_the_filesystems_user(cluster):
    """spark.configure gives Spark's JVM (through HADOOP_USER_NAME) the user the filesystem acts as."""
    result = run_script(
        cluster,
        """
        import json, os
        from pyspark.sql import SparkSession
        from hopsfs_tools import HopsFileSystem
        from hopsfs_tools.adapters import spark
        fs = HopsFileSystem(project="idbug", namenode=os.environ["NN"], conf_dir=os.environ["CONF"])
        spark.configure(SparkSession.builder, fs=fs)
        print(json.dumps({"env": os.environ.get("HADOOP_USER_NAME")}))
    """,
    )
    assert result == {"env": f"idbug__{LOGIN}"}


def test_native_user_does_not_leak_into_later_filesystems(cluster, hdfs_dir):
    """A native filesystem with user="u" binds HADOOP_USER_NAME only while it is live: a later
    filesystem without a user is the login user (webhdfs), or refused clearly (native, whose
    user is process-wide); after close() the environment is as it was."""
    result = run_script(
        cluster,
        """
        import json, os
        from hopsfs_tools import HopsFileSystem
        d, nn, web = os.environ["DIR"], os.environ["NN"], os.environ["WEB"]
        def make(**kw):
            return HopsFileSystem(namenode=nn, webhdfs_url=web, skip_instance_cache=True, **kw)
        out = {}
        u = make(backend="native", user="leaky")
        u.pipe_file(d + "/by-u", b"x")
        out["u_owner"] = u.info(d + "/by-u")["owner"]
        later = make(backend="webhdfs")
        later.pipe_file(d + "/by-later", b"x")
        out["later_owner"] = later.info(d + "/by-later")["owner"]
        try:
            make(backend="native").info(d)
            out["second_native"] = "allowed"
        except ValueError as e:
            out["second_native"] = str(e)
        u.close()
        out["env_after_close"] = os.environ.get("HADOOP_USER_NAME")
        after = make(backend="native")
        after.pipe_file(d + "/by-after", b"x")
        out["after_owner"] = after.info(d + "/by-after")["owner"]
        after.close()
        out["env_at_end"] = os.environ.get("HADOOP_USER_NAME")
        print(json.dumps(out))
    """,
        DIR=hdfs_dir,
    )
    assert result["u_owner"] == "leaky"
    assert result["later_owner"] == LOGIN
    assert "already talks to HDFS as 'leaky'" in result["second_native"]
    assert result["env_after_close"] is None
    assert result["after_owner"] == LOGIN
    assert result["env_at_end"] is None


def test_native_restores_the_users_own_hadoop_user_name(cluster, hdfs_dir):
    """An explicit user overrides the user's HADOOP_USER_NAME only while the filesystem lives."""
    result = run_script(
        cluster,
        """
        import json, os
        from hopsfs_tools import HopsFileSystem
        fs = HopsFileSystem(namenode=os.environ["NN"], user="other", skip_instance_cache=True)
        fs.info("/")
        during = os.environ.get("HADOOP_USER_NAME")
        fs.close()
        print(json.dumps({"during": during, "after": os.environ.get("HADOOP_USER_NAME")}))
    """,
        HADOOP_USER_NAME="mine",
    )
    assert result == {"during": "other", "after": "mine"}


def test_child_started_after_arrow_backend_sees_its_own_environment(cluster, hdfs_dir):
    """The arrow backend gives the JVM its CLASSPATH/LIBHDFS_OPTS/JAVA_HOME without leaving them
    in os.environ: a child process started afterwards inherits exactly the parent's environment."""
    result = run_script(
        cluster,
        """
        import json, os, subprocess, sys
        from hopsfs_tools import HopsFileSystem
        before = dict(os.environ)
        fs = HopsFileSystem(backend="arrow", namenode=os.environ["NN"], conf_dir=os.environ["CONF"],
                            webhdfs_url=os.environ["WEB"], user="arrowuser")
        fs.pipe_file(os.environ["DIR"] + "/a", b"abc")
        data = fs.cat_file(os.environ["DIR"] + "/a")
        child = subprocess.run([sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
                               capture_output=True, text=True, check=True)
        print(json.dumps({"data": data.decode(), "before": before, "after": dict(os.environ),
                          "child": json.loads(child.stdout)}))
    """,
        DIR=hdfs_dir,
        LIBHDFS_OPTS="-Xmx256m",
    )
    assert result["data"] == "abc"
    assert result["after"] == result["before"]
    assert result["child"] == result["before"]
    assert "CLASSPATH" not in result["child"]
    assert result["child"]["LIBHDFS_OPTS"] == "-Xmx256m"
