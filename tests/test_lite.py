"""The JupyterLite site (``python -m helpers lite build``): built once here, from the packages
installed in this environment (no download), and its layout checked.

The build takes about 20 s on two cores: one xdist group of its own, so that under
``--dist loadgroup`` it spreads over the workers like the notebook runs.

The browser test (last) builds the site with its own Pyodide (``--offline-pyodide``), serves it
on loopback and runs chapter 02 in headless Chromium, with nothing fetched from the internet.
It needs the ``pyodide`` 314.0.6 npm package's files and a micropip 0.11.1 wheel in
``build/pyodide-314.0.6/`` (or ``LAB_OFFLINE_PYODIDE``; docs/jupyterlite.md says how to get
them) and is skipped without them. The compiled packages Pyodide's distribution would bring are
then replaced by the stand-ins of ``tools/lite_stubs/``: ``cryptography`` (moto imports it to
load EC2 and IAM; creating or importing an EC2 key pair, certificates, KMS and SNS signing then
fail) and ``openapi-spec-validator`` (moto's API Gateway imports it; importing an OpenAPI
definition then fails). ``markupsafe``, ``pyyaml``, ``charset-normalizer`` and ``wcwidth`` run
on their pure-Python code, without their compiled speed-ups.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import json
import os
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from helpers import lite
from helpers.chapters import CHAPTERS
from helpers.cli import main
from helpers.core.messages import t
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, wait_for_all_cells

kernel_constants = pytest.importorskip("jupyterlite_pyodide_kernel.constants")  # the lite extra
pytestmark = [pytest.mark.nobackend, pytest.mark.xdist_group("lite-build")]
SELF_HOSTED = "./static/pyodide/pyodide.mjs"
OFFLINE_PYODIDE = Path(os.environ.get("LAB_OFFLINE_PYODIDE") or lite.OFFLINE_PYODIDE)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lite") / "site"
    assert main(["lite", "build", "--out", str(out), "--pyodide-url", SELF_HOSTED]) == 0
    return out


def wheel_names(site: Path) -> dict[str, Path]:
    return {path.name.split("-")[0].lower(): path for path in (site / "pypi").glob("*.whl")}


def test_every_notebook_of_both_languages_is_in_the_site_and_installs_the_lab_first(site):
    for folder in (site / "files", site / "files" / "vi"):
        names = sorted(path.name for path in folder.glob("*.ipynb"))
        assert names == sorted(chapter().notebook for chapter in CHAPTERS)
    notebook = json.loads((site / "files" / "vi" / "02-create-vpc-endpoint.ipynb").read_text())
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code[0] == lite.install_cell("vi")
    assert code[1].startswith("import helpers")


def test_the_landing_page_opens_chapter_00_in_each_language(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "lab/index.html?path=00-introduction.ipynb" in page
    assert "lab/index.html?path=vi/00-introduction.ipynb" in page
    assert lite.LITE_ROOT_MARK in page  # how the app pages find the root configuration
    assert (site / "lab" / "index.html").exists()


def test_the_wheels_are_indexed_pure_python_and_botocore_keeps_only_the_labs_services(site):
    wheels = wheel_names(site)
    for needed in ("vpc_endpoint_lab", "boto3", "botocore", "moto", "ipywidgets", "responses"):
        assert needed in wheels
    assert all(path.name.endswith("-py3-none-any.whl") for path in wheels.values())
    # compiled: Pyodide's own distribution has them; the kernel brings IPython
    for absent in ("cryptography", "markupsafe", "pyyaml", "rpds_py", "pydantic_core", "ipython"):
        assert absent not in wheels
    index = json.loads((site / "pypi" / "all.json").read_text())
    assert {"vpc-endpoint-lab", "moto", "botocore"} <= set(index)

    with zipfile.ZipFile(wheels["botocore"]) as botocore:
        services = {
            name.split("/")[2]
            for name in botocore.namelist()
            if name.startswith("botocore/data/") and name.count("/") > 3
        }
    assert services == set(lite.LAB_SERVICES)

    with zipfile.ZipFile(wheels["vpc_endpoint_lab"]) as lab:
        names = lab.namelist()
        requires = lab.read("vpc_endpoint_lab-0.1.0.dist-info/METADATA").decode()
    assert "helpers/core/backend_inprocess.py" in names
    assert "helpers/catalogue/status.toml" in names
    assert "note_app/handler.py" in names
    assert "Requires-Dist: moto\n" in requires
    assert "jupyterlab" not in requires  # the server side stays out of the browser


def test_the_config_names_the_pyodide_distribution_and_only_the_sites_wheels(site):
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][lite.PYODIDE_KERNEL]
    assert kernel["pyodideUrl"] == SELF_HOSTED
    assert kernel["disablePyPIFallback"] is True
    assert any(url.startswith("./pypi/all.json") for url in kernel["pipliteUrls"])
    extensions = {extension["name"] for extension in config["federated_extensions"]}
    assert "@jupyter-widgets/jupyterlab-manager" in extensions
    assert (site / "extensions" / "@jupyter-widgets" / "jupyterlab-manager").is_dir()
    # jupyter-server-proxy's extension is installed here but needs a server: not in the site
    assert "@jupyterhub/jupyter-server-proxy" not in extensions
    assert not (site / "extensions" / "@jupyterhub" / "jupyter-server-proxy").exists()


def test_the_first_cell_says_in_the_learners_language_that_the_lab_is_loading(site):
    languages = ((site / "files", "Loading the lab"), (site / "files" / "vi", "Đang tải lab"))
    for folder, loading in languages:
        notebook = json.loads((folder / "02-create-vpc-endpoint.ipynb").read_text())
        first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
        lines = "".join(first["source"]).splitlines()
        assert loading in lines[0] and lines[1] == lite.INSTALL


def test_the_default_pyodide_is_the_cdn_build_the_kernel_was_made_for():
    assert lite.DEFAULT_PYODIDE_URL.endswith(f"/v{lite.PYODIDE_VERSION}/full/pyodide.mjs")
    assert lite.PYODIDE_VERSION == kernel_constants.PYODIDE_VERSION


# --- the site with its own Pyodide, in Chromium ----------------------------------------------
@pytest.fixture(scope="module")
def offline_site(tmp_path_factory) -> Path:
    if not (OFFLINE_PYODIDE / "pyodide.mjs").exists():
        pytest.skip(f"no Pyodide core files in {OFFLINE_PYODIDE} (docs/jupyterlite.md)")
    out = tmp_path_factory.mktemp("lite-offline") / "site"
    arguments = ["--out", str(out), "--offline-pyodide", str(OFFLINE_PYODIDE)]
    assert main(["lite", "build", *arguments]) == 0
    return out


def test_the_offline_pyodide_lock_lists_only_the_sites_wheels_with_their_sha256(offline_site):
    pyodide = offline_site / lite.PYODIDE_SITE_DIR
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    packages = lock["packages"]
    for entry in packages.values():
        wheel = (pyodide / entry["file_name"]).read_bytes()
        assert hashlib.sha256(wheel).hexdigest() == entry["sha256"]
        assert set(entry["depends"]) <= set(packages)
    assert {"micropip", "ipython", "jedi", "comm", "markupsafe", "pyyaml"} <= set(packages)
    for stubbed in ("cryptography", "openapi-spec-validator"):
        assert packages[stubbed]["version"].endswith(lite.STUB_VERSION_LABEL)
    assert "openapi_spec_validator" not in wheel_names(offline_site)  # the stand-in, not both
    config = json.loads((offline_site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    assert config["litePluginSettings"][lite.PYODIDE_KERNEL]["pyodideUrl"] == SELF_HOSTED


def serve(site: Path, fetched: list[str]):
    """The site on loopback (a thread); each path served is added to ``fetched``."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            fetched.append(unquote(urlsplit(self.path).path))

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def lite_page(site: Path, fetched: list[str]):
    """A headless Chromium page and the URL of ``site``, served on loopback (each path served
    is added to ``fetched``); afterwards, nothing must have come from the internet."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (README: apt-get install chromium)")
    server = serve(site, fetched)
    external: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    else external.append(request.url)
                ),
            )
            yield page, f"http://127.0.0.1:{server.server_address[1]}/lab/index.html"
            browser.close()
    finally:
        server.shutdown()
    assert external == []  # nothing from the internet: the site is complete


def code_cell(page, source: str):
    """The notebook's code cell whose source contains ``source``."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source))


