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
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (README: apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, empty_lab):
    """JupyterLab on a copy of the notebooks (autosave can never touch the repository),
    on an empty lab: other test files may have run on this worker's backend before."""
    empty_lab()
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    shutil.copytree(ROOT / "images", work / "images")
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
    env = {
        **os.environ,
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
    yield url, token
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def open_and_run(browser, jupyterlab, notebook: str):
    url, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    workspace = notebook.split("-")[0]  # a workspace of its own: no tabs left by other tests
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
    """``notebook(name)``: that notebook's page after Run All, opened once for the module.

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

    def open_once(name: str):
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
    form_cell.locator(f"button.jupyter-button[title='{button_title}']").click()
    form_cell.page.wait_for_function(
        """([out, text]) => {
             const children = [...out.querySelectorAll('.jp-OutputArea-child')];
             return children.length > 0 && children.every(c => !c.dataset.labStale)
               && out.innerText.includes(text);
           }""",
        arg=[output.element_handle(), wait_for],
        timeout=120_000,
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


def test_vpc_form_refuses_a_bad_cidr_in_the_form_and_creates_nothing(notebook):
    from helpers.core import tags
    from helpers.core.clients import client

    page = notebook("01-create-vpc-subnet-route-table.ipynb")
    assert_no_cell_errors(page)
    lab_vpcs_before = client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"]
    form = page.locator(".jp-CodeCell").filter(has=page.locator(".widget-output")).first
    cidr = form.get_by_label("IPv4 CIDR block")
    cidr.fill("10.0.0.1/16")
    cidr.press("Tab")
    text = click_and_read(form, "Create VPC", "Nothing was created")
    assert "IPv4 CIDR block" in text and "not the start of its block" in text
    assert "10.0.0.0/16" in text  # the block the learner probably meant
    lab_vpcs_after = client("ec2").describe_vpcs(Filters=tags.ec2_filters(role="vpc"))["Vpcs"]
    assert [v["VpcId"] for v in lab_vpcs_after] == [v["VpcId"] for v in lab_vpcs_before]


def test_vpc_form_shows_the_nat_gateway_price_readably_and_creates_no_nat(notebook):
    from helpers.aws import networking
    from helpers.core.clients import client

    page = notebook("01-create-vpc-subnet-route-table.ipynb")
    form = page.locator(".jp-CodeCell").filter(has=page.locator(".widget-output")).first
    form.get_by_label("IPv4 CIDR block").fill("10.0.0.0/16")
    form.get_by_label("NAT gateways ($)").select_option(label="In 1 AZ")
    click_and_read(form, "Create VPC", "Nothing was created")
    output = form.locator(".widget-output")
    refusal = output.locator(".lab-error").first
    assert "NAT gateway" in refusal.inner_text() and "Tick the confirmation box" in (
        refusal.inner_text()
    )
    vpc_id = networking.find_lab_network().vpc_id
    assert (
        client("ec2").describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "NatGateways"
        ]
        == []
    )
    form.get_by_label("NAT gateways ($)").select_option(label="None")  # as Run All left it
    # The prices must read as prices ("$0.050 per hour"), not as a typeset formula.
    expect(output.locator("mjx-container")).to_have_count(0)
    assert re.search(r"\$\d+\.\d+ per hour", refusal.inner_text())


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
    # The "Read the new route" cell shows it again, from what exists now.
    shown = code_cell(page, "ch.show()").locator("tr.lab-new")
    expect(shown.filter(has_text=prefix_list).filter(has_text=endpoint_id)).to_have_count(1)


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
    form.locator("button.jupyter-button[title='Create endpoint']").dblclick()
    notice = output.locator(".lab-info").filter(has_text="already exists")
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
    text = click_and_read(form, "Create endpoint", "Nothing was created")
    refusal = form.locator(".widget-output .lab-error").filter(has_text="InvalidServiceName")
    expect(refusal).to_have_count(1)
    assert "Services" in refusal.inner_text() and wrong in refusal.inner_text()
    assert "Traceback" not in text
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
    click_and_read(form, "Create endpoint", "Nothing was created")
    refusal = form.locator(".widget-output .lab-error").filter(has_text="InvalidPolicyDocument")
    expect(refusal).to_have_count(1)
    assert "not valid JSON" in refusal.inner_text()
    assert endpoints.find_lab_endpoint()["PolicyDocument"] == policy_before


# --- chapter 04: the Create function form -----------------------------------------------------
FUNCTION_NOTEBOOK = "04-create-lambda-function.ipynb"


def test_function_form_refuses_with_a_public_subnet_warning_and_changes_nothing(notebook):
    from helpers.aws import functions, networking

    page = notebook(FUNCTION_NOTEBOOK)
    assert_no_cell_errors(page)
    network = networking.find_lab_network()
    before = functions.find_lab_function()
    assert before["VpcConfig"]["SubnetIds"] == network.private_subnet_ids
    form = code_cell(page, 'ch.form("function")')
    form.get_by_label(re.compile(network.public_subnet_ids[0])).check()
    form.get_by_label(re.compile(network.private_subnet_ids[0])).uncheck()
    memory = form.get_by_label("Memory (MB)")
    memory.fill("100")
    memory.press("Tab")
    click_and_read(form, "Create function", "Nothing was created")
    output = form.locator(".widget-output")
    warning = output.locator(".lab-warning")
    expect(warning).to_have_count(1)
    assert warning.inner_text().startswith("Subnets:")
    assert f"{network.public_subnet_ids[0]} is a public subnet" in warning.inner_text()
    error = output.locator(".lab-error").filter(has_text="ValidationException")
    assert error.inner_text().startswith("Memory (MB):") and "128 to 10240" in error.inner_text()
    after = functions.find_lab_function()
    assert after["VpcConfig"]["SubnetIds"] == network.private_subnet_ids
    assert after["MemorySize"] == before["MemorySize"]


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
    checklist = form.locator('.widget-vbox:has(> .widget-label:text-is("Subnets"))')
    expect(checklist.locator("input[type=checkbox]")).to_have_count(len(other_subnets))
    offered = checklist.inner_text()
    assert all(s in offered for s in other_subnets)
    assert not any(s in offered for s in network.private_subnet_ids + network.public_subnet_ids)
    text = click_and_read(form, "Create function", "Nothing was created")
    assert "Subnets: Choose at least one subnet" in text
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
    text = click_and_read(form, "Create table", "Nothing was created")
    assert "Table name: 'no' is not a valid DynamoDB table name" in text
    assert "Read capacity units (provisioned): 0 is not a valid number" in text
    assert "Traceback" not in text
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
        click_and_read(form, "Create table", "The table as DynamoDB reports it")
        row = output.locator("tr").filter(has_text="Table class")
        chosen_and_reported.append((table_class, row.locator("td").nth(1).inner_text()))
    assert all(chosen == reported for chosen, reported in chosen_and_reported), chosen_and_reported


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
    text = click_and_read(form, "Send request", "A DELETE request needs the note's id")
    assert "Note id" in text and "A DELETE request needs the note's id" in text
    assert "Traceback" not in text
    assert len(_notes()) == len(notes_before)  # nothing was sent, nothing deleted
    form.get_by_label("Method", exact=True).select_option(label="GET")
    note_id.fill(first["id"]["S"])
    note_id.press("Tab")
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
    form.get_by_label("Exercise").select_option(
        label="Remove the endpoint's route from the private route table"
    )
    click_and_read(form, "Apply", "Task timed out")
    failed = output.locator("table.lab-path-table tr.lab-hop-failed")
    expect(failed).to_have_count(1)
    assert failed.locator("td").first.inner_text() == "Route to DynamoDB"
    assert private_table not in endpoints.find_lab_endpoint()["RouteTableIds"]
    form.get_by_label("Exercise").select_option(label="Put it all back")
    text = click_and_read(form, "Apply", "reaches its DynamoDB table through the VPC gateway")
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
    text = click_and_read(view, "Clean up", "There was nothing to clean up")
    assert "Traceback" not in text
