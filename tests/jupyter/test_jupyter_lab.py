"""JupyterLab in headless Chromium (selenium) on a project's notebooks on HDFS, started with
`hopsfs-tools jupyter --project P --user U`: the file browser lists the HDFS notebook, which
opens with its cells. The screenshot is kept ($HOPSFS_TEST_ARTIFACTS, else pytest's temp dir)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

# Optional outside CI: Debian's chromium and chromium-driver (.ci/run installs them; a skip fails CI).
if not (os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver")):
    pytest.skip(
        "the JupyterLab browser test needs Debian's chromium and chromium-driver: "
        "apt-get install chromium chromium-driver",
        allow_module_level=True,
    )

from hdfs_native import Client
from jupyter_servers import Server, start
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks import admin as projects

NOTEBOOK = "churn.ipynb"
MARKDOWN = "Churn analysis, shared by the team"


@pytest.fixture(scope="module")
def lab(
    cluster: LocalCluster, superuser_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    """JupyterLab acting as alice in a new project holding one notebook, written by her."""
    name = f"jl{uuid.uuid4().hex[:6]}"
    admin = HopsFileSystem(
        namenode=cluster.namenode_uri, user=cluster.state.user, skip_instance_cache=True
    )
    projects.create_project(name, "alice", admin)
    server = None
    try:
        server = start(cluster, tmp_path_factory.mktemp("jupyterlab"), name, "alice", lab=True)
        nb = nbformat.v4.new_notebook(
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            }
        )
        nb.cells = [
            nbformat.v4.new_markdown_cell(
                f"# {MARKDOWN}\nThis notebook lives on HDFS in `/Projects/{name}/Jupyter`."
            ),
            nbformat.v4.new_code_cell(
                "import pandas as pd\ndf = pd.read_csv('hopsfs://Resources/customers.csv')"
            ),
        ]
        reply = server.contents(
            "PUT", NOTEBOOK, json={"type": "notebook", "content": json.loads(nbformat.writes(nb))}
        )
        assert reply.status_code == 201, reply.text
        yield server, name
    finally:
        if server is not None:
            server.stop()
        admin.rm(f"/Projects/{name}", recursive=True)
        admin.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,850",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def artifact(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("HOPSFS_TEST_ARTIFACTS")
    directory = Path(base) if base else tmp_path_factory.getbasetemp() / "artifacts"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def test_file_browser_shows_the_hdfs_notebook(
    lab: tuple[Server, str], browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server, project = lab
    browser.get(f"{server.url}/lab?token={server.token}")
    wait = WebDriverWait(browser, 180)

    def visible(xpath: str) -> WebElement:
        return wait.until(expected_conditions.visibility_of_element_located((By.XPATH, xpath)))

    listed = f"//li[contains(@class, 'jp-DirListing-item')][contains(@title, '{NOTEBOOK}')]"
    item = visible(listed)
    assert item.text.startswith(NOTEBOOK)
    ActionChains(browser).double_click(item).perform()
    assert visible(f"//div[contains(@class, 'jp-RenderedMarkdown')]//h1[contains(., '{MARKDOWN}')]")
    visible("//div[contains(@class, 'jp-InputArea-editor')]//*[contains(text(), 'hopsfs://')]")
    shot = artifact("jupyterlab.png", tmp_path_factory)
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"JupyterLab screenshot: {shot}")
    # opening it started a kernel session for the HDFS path (JupyterLab's own request)
    wait.until(lambda _: any(s["path"] == NOTEBOOK for s in server.api("GET", "sessions").json()))
    assert project in browser.page_source  # the markdown names the project's HDFS directory
