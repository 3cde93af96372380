"""Real Jupyter server processes for the Jupyter tests, one per project member, each started
through `hopsfs-tools jupyter` (so acting as that member) and spoken to over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from tornado.websocket import websocket_connect

from hopsfs_tools.cluster import LocalCluster


@dataclass
class Server:
    """A running server: its URL and token, and the HDFS user it acts as."""

    url: str
    token: str
    user: str
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(
            method, f"{self.url}/api/{path}", headers=headers, timeout=120, **kwargs
        )

    def contents(self, method: str, path: str = "", **kwargs: Any) -> requests.Response:
        """A request to the contents API on `path` (relative to the server's HDFS root)."""
        return self.api(method, "contents/" + quote(path.strip("/")), **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)

    async def run_code(self, code: str, timeout: float = 120) -> str:
        """Start a kernel, run `code` in it over the kernel websocket, return its stdout."""
        kernel = self.api("POST", "kernels", json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = kernel.json()["id"]
        ws_url = self.url.replace("http", "ws", 1)
        ws = await websocket_connect(
            f"{ws_url}/api/kernels/{kernel_id}/channels?token={self.token}"
        )
        msg_id = uuid.uuid4().hex
        await ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        out, deadline = [], time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                raw = await ws.read_message()
                assert raw is not None, "the kernel websocket closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    raise AssertionError("\n".join(msg["content"]["traceback"]))
                elif msg["msg_type"] == "execute_reply":
                    return "".join(out)
            raise AssertionError(f"no reply from the kernel within {timeout} s: {out}")
        finally:
            ws.close()
            self.api("DELETE", f"kernels/{kernel_id}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(cluster: LocalCluster, home: Path) -> dict[str, str]:
    """The environment of a server process: the cluster's, Jupyter's state under `home`."""
    env = {**os.environ, **cluster.env()}
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        env.pop(key, None)
    for key, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("IPYTHONDIR", "ipython"),
    ):
        env[key] = str(home / sub)
    # JupyterLab's settings: no "get notified about Jupyter news?" toast over the page
    settings = home / "lab-settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    return env


def start(
    cluster: LocalCluster, home: Path, project: str, user: str, *options: str, lab: bool = False
) -> Server:
    """`hopsfs-tools jupyter --project P --user U [options]` on a free port; waits until it
    answers (fails with its log if it exits or takes over 120 s)."""
    home.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), uuid.uuid4().hex
    command = [
        sys.executable,
        "-m",
        "hopsfs_tools.cli",
        "jupyter",
        "--project",
        project,
        "--user",
        user,
        *([] if lab else ["--server"]),
        *options,
        "--",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--no-browser",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home}",
    ]
    log = home / f"server-{project}__{user}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=server_env(cluster, home), stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", token, f"{project}__{user}", process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:
            if server.api("GET", "status").status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    server.stop()
    raise AssertionError(f"the server did not answer within 120 s:\n{log.read_text()[-3000:]}")