def run_all(page) -> None:
    """Run All, until every cell has run; no cell may show an error."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    wait_for_all_cells(page, timeout_ms=600_000)
    errors = page.locator(".jp-OutputArea-output.jp-mod-error")
    assert errors.count() == 0, errors.first.inner_text()


def gzipped_size(site: Path, paths) -> int:
    files = {site / path.lstrip("/") for path in paths}
    return sum(len(gzip.compress(file.read_bytes())) for file in files if file.is_file())


def test_chapter_02_runs_in_chromium_and_the_endpoint_form_adds_the_prefix_list_route(
    offline_site,
):
    """Chapter 02 in the browser, offline: its cells up to the form run (the lab installs,
    catches chapter 01 up in the kernel's own moto), the form's Create button adds the gateway
    endpoint and the private route table shows the new ``pl-… → vpce-…`` route; then Run All
    runs every cell without an error. Prints the figures docs/performance.md records.

    AWS: "Gateway endpoints" (Amazon VPC AWS PrivateLink guide): a gateway endpoint adds to each
    chosen route table a route whose destination is the service's prefix list (pl-…) and whose
    target is the endpoint (vpce-…).
    """
    fetched: list[str] = []
    with lite_page(offline_site, fetched) as (page, lab_url):
        started = time.monotonic()
        page.goto(f"{lab_url}?path=02-create-vpc-endpoint.ipynb")
        form_cell = code_cell(page, "form = ch.form()")
        expect(form_cell).to_have_count(1, timeout=120_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000
        )
        # every cell up to the form (the next one would click for the learner)
        after_form = code_cell(page, "form.submit_unless_done()")
        after_form.locator(".jp-InputArea-editor").click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Above Selected Cell", exact=True).click()
        create = form_cell.locator("button.jupyter-button.mod-primary").first
        expect(create).to_be_visible(timeout=600_000)
        first_form = time.monotonic() - started
        first_open = sorted(set(fetched))
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )

        clicked = time.monotonic()
        create.click()
        new_route = form_cell.locator(".lab-after tr.lab-new")
        expect(new_route).to_have_count(1, timeout=300_000)
        click_seconds = time.monotonic() - clicked
        destination, target = new_route.locator("td").all_inner_texts()[:2]
        assert destination.startswith("pl-") and target.startswith("vpce-")

        run_all(page)
        # The status panel says where the lab runs.
        expect(page.locator(".lab-status").first).to_contain_text(
            t("status.endpoint_in_browser", "en")
        )
        # A reload (a new kernel, nothing in memory): the learner's choices are still there,
        # in the journal the lab keeps beside the notebooks in the browser's storage.
        page.reload()
        install = code_cell(page, lite.INSTALL)
        expect(install).to_have_count(1, timeout=120_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000
        )
        install.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")  # the new kernel installs the lab, as a learner runs it
        expect(install.locator(".jp-OutputArea-output")).to_contain_text(
            t("lite.loaded", "en"), timeout=300_000
        )
        page.locator(".jp-Cell").last.click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")  # a new code cell below, as a learner adds one
        page.keyboard.press("Enter")
        page.keyboard.type('from helpers.core import journal; print(sorted(journal.choices("02")))')
        page.keyboard.press("Shift+Enter")
        added = code_cell(page, "journal.choices")
        expect(added.locator(".jp-OutputArea-output")).to_contain_text(
            "route_tables", timeout=120_000
        )
    print(
        f"\nlite: first form {first_form:.1f} s, Create click {click_seconds:.1f} s, "
        f"first open {gzipped_size(offline_site, first_open) / 1e6:.1f} MB gzipped "
        f"({len(first_open)} files), site {site_size(offline_site) / 1e6:.0f} MB"
    )


def site_size(site: Path) -> int:
    return sum(path.stat().st_size for path in site.rglob("*") if path.is_file())


def test_chapter_05_runs_in_chromium_and_a_note_is_stored_through_the_function(offline_site):
    """Chapter 05 opened on its own in the browser: its kernel catches chapters 01–04 up
    (network, endpoint, role, function), the form creates the table, and the invoke cell adds
    a note through the function and lists it — the deployed handler run in the kernel, no
    process started. AWS: "Gateway endpoints for Amazon DynamoDB" (the function in the private
    subnet reaches DynamoDB only through the endpoint's prefix-list route)."""
    with lite_page(offline_site, []) as (page, lab_url):
        page.goto(f"{lab_url}?path=05-create-dynamodb-table.ipynb")
        invoke_cell = code_cell(page, 'ch.invoke({"action": "list"})')
        expect(invoke_cell).to_have_count(1, timeout=120_000)
        run_all(page)
        expect(invoke_cell.locator(".jp-OutputArea-output")).to_contain_text(
            "subnet → gateway endpoint → DynamoDB"
        )


def test_the_vietnamese_chapter_02_shows_its_form_in_vietnamese(offline_site):
    """The Vietnamese set (files/vi/) in the browser: the kernel starts in the notebook's
    folder, so the lab speaks the set's language; the form's labels are the catalogue's."""
    with lite_page(offline_site, []) as (page, lab_url):
        page.goto(f"{lab_url}?path=vi/02-create-vpc-endpoint.ipynb")
        form_cell = code_cell(page, "form = ch.form()")
        expect(form_cell).to_have_count(1, timeout=120_000)
        run_all(page)
        for key in ("endpoints.label_category", "endpoints.label_type"):
            expect(form_cell).to_contain_text(t(key, "vi"))
        expect(form_cell).not_to_contain_text(t("endpoints.label_category", "en"))
