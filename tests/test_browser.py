"""The lab in a real browser: JupyterLab in headless Chromium, as a learner sees it."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (README: apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a copy of the notebooks (autosave can never touch the repository)."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    shutil.copytree(ROOT / "images", work / "images")
    settings = work / "settings"
    for plugin, values in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                         "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), "browser-test-token"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/api/status?token={token}", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield url, token
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def open_and_run(browser, jupyterlab, notebook: str):
    url, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    workspace = notebook.split("-")[0]  # a workspace of its own: no tabs left by other tests
    page.goto(f"{url}/lab/workspaces/w{workspace}/tree/notebooks/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    select_kernel = page.get_by_role("button", name="Select", exact=True)
    try:
        select_kernel.click(timeout=10_000)  # JupyterLab asks once for a never-run notebook
    except PlaywrightTimeout:
        pass  # the kernel started without asking
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=60_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    return page


def wait_for_all_cells(page, timeout_ms: int = 240_000):
    """Until no cell is queued or running ([*]) and the kernel is idle."""
    page.wait_for_function(
        """() => {
             const prompts = [...document.querySelectorAll('.jp-InputPrompt')];
             return prompts.length > 0 && prompts.every(p => !p.textContent.includes('*'))
               && document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
           }""", timeout=timeout_ms)


def test_introduction_shows_the_backend_status_and_chapters(browser, jupyterlab):
    page = open_and_run(browser, jupyterlab, "00-introduction.ipynb")
    wait_for_all_cells(page)
    panel = page.locator(".lab-status")
    panel.wait_for(timeout=60_000)
    assert "embedded" in panel.inner_text()
    assert "123456789012" in panel.inner_text()
    assert page.locator(".jp-OutputArea-output.jp-mod-error").count() == 0
    assert page.locator("table.lab-table").first.inner_text().count("2.1.") == 6
    page.close()


def test_vpc_form_refuses_a_bad_cidr_in_the_form_and_creates_nothing(browser, jupyterlab):
    from helpers import client, tags

    page = open_and_run(browser, jupyterlab, "01-create-vpc-subnet-route-table.ipynb")
    wait_for_all_cells(page)
    lab_vpcs_before = client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"]
    cidr = page.get_by_label("IPv4 CIDR block").first
    cidr.fill("10.0.0.1/16")
    cidr.press("Tab")
    page.locator("button.jupyter-button[title='Create VPC']").first.click()
    output = page.locator(".widget-output").first
    page.wait_for_function(
        "() => document.querySelector('.widget-output').innerText.includes('10.0.0.0/16')",
        timeout=60_000)
    text = output.inner_text()
    assert "IPv4 CIDR block" in text and "not the start of its block" in text
    assert "Nothing was created" in text
    lab_vpcs_after = client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"]
    assert [v["VpcId"] for v in lab_vpcs_after] == [v["VpcId"] for v in lab_vpcs_before]
    assert page.locator(".jp-OutputArea-output.jp-mod-error").count() == 0
    page.close()
