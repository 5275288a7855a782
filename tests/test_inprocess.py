"""The in-process backend (``LAB_BACKEND=inprocess``): moto's mock inside the kernel, as in the
browser (JupyterLite), tested here on CPython with no server and no socket.

Each test runs in its own lab home with the mock started fresh, and is marked ``nobackend``:
the session's conftest fails any of them that starts the embedded server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from test_invoker import LIST_NOTES, POST_NOTE

from helpers import chapter
from helpers.aws import api, endpoints, functions, networking
from helpers.core import backend, backend_inprocess, home, journal, settings, status
from helpers.core.clients import account_id, client
from helpers.core.errors import LabError
from helpers.core.messages import t

pytestmark = pytest.mark.nobackend


@pytest.fixture
def inprocess(monkeypatch, tmp_path):
    """The lab on the in-process backend, in an empty home, with every socket refused."""
    monkeypatch.setenv("LAB_BACKEND", "inprocess")
    monkeypatch.setenv("LAB_HOME", str(tmp_path))

    def refuse(*_args, **_kwargs):
        raise AssertionError("the in-process backend opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    backend_inprocess.stop()
    yield tmp_path
    backend_inprocess.stop()


def test_catch_up_builds_earlier_chapters_with_the_learners_choices_and_no_server(inprocess):
    """Opening chapter 03 on its own (a JupyterLite notebook has a kernel of its own) rebuilds
    chapters 01 and 02 from the journal: the learner's VPC range, and the DynamoDB gateway
    endpoint whose prefix-list route is in the private route table. ("Gateway endpoints for
    Amazon DynamoDB": a gateway endpoint adds a route whose destination is the service's
    prefix list and whose target is the endpoint.)"""
    journal.record("01", {"cidr": "10.20.0.0/16"})

    summaries = chapter("03").catch_up_earlier()

    assert len(summaries) == 2
    network = networking.find_lab_network()
    vpc = client("ec2").describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    [endpoint] = client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}]
    )["VpcEndpoints"]
    assert endpoint["ServiceName"] == "com.amazonaws.us-east-1.dynamodb"
    routes = [
        route
        for table in client("ec2").describe_route_tables(RouteTableIds=endpoint["RouteTableIds"])[
            "RouteTables"
        ]
        for route in table["Routes"]
    ]
    assert any(
        route.get("DestinationPrefixListId", "").startswith("pl-")
        and route.get("GatewayId") == endpoint["VpcEndpointId"]
        for route in routes
    )
    assert backend.running(inprocess) is None
    assert not backend.state_file(inprocess).exists()


def test_each_kernel_starts_empty_and_catch_up_is_idempotent(inprocess):
    """A new kernel (the mock stopped and started again) has no resources; catch-up makes them
    once, and a second catch-up makes no second VPC."""
    chapter("02").catch_up_earlier()
    backend_inprocess.stop()

    assert (
        client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"]
        == []
    )
    chapter("02").catch_up_earlier()
    chapter("02").catch_up_earlier()
    assert (
        len(
            client("ec2").describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])[
                "Vpcs"
            ]
        )
        == 1
    )


def test_status_names_the_in_process_backend_and_the_embedded_account(inprocess):
    """Same account rule as the embedded backend: moto's default account, the lab's region."""
    described = status.describe(start=True)

    assert described["backend"] == "inprocess"
    assert described["running"] is True
    assert described["endpoint"] == t("status.endpoint_in_kernel")
    assert described["account_id"] == settings.EMBEDDED_ACCOUNT_ID == account_id()
    assert described["region"] == "us-east-1"
    assert client("sts").get_caller_identity()["Account"] == settings.EMBEDDED_ACCOUNT_ID


def test_in_the_browser_the_lab_defaults_to_in_process_and_says_nothing_leaves_the_page(
    inprocess, monkeypatch
):
    monkeypatch.delenv("LAB_BACKEND")
    monkeypatch.setattr(settings, "BROWSER", True)
    monkeypatch.setattr(status, "BROWSER", True)

    assert settings.current().backend == "inprocess"
    assert status.describe(start=True)["endpoint"] == t("status.endpoint_in_browser")


def test_in_the_browser_real_aws_is_refused_with_the_reason(inprocess, monkeypatch):
    """AWS SDK for JavaScript developer guide, "Building the SDK for Browsers": some AWS
    services do not support CORS, so a web page cannot call them; and the learner's keys
    would have to be typed into the page."""
    monkeypatch.setenv("LAB_BACKEND", "aws")
    monkeypatch.setattr(settings, "BROWSER", True)

    with pytest.raises(LabError) as refused:
        settings.current()
    assert refused.value.key == "settings.aws_in_browser"
    assert "CORS" in refused.value.message


def test_in_the_browser_the_journal_lives_on_the_notebooks_drive(monkeypatch):
    """JupyterLite keeps the notebooks' drive (/drive) in the browser's storage, not $HOME."""
    monkeypatch.delenv("LAB_HOME", raising=False)
    monkeypatch.setattr(home, "BROWSER", True)

    assert home.lab_home() == home.BROWSER_HOME
    assert home.BROWSER_HOME.parent.as_posix() == "/drive"


# --- the note app's handler in the kernel: chapter 03's rehearsal, chapters 05–07's invoke ---


@pytest.fixture
def no_processes(inprocess, monkeypatch):
    """The in-process lab where, as under Pyodide, no process can be started; ``os.environ``,
    ``sys.path`` and the loaded modules' names are read before the test for comparison."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the in-process backend started a process")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    backend_inprocess.start()  # the kernel's mock sets moto's fake keys in its environment
    return _environment(), list(sys.path)


def _environment() -> dict:
    return {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}


