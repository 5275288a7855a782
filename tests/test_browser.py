"""The lab in a real browser: JupyterLab in headless Chromium, as a learner sees it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = (  # headless in a container, and no call home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (README: apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_jupyterlab(work: Path, *options: str):
    """JupyterLab serving ``work``, with the lab's test settings (no autosave, every cell
    rendered, no news), as (url, token) until the block ends."""
    settings = work / "settings"
    for plugin, values in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), "browser-test-token"
    env = {  # without LAB_LANG: each notebook set's kernels speak the set's language
        **{name: value for name, value in os.environ.items() if name != "LAB_LANG"},
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--allow-root",
            *options,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/api/status?token={token}", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    try:
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, empty_lab):
    """JupyterLab on a copy of the notebooks (autosave can never touch the repository),
    on an empty lab: other test files may have run on this worker's backend before."""
    empty_lab()
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    shutil.copytree(ROOT / "images", work / "images")
    with running_jupyterlab(work) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        yield chromium
        chromium.close()


def open_and_run(browser, jupyterlab, notebook: str):
    url, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # a workspace of its own (e.g. "vi02"): no tabs left by other tests
    workspace = re.sub(r"\W", "", notebook.split("-")[0])
    page.goto(f"{url}/lab/workspaces/w{workspace}/tree/notebooks/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    select_kernel = page.get_by_role("button", name="Select", exact=True)
    # JupyterLab asks once for a never-run notebook; else the kernel started without asking
    with contextlib.suppress(PlaywrightTimeout):
        select_kernel.click(timeout=10_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
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
           }""",
        timeout=timeout_ms,
    )


@pytest.fixture(scope="module")
def notebook(browser, jupyterlab):
    """``notebook(name)``: that notebook's page after Run All, opened once for the module;
    ``notebook(name, afresh=True)`` opens it again, with a new kernel and a new Run All, for a
    test that must not see what earlier tests did to its forms.

    Tests of one notebook share its page (in file order: the notebooks build on each other);
    opening the next notebook closes the previous page and shuts its kernel down.
    """
    opened: dict[str, object] = {}

    def close(name: str) -> None:
        opened.pop(name).close()
        url, token = jupyterlab
        sessions = requests.get(f"{url}/api/sessions?token={token}", timeout=10).json()
        for session in sessions:
            if session["path"] == f"notebooks/{name}":
                requests.delete(f"{url}/api/sessions/{session['id']}?token={token}", timeout=30)

    def open_once(name: str, afresh: bool = False):
        if afresh and name in opened:
            close(name)
        if name not in opened:
            for previous in list(opened):
                close(previous)
            page = open_and_run(browser, jupyterlab, name)
            wait_for_all_cells(page)
            opened[name] = page
        return opened[name]

    yield open_once
    for name in list(opened):
        close(name)


def code_cell(page, source: str):
    """The code cell whose input contains ``source`` (robust to Markdown cells being added)."""
    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source))
    expect(cell).to_have_count(1)
    return cell


def click_and_read(form_cell, button_title: str, wait_for: str) -> str:
    """Click a form's button as a learner does; the form's NEW output once it shows
    ``wait_for`` (what an earlier click or Run All left there does not count)."""
    output = form_cell.locator(".widget-output").first
    output.evaluate(
        "out => out.querySelectorAll('.jp-OutputArea-child')"
        ".forEach(child => child.dataset.labStale = 'yes')"
    )
    form_cell.locator(f'button.jupyter-button[title="{button_title}"]').click()
    try:
        form_cell.page.wait_for_function(
            """([out, text]) => {
                 const children = [...out.querySelectorAll('.jp-OutputArea-child')];
                 return children.length > 0 && children.every(c => !c.dataset.labStale)
                   && out.innerText.includes(text);
               }""",
            arg=[output.element_handle(), wait_for],
            timeout=120_000,
        )
    except PlaywrightTimeout:  # say what the learner would have seen instead
        buttons = form_cell.locator("button.jupyter-button").evaluate_all(
            "buttons => buttons.map(b => [b.title, b.disabled])"
        )
        pytest.fail(
            f"no {wait_for!r} after clicking {button_title!r}; buttons {buttons}; "
            f"the form's output: {output.inner_text()!r}"
        )
    return output.inner_text()


def assert_no_cell_errors(page) -> None:
    errors = page.locator(".jp-OutputArea-output.jp-mod-error")
    assert errors.count() == 0, errors.first.inner_text()


def test_introduction_shows_the_backend_status_and_chapters(notebook):
    page = notebook("00-introduction.ipynb")
    panel = page.locator(".lab-status")
    panel.wait_for(timeout=60_000)
    assert "embedded" in panel.inner_text()
    assert "123456789012" in panel.inner_text()
    assert_no_cell_errors(page)
    assert page.locator("table.lab-table").first.inner_text().count("2.1.") == 6
    picture = page.locator("img[src*='architecture.svg']")
    expect(picture).to_have_count(1)
    assert "private subnet" in picture.get_attribute("alt")
    page.wait_for_function(  # the picture really loaded (a broken link has no width)
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle(), timeout=30_000
    )
    # A chapter's notebook name opens that notebook in a new tab.
    code_cell(page, "ch.show()").get_by_role(
        "link", name="03-develop-lambda-function.ipynb"
    ).click()
    expect(page.locator(".lm-TabBar-tab.jp-mod-current")).to_contain_text(
        "03-develop-lambda", timeout=60_000
    )


def test_jupyterlab_starts_in_the_learners_language_with_english_one_click_away(
    browser, tmp_path, monkeypatch
):
    """What lab.py starts for a learner reading Vietnamese: JupyterLab's menus in Vietnamese
    (the Run menu the narrative names reads "Chạy"), and Settings ▸ Language ▸ English turns
    them back to English ("Localization and language", JupyterLab's documentation)."""
    from helpers.core import jupyterlab as lab_settings

    monkeypatch.setenv("LAB_HOME", str(tmp_path / "home"))
    folder = lab_settings.settings_folder("vi")
    with running_jupyterlab(tmp_path, f"--LabApp.app_settings_dir={folder}") as (url, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/lab?reset&token={token}")
            menus = page.locator(".lm-MenuBar-item")
            expect(menus.filter(has_text="Chạy")).to_be_visible(timeout=60_000)
            menus.filter(has_text="Chạy").click()  # the Run menu, as the narrative names it
            run_all = page.locator(".lm-Menu-item[data-command='runmenu:run-all']")
            expect(run_all).to_have_text("Chạy tất cả")
            page.keyboard.press("Escape")
            menus.filter(has_text="Cài đặt").click()
            page.locator(".lm-Menu-item").filter(has_text="Ngôn ngữ").hover()
            page.locator(".lm-Menu-item").filter(has_text="English").click()
            page.locator(".jp-Dialog-button.jp-mod-accept").click()  # "refresh to change?"
            expect(menus.filter(has_text="Run")).to_be_visible(timeout=60_000)
            expect(menus.filter(has_text="Chạy")).to_have_count(0)
        finally:
            page.close()


# --- chapter 01: the Create VPC form ----------------------------------------------------------
VPC_NOTEBOOK = "01-create-vpc-subnet-route-table.ipynb"
OUTDATED = "This result is from before your last change to the form"


def _lab_vpc_ids() -> list[str]:
    from helpers.core import tags
    from helpers.core.clients import client

    vpcs = client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"]
    return sorted(v["VpcId"] for v in vpcs)


def cut_labels(form) -> list[str]:
    """The labels of ``form`` that their column cuts short (shown with "…")."""
    return form.evaluate(
        """cell => [...cell.querySelectorAll('.widget-label, .widget-label-basic span')]
             .filter(label => label.offsetParent !== null
                              && label.scrollWidth > label.clientWidth + 1)
             .map(label => label.innerText)"""
    )


def test_vpc_run_all_shows_the_map_and_each_route_table_once(notebook):
    from helpers.aws import networking

    page = notebook(VPC_NOTEBOOK)
    assert_no_cell_errors(page)
    network = networking.find_lab_network()
    route_tables = [
        *network.public_route_table_ids,
        *network.private_route_table_ids,
        network.main_route_table_id,
    ]
    assert len(route_tables) == 3
    for route_table in route_tables:  # on the whole page, not only in one cell
        expect(page.locator(".lab-route-table").filter(has_text=route_table)).to_have_count(1)
    expect(page.locator("svg.lab-resource-map")).to_have_count(1)
    expect(code_cell(page, "ch.show()").locator(".lab-route-table")).to_have_count(3)
    # The form's result says what the click made, in one success box.
    result = code_cell(page, "form = ch.form()").locator(".widget-output")
    expect(result.locator(".lab-success")).to_have_count(1)
    expect(result).to_contain_text("Created 6 resources")


def test_vpc_form_judges_while_typing_and_a_change_replaces_the_old_message(notebook):
    """A refusal shows before any click and the button waits (so no click can be refused);
    the next change replaces the message, never leaves the old one beside the new one, and
    Run All's result under the button is marked outdated until the values are back."""
    page = notebook(VPC_NOTEBOOK)
    lab_vpcs_before = _lab_vpc_ids()
    form = code_cell(page, "form = ch.form()")
    output = form.locator(".widget-output")
    button = form.locator("button.jupyter-button.mod-primary")
    cidr = form.get_by_label("IPv4 CIDR block")
    cidr.fill("10.0.0.0/8")
    cidr.press("Tab")
    too_large = form.locator(".lab-error").filter(has_text="10.0.0.0/8")
    expect(too_large).to_have_count(1)
    expect(too_large).to_contain_text("IPv4 CIDR block")
    expect(button).to_be_disabled()
    expect(output).to_contain_text(OUTDATED)
    cidr.fill("10.0.0.1/16")
    cidr.press("Tab")
    not_the_start = form.locator(".lab-error").filter(has_text="not the start of its block")
    expect(not_the_start).to_have_count(1)
    expect(not_the_start).to_contain_text("10.0.0.0/16")  # the block the learner probably meant
    expect(too_large).to_have_count(0)  # the old message is gone, not left beside the new one
    expect(form.locator(".lab-error")).to_have_count(1)  # one box for what is refused
    _screenshot(form, "01-vpc-form-refused.png")
    cidr.fill("10.0.0.0/16")
    cidr.press("Tab")
    expect(form.locator(".lab-error")).to_have_count(0)
    expect(button).to_be_enabled()
    expect(output).not_to_contain_text(OUTDATED)  # the result is for these values again
    assert _lab_vpc_ids() == lab_vpcs_before


def test_vpc_form_shows_the_nat_gateway_price_readably_before_the_click(notebook):
    from helpers.aws import networking
    from helpers.core.clients import client

    page = notebook(VPC_NOTEBOOK)
    form = code_cell(page, "form = ch.form()")
    form.get_by_label("NAT gateways ($)").select_option(label="In 1 AZ")
    refusal = form.locator(".lab-error").filter(has_text="Tick the confirmation box")
    expect(refusal).to_have_count(1)  # before any click
    expect(refusal).to_contain_text("NAT gateway")
    expect(form.locator("button.jupyter-button.mod-primary")).to_be_disabled()
    # The prices must read as prices ("$0.050 per hour"), not as a typeset formula.
    expect(form.locator("mjx-container")).to_have_count(0)
    assert re.search(r"\$\d+\.\d+ per hour", refusal.inner_text())
    vpc_id = networking.find_lab_network().vpc_id
    nat_gateways = client("ec2").describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["NatGateways"]
    assert nat_gateways == []
    form.get_by_label("NAT gateways ($)").select_option(label="None")  # as Run All left it


def test_vpc_form_inputs_share_one_left_edge_and_its_messages_one_font(notebook):
    from helpers.views.forms.vpc import VpcForm

    page = notebook(VPC_NOTEBOOK)
    form = code_cell(page, "form = ch.form()")
    nat = form.get_by_label("NAT gateways ($)")
    nat.select_option(label="In 1 AZ")  # shows the cost confirmation, a refusal and a note
    expect(form.locator(".lab-error")).to_have_count(1)
    labels = [field.label for field in VpcForm.fields]
    cost = next(field.label for field in VpcForm.fields if field.name == "confirm_cost")
    expect(form.get_by_label(cost)).to_be_visible()
    visible_fields = """cell => [...cell.querySelectorAll(
               '.widget-text input, .widget-dropdown select, .widget-checkbox input')]
             .filter(el => el.offsetParent !== null)
             .map(el => [el.labels[0].innerText.trim(), el.getBoundingClientRect().left])"""
    for _ in range(20):  # the kernel's re-render after the change may still be arriving
        fields = form.evaluate(visible_fields)
        if [label for label, _ in fields] == labels:
            break
        page.wait_for_timeout(500)
    assert [label for label, _ in fields] == labels, fields  # every field, the cost box too
    assert cut_labels(form) == []
    lefts = [left for _, left in fields]
    assert max(lefts) - min(lefts) < 2, fields
    # One font for every message box, whether above the button or in its output.
    sizes = form.evaluate(
        """cell => [...cell.querySelectorAll('.lab-error, .lab-warning, .lab-info, .lab-success')]
             .map(box => [box.className, getComputedStyle(box).fontSize])"""
    )
    assert {kind for kind, _ in sizes} >= {"lab-error", "lab-info", "lab-success"}, sizes
    assert len({size for _, size in sizes}) == 1, sizes
    _screenshot(form, "01-vpc-form-nat.png")
    nat.select_option(label="None")  # as Run All left it
    expect(form.locator(".lab-error")).to_have_count(0)
    _screenshot(form, "01-vpc-form.png")


# --- chapter 02: the Create endpoint form -----------------------------------------------------
ENDPOINT_NOTEBOOK = "02-create-vpc-endpoint.ipynb"


def _endpoint_route() -> tuple[str, str]:
    """The lab endpoint's id and the prefix list its route in the private route table uses."""
    from helpers.aws import endpoints, networking
    from helpers.core.clients import client

    endpoint_id = endpoints.find_lab_endpoint()["VpcEndpointId"]
    private_table = networking.find_lab_network().private_route_table_ids[0]
    routes = client("ec2").describe_route_tables(RouteTableIds=[private_table])["RouteTables"][0][
        "Routes"
    ]
    prefix_lists = [
        r["DestinationPrefixListId"]
        for r in routes
        if r.get("GatewayId") == endpoint_id and "DestinationPrefixListId" in r
    ]
    assert len(prefix_lists) == 1, routes
    return endpoint_id, prefix_lists[0]


def test_endpoint_run_all_shows_the_new_route_highlighted_after_and_absent_before(notebook):
    page = notebook(ENDPOINT_NOTEBOOK)
    assert_no_cell_errors(page)
    endpoint_id, prefix_list = _endpoint_route()
    output = code_cell(page, "form = ch.form()").locator(".widget-output").first
    assert f"Endpoint {endpoint_id} created" in output.inner_text()
    before = output.locator(".lab-before table")
    assert prefix_list not in before.inner_text()  # the private table had only "local"
    sides = [output.locator(side).first.bounding_box() for side in (".lab-before", ".lab-after")]
    assert abs(sides[0]["y"] - sides[1]["y"]) < 2 and sides[1]["x"] > sides[0]["x"]  # side by side
    highlighted = output.locator(".lab-after tr.lab-new")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_be_visible()
    assert highlighted.locator("td").all_inner_texts()[:2] == [prefix_list, endpoint_id]
    background = highlighted.evaluate("row => getComputedStyle(row).backgroundColor")
    plain = output.locator(".lab-after tbody tr:not(.lab-new)").first.evaluate(
        "row => getComputedStyle(row).backgroundColor"
    )
    assert background != plain  # the learner's eye is drawn to the new route


def test_endpoint_run_all_shows_the_full_tables_once_and_later_cells_only_what_changed(notebook):
    from helpers.aws import networking

    page = notebook(ENDPOINT_NOTEBOOK)
    network = networking.find_lab_network()
    public, private = network.public_route_table_ids[0], network.private_route_table_ids[0]
    # The endpoint's details, its prefix list and its policy: once, in the form's result.
    for caption in ("The VPC endpoint", "The destination pl-… stands for"):
        expect(page.locator("caption").filter(has_text=caption)).to_have_count(1)
    expect(page.locator(".lab-policy")).to_have_count(3)  # the form's, then set_policy's two
    attached = code_cell(page, "ch.attach_public()").locator(".jp-OutputArea-output")
    detached = code_cell(page, "ch.detach_public()").locator(".jp-OutputArea-output")
    for changed in (attached, detached):
        expect(changed.locator(".lab-route-change")).to_have_count(1)  # the public table only
        assert public in changed.inner_text() and private not in changed.inner_text()
        expect(changed.locator("caption, .lab-policy")).to_have_count(0)
    expect(attached.locator("h4").nth(1)).to_have_text("AFTER (new route highlighted)")
    expect(detached.locator("h4").nth(1)).to_have_text("AFTER (removed route struck through)")
    struck = detached.locator(".lab-after tr.lab-removed")
    expect(struck).to_have_count(1)
    assert "line-through" in struck.evaluate("row => getComputedStyle(row).textDecorationLine")
    policy = code_cell(page, "ch.set_policy(read_only)").locator(".jp-OutputArea-output")
    expect(policy.locator(".lab-policy")).to_contain_text("dynamodb:GetItem")
    expect(policy.locator(".lab-route-change, caption")).to_have_count(0)


def test_endpoint_form_double_click_reuses_the_endpoint(notebook):
    from helpers.core import tags
    from helpers.core.clients import client

    def live_lab_endpoints() -> list[str]:
        found = client("ec2").describe_vpc_endpoints(Filters=tags.ec2_filters())["VpcEndpoints"]
        return [e["VpcEndpointId"] for e in found if e["State"].lower() != "deleted"]

    page = notebook(ENDPOINT_NOTEBOOK)
    before = live_lab_endpoints()
    assert len(before) == 1
    form = code_cell(page, "form = ch.form()")
    output = form.locator(".widget-output").first  # Run All's result: "created", no notice
    # The endpoint exists: the button keeps it, or saves what earlier tests changed on it.
    form.locator("button.jupyter-button.mod-primary").first.dblclick()
    notice = output.locator(".lab-info, .lab-success").filter(
        has_text=re.compile("already exists|Saved")
    )
    expect(notice).to_have_count(1, timeout=120_000)
    expect(notice).to_contain_text(before[0])
    assert live_lab_endpoints() == before


def test_endpoint_form_refuses_another_regions_service_and_creates_nothing(notebook):
    from helpers.core.clients import client

    page = notebook(ENDPOINT_NOTEBOOK)
    endpoints_before = client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
    form = code_cell(page, "form = ch.form()")
    wrong = "com.amazonaws.eu-west-1.dynamodb"  # the learner copied another region's name
    search = form.get_by_label("Search services")
    search.fill(wrong)
    search.press("Enter")
    # Judged before any click: the refusal shows above the button, which waits.
    refusal = form.locator(".lab-error").filter(has_text="InvalidServiceName")
    expect(refusal).to_have_count(1)
    assert "Services" in refusal.inner_text() and wrong in refusal.inner_text()
    expect(form.locator("button[title='Create endpoint']")).to_be_disabled()
    assert "Traceback" not in form.inner_text()
    endpoints_after = client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
    assert sorted(e["VpcEndpointId"] for e in endpoints_after) == sorted(
        e["VpcEndpointId"] for e in endpoints_before
    )


def test_endpoint_form_refuses_a_broken_custom_policy_and_keeps_the_policy(notebook):
    from helpers.aws import endpoints

    page = notebook(ENDPOINT_NOTEBOOK)
    policy_before = endpoints.find_lab_endpoint()["PolicyDocument"]
    form = code_cell(page, "form = ch.form()")
    search = form.get_by_label("Search services")
    search.fill("dynamodb")
    search.press("Enter")
    form.get_by_label("Services", exact=True).select_option(index=0)
    form.get_by_label("Policy", exact=True).select_option(label="Custom")
    editor = form.locator("textarea")
    expect(editor).to_be_visible()  # the JSON editor shows only for a custom policy
    editor.fill('{"Version": "2012-10-17", "Statement": [')
    editor.press("Tab")
    # Judged before any click: the refusal shows above the button, which waits.
    refusal = form.locator(".lab-error").filter(has_text="InvalidPolicyDocument")
    expect(refusal).to_have_count(1)
    assert "not valid JSON" in refusal.inner_text()
    expect(form.locator("button.jupyter-button.mod-primary")).to_be_disabled()
    assert endpoints.find_lab_endpoint()["PolicyDocument"] == policy_before
    form.get_by_label("Policy", exact=True).select_option(label="Full access")  # as Run All left it


SCREENSHOTS = ROOT / "build" / "screenshots"


def _screenshot(locator, name: str) -> None:
    """Keep what the learner saw as a test artefact (build/ is not committed). The window is
    made tall for the shot: JupyterLab clips a cell taller than its notebook panel."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = locator.page
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 3000})
    try:
        locator.screenshot(path=str(SCREENSHOTS / name))
    finally:
        page.set_viewport_size(size)


def run_cell_again(cell) -> None:
    """Run one code cell again as a learner does (Ctrl+Enter), until its NEW output is in."""
    cell.locator(".jp-OutputArea-child").evaluate_all(
        "children => children.forEach(child => child.dataset.labStale = 'yes')"
    )
    cell.locator(".jp-InputArea-editor").click()
    cell.page.keyboard.press("Control+Enter")
    cell.page.wait_for_function(
        """cell => {
             const children = [...cell.querySelectorAll('.jp-OutputArea-child')];
             return children.length > 0 && children.every(c => !c.dataset.labStale);
           }""",
        arg=cell.element_handle(),
        timeout=120_000,
    )


def _route_table_checkbox(form, route_table_id: str):
    return form.locator(".widget-checkbox").filter(has_text=route_table_id).locator("input")


def test_endpoint_form_warns_before_the_click_and_creates_only_once_confirmed(notebook):
    from helpers.aws import endpoints, networking
    from helpers.core.clients import client

    page = notebook(ENDPOINT_NOTEBOOK)
    network = networking.find_lab_network()
    private = network.private_route_table_ids[0]
    # A learner who starts afresh: no endpoint yet (deleting it removes its routes too).
    client("ec2").delete_vpc_endpoints(
        VpcEndpointIds=[endpoints.find_lab_endpoint()["VpcEndpointId"]]
    )
    form = code_cell(page, "form = ch.form()")
    _route_table_checkbox(form, private).uncheck()
    for public in network.public_route_table_ids:
        _route_table_checkbox(form, public).uncheck()
    warning = form.locator(".lab-warning").filter(has_text="No route table is ticked")
    expect(warning).to_be_visible()  # before any click
    button = form.locator("button[title='Create endpoint anyway']")
    expect(button).to_be_disabled()
    # The button keeps its whole label beside the box that says why it waits.
    assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), button.inner_text()
    confirm = form.get_by_label("I have read the warnings: go on anyway")
    expect(confirm).to_be_visible()
    expect(form.locator(".widget-html").filter(has_text="Tick")).not_to_have_count(0)
    _screenshot(form, "02-endpoint-form-warning.png")
    button.click(force=True)  # a learner's click on the waiting button
    page.wait_for_timeout(2_000)
    assert endpoints.find_lab_endpoint() is None
    confirm.check()
    expect(button).to_be_enabled()
    text = click_and_read(form, "Create endpoint anyway", "created")
    made = endpoints.find_lab_endpoint()
    assert made is not None and made.get("RouteTableIds", []) == []
    assert made["VpcEndpointId"] in text
    checks = code_cell(page, "ch.check()")
    run_cell_again(checks)
    expect(checks.locator("tr.lab-check-missing")).not_to_have_count(0)  # no private route yet


def test_endpoint_form_offers_save_changes_and_the_check_turns_green(notebook):
    from helpers.aws import endpoints, networking

    page = notebook(ENDPOINT_NOTEBOOK)
    network = networking.find_lab_network()
    private = network.private_route_table_ids[0]
    endpoint_id = endpoints.find_lab_endpoint()["VpcEndpointId"]
    prefix_list = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    # As if the learner had ticked only the public table at first: the private one is detached.
    endpoints.set_route_tables(endpoint_id, remove=[private])
    form = code_cell(page, "form = ch.form()")
    checkbox = _route_table_checkbox(form, private)
    checkbox.uncheck()  # a change makes the form judge against the endpoint as it is now
    checkbox.check()
    button = form.locator("button[title='Save changes']")
    expect(button).to_be_enabled()
    expect(form.locator(".lab-info").filter(has_text=f"attach {private}")).to_be_visible()
    text = click_and_read(form, "Save changes", "Saved")
    assert endpoint_id in text
    assert endpoints.find_lab_endpoint()["RouteTableIds"] == [private]
    after = form.locator(".widget-output .lab-after tr.lab-new")
    expect(after).to_have_count(1)
    assert after.locator("td").all_inner_texts()[:2] == [prefix_list, endpoint_id]
    # Judged again after the click: nothing left to change, no interface-only field shown.
    expect(form.locator("button[title='Keep the endpoint as it is']")).to_be_enabled()
    expect(form.get_by_text("Security groups", exact=True)).to_be_hidden()
    _screenshot(form, "02-endpoint-form-saved.png")
    checks = code_cell(page, "ch.check()")
    run_cell_again(checks)
    expect(checks.locator("tr.lab-check-missing")).to_have_count(0)
    expect(checks.locator("tr.lab-check-ok")).not_to_have_count(0)


def test_endpoint_form_lines_up_labels_inputs_and_the_services_headings(notebook):
    page = notebook(ENDPOINT_NOTEBOOK)
    form = code_cell(page, "form = ch.form()")
    # Every field's input starts at one x: the labels share one column.
    lefts = form.evaluate(
        """cell => {
             const visible = el => el.offsetParent !== null;
             const inputs = [...cell.querySelectorAll(
                 '.widget-text input, .widget-dropdown select, .widget-select select')]
               .filter(visible).filter(el => !el.closest('.lab-tag-row'));
             // Checklists (route tables) and the tag editor: a label, then a column of rows
             // whose first checkbox or button is the field's left edge.
             const columns = [...cell.querySelectorAll('.widget-hbox, .widget-box')]
               .filter(visible)
               .filter(row => row.firstElementChild?.classList.contains('widget-label'))
               .map(row => row.children[1].querySelector('input[type=checkbox], button'));
             return [...inputs, ...columns].map(el => [
               (el.closest('.widget-inline-hbox, .widget-hbox, .widget-box')).innerText
                 .split('\\n')[0],
               el.getBoundingClientRect().left]);
           }"""
    )
    assert len(lefts) >= 8, lefts  # 6 inputs, the route tables and the tags
    xs = [x for _, x in lefts]
    assert max(xs) - min(xs) < 2, lefts
    # The services list's headings sit over their columns: each heading's box starts where
    # the list's text of that column starts (measured in the list's own font). The search
    # the earlier tests left ("dynamodb") lists one service.
    expect(form.locator(".lab-services select option")).to_have_count(1)
    columns = form.evaluate(
        """cell => {
             const select = cell.querySelector('.lab-services select');
             const option = select.options[select.selectedIndex >= 0 ? select.selectedIndex : 0];
             const text = option.textContent;  // .text would collapse the padding spaces
             const starts = [0, ...[...text.matchAll(/\\s+(?=\\S)/g)]
               .map(m => m.index + m[0].length)].slice(0, 3);
             const style = getComputedStyle(select);
             const context = document.createElement('canvas').getContext('2d');
             context.font = `${style.fontSize} ${style.fontFamily}`;
             const left = select.getBoundingClientRect().left + parseFloat(style.borderLeftWidth)
               + parseFloat(style.paddingLeft) + parseFloat(getComputedStyle(option).paddingLeft);
             const headings = [...cell.querySelectorAll('.lab-services-column')];
             return {
               text,
               text_x: starts.map(i => left + context.measureText(text.slice(0, i)).width),
               heading_x: headings.map(h => h.getBoundingClientRect().left),
               headings: headings.map(h => h.innerText),
             };
           }"""
    )
    assert columns["headings"] == ["Service Name", "Owner", "Type"], columns
    assert len(columns["text_x"]) == 3, columns
    for heading, text_x in zip(columns["heading_x"], columns["text_x"], strict=True):
        assert abs(heading - text_x) < 2, columns
    _screenshot(form, "02-endpoint-form.png")


@pytest.mark.parametrize("language", ["en", "vi"])
def test_endpoint_form_speaks_its_notebook_sets_language(notebook, language):
    """Chapter 02 of each notebook set: the form's labels, its button, the result of Run All's
    click and a refusal judged while typing are in the set's language, with no LAB_LANG (the
    kernel's language follows the notebook's folder). Each set's notebook is run afresh, so its
    form is as Run All leaves it, whatever the earlier tests did on the English page."""
    from helpers.aws import endpoints
    from helpers.core.messages import t

    name = ENDPOINT_NOTEBOOK if language == "en" else f"vi/{ENDPOINT_NOTEBOOK}"
    page = notebook(name, afresh=True)
    assert_no_cell_errors(page)
    form = code_cell(page, "form = ch.form()")
    for label in ("label_name", "label_search", "label_service", "label_vpc", "label_policy"):
        expect(form.get_by_label(t(f"endpoints.{label}", language), exact=True)).to_be_visible()
    endpoint_id = endpoints.find_lab_endpoint()["VpcEndpointId"]
    # Run All came after the earlier tests': its click found their endpoint.
    said = [
        t(key, language, endpoint_id=endpoint_id)
        for key in ("endpoints.already_exists", "endpoints.changed")
    ]
    result = form.locator(".widget-output").first.inner_text()
    assert any(sentence in result for sentence in said), result
    labels = {t(f"endpoints.{key}", language) for key in ("create_button", "keep", "save_changes")}
    # The button is relabelled when the kernel's judgement after the click arrives: wait for it.
    one_of_the_labels = re.compile("^(" + "|".join(map(re.escape, labels)) + ")$")
    expect(form.locator("button.jupyter-button.mod-primary").first).to_have_attribute(
        "title", one_of_the_labels
    )
    wrong = "com.amazonaws.eu-west-1.dynamodb"
    search = form.get_by_label(t("endpoints.label_search", language), exact=True)
    search.fill(wrong)
    search.press("Enter")
    refusal = form.locator(".lab-error").filter(has_text="InvalidServiceName")
    expect(refusal).to_have_count(1)
    sentence = t("endpoints.unknown_service", language, service=wrong, region="us-east-1")
    assert sentence in refusal.inner_text()
    expect(form.locator(".lab-preview")).to_have_text("")  # no preview while refused
    _screenshot(form, f"endpoint-form-{language}.png")
    search.fill("dynamodb")
    search.press("Enter")
    form.get_by_label(t("endpoints.label_service", language), exact=True).select_option(index=0)
    previews = [  # the endpoint exists: the preview says what a click would change on it
        t(key, language, endpoint_id=endpoint_id)
        for key in ("endpoints.nothing_to_change", "endpoints.change_intro")
    ]
    preview = form.locator(".lab-preview")
    expect(preview).not_to_have_text("")
    assert any(sentence in preview.inner_text() for sentence in previews), preview.inner_text()


# --- chapter 04: the Create function form -----------------------------------------------------
FUNCTION_NOTEBOOK = "04-create-lambda-function.ipynb"


def test_function_run_all_shows_one_success_box_per_form_and_the_function_once(notebook):
    page = notebook(FUNCTION_NOTEBOOK)
    assert_no_cell_errors(page)
    role = code_cell(page, 'ch.form("role")')
    role_result = role.locator(".widget-output")
    expect(role_result.locator(".lab-success")).to_have_count(1)
    expect(role_result).to_contain_text("Created the execution role note-app-execution-role")
    expect(role_result).not_to_contain_text("Creating the execution role")  # replaced
    expect(role_result.locator("h4, caption")).to_have_count(0)  # the headings are above it
    function = code_cell(page, 'ch.form("function")')
    function_result = function.locator(".widget-output")
    expect(function_result.locator(".lab-success")).to_have_count(1)
    expect(function_result).to_contain_text("Created the Lambda function note-app")
    reported = page.locator("caption").filter(has_text="The function as Lambda reports it")
    expect(reported).to_have_count(1)  # the configuration once, under "Read the function"
    assert cut_labels(role) == [] and cut_labels(function) == []
    _screenshot(role, "04-role-form.png")
    _screenshot(function, "04-function-form.png")


def test_function_form_warns_and_refuses_before_the_click_and_changes_nothing(notebook):
    from helpers.aws import functions, networking

    page = notebook(FUNCTION_NOTEBOOK)
    network = networking.find_lab_network()
    public, private = network.public_subnet_ids[0], network.private_subnet_ids[0]
    before = functions.find_lab_function()
    assert before["VpcConfig"]["SubnetIds"] == network.private_subnet_ids
    form = code_cell(page, 'ch.form("function")')
    button = form.locator("button.jupyter-button.mod-primary")
    form.get_by_label(re.compile(public)).check()
    form.get_by_label(re.compile(private)).uncheck()
    memory = form.get_by_label("Memory (MB)")
    memory.fill("100")
    memory.press("Tab")
    warning = form.locator(".lab-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text(f"Subnets: {public} is a public subnet")
    error = form.locator(".lab-error").filter(has_text="ValidationException")
    expect(error).to_contain_text("Memory (MB):")
    expect(error).to_contain_text("128 to 10240")
    expect(button).to_be_disabled()
    memory.fill("512")
    memory.press("Tab")
    expect(error).to_have_count(0)  # the refusal is gone; the warning asks for a confirmation
    expect(button).to_have_attribute("title", "Create function anyway")
    expect(button).to_be_disabled()
    expect(form.get_by_label("I have read the warnings: go on anyway")).to_be_visible()
    _screenshot(form, "04-function-form-public-subnet.png")
    after = functions.find_lab_function()
    assert after["VpcConfig"]["SubnetIds"] == network.private_subnet_ids
    assert after["MemorySize"] == before["MemorySize"]
    form.get_by_label(re.compile(private)).check()  # as Run All left it
    form.get_by_label(re.compile(public)).uncheck()
    expect(button).to_be_enabled()


def test_function_form_offers_only_the_chosen_vpcs_subnets(notebook):
    from helpers.aws import functions, networking
    from helpers.core.clients import client

    page = notebook(FUNCTION_NOTEBOOK)
    network = networking.find_lab_network()
    other_vpc = next(
        v["VpcId"] for v in client("ec2").describe_vpcs()["Vpcs"] if v["VpcId"] != network.vpc_id
    )
    other_subnets = [
        s["SubnetId"]
        for s in client("ec2").describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [other_vpc]}]
        )["Subnets"]
    ]
    form = code_cell(page, 'ch.form("function")')
    vpc_choice = form.get_by_label("VPC", exact=True)
    options = vpc_choice.locator("option").all_inner_texts()
    vpc_choice.select_option(index=next(i for i, text in enumerate(options) if other_vpc in text))
    checklist = form.locator('.widget-hbox:has(> .widget-label:text-is("Subnets"))')
    expect(checklist.locator("input[type=checkbox]")).to_have_count(len(other_subnets))
    offered = checklist.inner_text()
    assert all(s in offered for s in other_subnets)
    assert not any(s in offered for s in network.private_subnet_ids + network.public_subnet_ids)
    # No subnet of that VPC is ticked: refused before any click, the button waits.
    refusal = form.locator(".lab-error").filter(has_text="Choose at least one subnet")
    expect(refusal).to_contain_text("Subnets: Choose at least one subnet")
    expect(form.locator("button.jupyter-button.mod-primary")).to_be_disabled()
    assert functions.find_lab_function()["VpcConfig"]["SubnetIds"] == network.private_subnet_ids
    # A subnet of another VPC can only come from code: the notebook's "what if" cell shows
    # what Lambda would answer.
    what_if = code_cell(page, "ch.subnet_of_another_vpc()").locator(".lab-error")
    expect(what_if).to_contain_text("InvalidParameterValueException")
    expect(what_if).to_contain_text(f"not to the chosen VPC {network.vpc_id}")


# --- chapter 05: the Create table form --------------------------------------------------------
TABLE_NOTEBOOK = "05-create-dynamodb-table.ipynb"


def test_table_form_refuses_bad_values_naming_each_field(notebook):
    from helpers.aws import tables

    page = notebook(TABLE_NOTEBOOK)
    assert_no_cell_errors(page)
    before = tables.find_lab_table()
    form = code_cell(page, "form = ch.form()")
    for label, value in (("Table name", "no"), ("Read capacity units (provisioned)", "0")):
        field = form.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    # Judged before any click: the refusals show, the button waits.
    refusals = form.locator(".lab-error").filter(has_text="is not a valid DynamoDB table name")
    expect(refusals).to_contain_text("Table name: 'no' is not a valid DynamoDB table name")
    expect(refusals).to_contain_text("Read capacity units (provisioned): 0 is not a valid number")
    expect(form.locator("button.jupyter-button").first).to_be_disabled()
    assert "Traceback" not in form.inner_text()
    after = tables.find_lab_table()
    assert after["TableName"] == before["TableName"]
    assert (
        after["ProvisionedThroughput"]["ReadCapacityUnits"]
        == (before["ProvisionedThroughput"]["ReadCapacityUnits"])
    )
    # Back to valid values: the next test clicks Create table with this form.
    for label, value in (
        ("Table name", before["TableName"]),
        (
            "Read capacity units (provisioned)",
            str(before["ProvisionedThroughput"]["ReadCapacityUnits"]),
        ),
    ):
        field = form.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")


def test_table_form_result_shows_the_table_class_just_chosen(notebook):
    from helpers.aws import tables

    page = notebook(TABLE_NOTEBOOK)
    form = code_cell(page, "form = ch.form()")
    output = form.locator(".widget-output")
    chosen_and_reported = []
    # Standard, then back to the workshop's Standard-IA, which later chapters expect.
    for label, table_class in (
        ("DynamoDB Standard", "STANDARD"),
        ("DynamoDB Standard-IA (infrequent access)", "STANDARD_INFREQUENT_ACCESS"),
    ):
        form.get_by_label("Table class").select_option(label=label)
        # The kernel has judged the change (the last result is marked outdated) before the click.
        expect(output).to_contain_text("This result is from before your last change")
        text = click_and_read(form, "Save changes", "updated")
        assert f"→ {label}" in text  # the result names the change just made
        chosen_and_reported.append((table_class, tables.table_class(tables.find_lab_table())))
        assert output.locator(".lab-success").count() == 1
    assert all(chosen == reported for chosen, reported in chosen_and_reported), chosen_and_reported
    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    form.screenshot(path=str(shots / "05-table-form.png"))


# --- chapter 06: the test-request form --------------------------------------------------------
def _notes() -> list[dict]:
    from helpers.aws import tables
    from helpers.core.clients import client

    return client("dynamodb").scan(TableName=tables.find_lab_table()["TableName"])["Items"]


def test_request_form_refuses_a_delete_without_id_and_reads_a_note_by_id(notebook):
    page = notebook("06-create-api-gateway.ipynb")
    assert_no_cell_errors(page)
    notes_before = _notes()
    first = next(n for n in notes_before if n.get("text", {}).get("S") == "My first note")
    form = code_cell(page, 'request_form(method="GET")')
    note_id = form.get_by_label(re.compile(r"^Note id"))
    form.get_by_label("Method", exact=True).select_option(label="DELETE")
    # Judged before any click: the refusal shows and the button waits.
    refusal = form.locator(".lab-error").filter(has_text="A DELETE request needs the note's id")
    expect(refusal).to_contain_text("Note id")
    expect(form.locator("button[title='Send request']")).to_be_disabled()
    assert "Traceback" not in form.inner_text()
    assert len(_notes()) == len(notes_before)  # nothing was sent, nothing deleted
    form.get_by_label("Method", exact=True).select_option(label="GET")
    note_id.fill(first["id"]["S"])
    note_id.press("Tab")
    expect(refusal).to_have_count(0)  # the kernel has judged the new values before the click
    text = click_and_read(form, "Send request", "HTTP status 200")
    assert "My first note" in text and first["id"]["S"] in text


# --- chapter 07: the explainer and the break-and-fix form -------------------------------------
PATH_NOTEBOOK = "07-verify-private-path.ipynb"
HOPS = 9


def test_explainer_shows_every_hop_green_after_run_all(notebook):
    page = notebook(PATH_NOTEBOOK)
    assert_no_cell_errors(page)
    explained = code_cell(page, "ch.show()")
    rows = explained.locator("table.lab-path-table tbody tr")
    expect(rows).to_have_count(HOPS)
    assert set(rows.evaluate_all("rows => rows.map(r => r.className)")) == {"lab-hop-ok"}
    assert all(mark == "✔" for mark in rows.locator("td:nth-child(3)").all_inner_texts())
    hops = explained.locator("svg.lab-path g.lab-hop")
    expect(hops).to_have_count(HOPS)
    expect(explained.locator("svg.lab-path g.lab-hop-ok")).to_have_count(HOPS)
    overflowing = hops.evaluate_all("""hops => hops.flatMap(hop => {
        const box = hop.querySelector('rect').getBBox();
        return [...hop.querySelectorAll('text')]
            .filter(text => text.getBBox().x + text.getBBox().width > box.x + box.width - 4
                            || text.getBBox().y + text.getBBox().height > box.y + box.height)
            .map(text => text.textContent);
    })""")
    assert overflowing == []  # every label fits inside its box
    checks = code_cell(page, "ch.check()")
    expect(checks.locator("tr.lab-check-missing")).to_have_count(0)
    assert checks.locator("tr.lab-check-ok").count() >= HOPS


def test_breakfix_form_turns_the_route_hop_red_and_puts_it_back(notebook):
    from helpers.aws import endpoints, networking

    page = notebook(PATH_NOTEBOOK)
    private_table = networking.find_lab_network().private_route_table_ids[0]
    form = code_cell(page, "exercise = ch.form()")
    output = form.locator(".widget-output")
    remove_route = "Remove the endpoint's route from the private route table"
    form.get_by_label("Exercise").select_option(label=remove_route)
    click_and_read(form, remove_route, "Task timed out")  # the button names the exercise
    failed = output.locator("table.lab-path-table tr.lab-hop-failed")
    expect(failed).to_have_count(1)
    assert failed.locator("td").first.inner_text() == "Route to DynamoDB"
    # The picture stops where the traffic does: no hop after the route passes, all are grey.
    beyond = output.locator("svg.lab-path g.lab-hop[data-hop='route'] ~ g.lab-hop")
    expect(beyond).to_have_count(HOPS - 4)
    greyed = output.locator("svg.lab-path g.lab-hop[data-hop='route'] ~ g.lab-hop-skipped")
    expect(greyed).to_have_count(HOPS - 4)
    _screenshot(output.locator("svg.lab-path"), "07-path-route-removed.png")
    assert private_table not in endpoints.find_lab_endpoint()["RouteTableIds"]
    form.get_by_label("Exercise").select_option(label="Put it all back")
    text = click_and_read(
        form, "Put it all back", "reaches its DynamoDB table through the VPC gateway"
    )
    assert "Task timed out" not in text
    rows = output.locator("table.lab-path-table tbody tr")
    expect(rows).to_have_count(HOPS)
    assert set(rows.evaluate_all("rows => rows.map(r => r.className)")) == {"lab-hop-ok"}
    assert private_table in endpoints.find_lab_endpoint()["RouteTableIds"]


# --- chapter 08: clean-up ---------------------------------------------------------------------
def test_cleanup_run_all_leaves_nothing_and_a_second_click_deletes_nothing(notebook):
    from helpers.aws import inventory
    from helpers.core import tags
    from helpers.core.clients import client

    page = notebook("08-clean-up.ipynb")
    assert_no_cell_errors(page)
    assert inventory.inventory() == []
    assert client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"] == []
    left = code_cell(page, "after = ch.show()")
    expect(left).to_contain_text("Nothing carrying the lab's tags is left")
    checks = code_cell(page, "ch.check()")
    expect(checks.locator("tr.lab-check-missing")).to_have_count(0)
    view = code_cell(page, "view = ch.form()")
    expect(view.locator(".widget-output")).to_contain_text("nothing made by the lab is left")
    text = click_and_read(
        view, "Delete everything the lab made (0)", "There was nothing to clean up"
    )
    assert "Traceback" not in text