def _assert_kernel_as_before(before) -> None:
    environment, path = before
    assert _environment() == environment
    assert sys.path == path
    assert "handler" not in sys.modules  # the function's module, imported from its task root


def test_chapter_03_rehearsal_runs_in_the_kernel_beside_the_learners_lab(no_processes):
    """The rehearsal's throwaway table (named as the lab's) never meets the learner's table in
    the kernel's mock, leaves nothing behind (a second rehearsal makes it again), and the
    handler's variables are gone afterwards."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="note_tbl",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="note_tbl", Item={"id": {"S": "learners"}})

    checks = functions.check_code()  # chapter 03's "Check your work": add, list, delete, list
    ((_, listed),) = functions.rehearse([{"action": "list"}])

    assert all(check.ok for check in checks), checks
    assert (listed["statusCode"], json.loads(listed["body"])) == (200, [])
    assert dynamodb.list_tables()["TableNames"] == ["note_tbl"]
    assert dynamodb.scan(TableName="note_tbl")["Items"] == [{"id": {"S": "learners"}}]
    _assert_kernel_as_before(no_processes)


def test_rehearsal_failure_in_the_kernel_is_the_same_lab_error(no_processes):
    with pytest.raises(LabError) as refused:
        functions.rehearse([{"action": ["list"]}])  # the handler crashes on an unhashable action
    assert refused.value.code == "functions.rehearsal_failed"
    assert refused.value.message.endswith("TypeError: unhashable type: 'list'")
    _assert_kernel_as_before(no_processes)


@pytest.fixture
def note_app(no_processes):
    """Chapters 01–05 rebuilt from the journal's defaults (a chapter 06 notebook opened on its
    own): the note app in the private subnet, its table, the DynamoDB gateway endpoint."""
    chapter("06").catch_up_earlier()
    return no_processes


def test_chapter_05_invoke_runs_the_deployed_handler_in_the_kernel(note_app):
    """POST a note through the function, list it: the handler ran with the function's own
    environment (Lambda's defined runtime variables, "Working with Lambda environment
    variables"), its DynamoDB calls answered by the kernel's mock in the lab's account."""
    stored = chapter("05").invoke(POST_NOTE)
    listed = chapter("05").invoke(LIST_NOTES)

    assert stored.ok and stored.payload["statusCode"] == 201, stored.payload
    assert stored.verdict.via == "endpoint"
    assert json.loads(listed.payload["body"]) == [
        {"id": "n1", "text": "hello from the private subnet"}
    ]
    [table] = client("dynamodb").list_tables()["TableNames"]
    item = client("dynamodb").get_item(TableName=table, Key={"id": {"S": "n1"}})["Item"]
    assert item["text"] == {"S": "hello from the private subnet"}
    lines = stored.log.splitlines()
    assert lines[0].startswith("START RequestId:") and lines[-1].startswith("REPORT RequestId:")
    _assert_kernel_as_before(note_app)


def test_in_the_kernel_no_way_out_is_lambdas_timeout_and_nothing_is_stored(note_app):
    """With the endpoint gone the function's DynamoDB call has no route: Lambda ends the
    invocation with "Task timed out after N.00 seconds", N the function's timeout ("Configure
    Lambda function timeout"). Reported at once: the verdict decides, nothing is waited for."""
    [endpoint] = client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])

    result = chapter("05").invoke(POST_NOTE)

    seconds = functions.DEFAULT_TIMEOUT_SECONDS
    assert result.function_error == "Unhandled" and result.timed_out
    assert result.error_message.endswith(f"Task timed out after {seconds:.2f} seconds")
    assert result.duration_ms == seconds * 1000
    [table] = client("dynamodb").list_tables()["TableNames"]
    assert client("dynamodb").scan(TableName=table)["Count"] == 0
    _assert_kernel_as_before(note_app)


def test_in_the_kernel_a_denied_call_never_reaches_the_mock(note_app):
    """An endpoint policy that denies PutItem: DynamoDB answers AccessDeniedException ("Control
    access to VPC endpoints using endpoint policies"), and the kernel's mock, which would
    have stored the note, never sees the call."""
    endpoint = endpoints.find_lab_endpoint()
    endpoints.set_policy(
        endpoint["VpcEndpointId"],
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": "*"},
            ],
        },
    )

    result = chapter("05").invoke(POST_NOTE)

    assert result.payload["statusCode"] == 500
    assert json.loads(result.payload["body"])["error"] == "AccessDeniedException"
    [table] = client("dynamodb").list_tables()["TableNames"]
    assert client("dynamodb").scan(TableName=table)["Count"] == 0
    _assert_kernel_as_before(note_app)


def test_chapter_06_api_test_request_runs_the_function_in_the_kernel(no_processes):
    """Chapter 06's test request through the REST API's AWS_PROXY integration: API Gateway
    passes the request to the function and returns its answer ("Set up Lambda proxy
    integrations in API Gateway"); here the function runs in the kernel."""
    chapter("07").catch_up_earlier()  # chapters 01–06, the API included

    stored = api.request("POST", body={"id": "n2", "text": "through the API"})
    listed = api.request("GET")

    assert stored.status == 201, (stored.body, stored.problem)
    assert {"id": "n2", "text": "through the API"} in listed.json
    _assert_kernel_as_before(no_processes)


def test_the_lab_in_the_browser_imports_no_file_lock():
    """Under Pyodide (no ``fcntl``) importing filelock warns "only soft file lock is
    available"; the in-process backend starts no server and locks nothing, so the lab, its
    chapters and the kernel's mock load without it."""
    code = (
        "import sys, helpers; helpers.chapter('05')\n"
        "from helpers.core import backend_inprocess; backend_inprocess.start()\n"
        "print('filelock' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert loaded.stdout.strip() == "False"
