"""Class mode: one backend for a whole class, each learner in an account of their own.

The class backend is the lab's own backend process started with ``--class-backend``
(``python -m helpers class-backend start``); a learner's lab reaches it with
``LAB_BACKEND=class`` and ``LAB_CLASS_URL``, naming its account in every request's
``x-moto-account-id`` header. moto serves each request from the account that header names
(moto 5.2, ``moto/core/responses.py``, ``BaseResponse.get_current_account``: the header comes
before the access key and the default account); the resources of one account are invisible
from another, as between AWS accounts.

The class simulation runs 8 learners' notebooks at once: a test of minutes, in an xdist group
of its own (``--dist loadgroup`` spreads it like the notebook runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from test_notebook_runs import ROOT, run_notebook

import helpers
from helpers.aws import api
from helpers.aws.inventory import inventory
from helpers.core import backend, clients, settings
from helpers.core.backend_process import ACCOUNT_HEADER, LEARNER_HEADER
from helpers.core.errors import LabError
from helpers.core.status import describe
from helpers.core.tags import ec2_filters
from helpers.views.status import panel_html

CLASS_SIZE = 8
CHAPTERS = ("01-create-vpc-subnet-route-table.ipynb", "02-create-vpc-endpoint.ipynb")


@pytest.fixture
def class_backend(tmp_path):
    """A class backend of this test's own (its state in a folder of the test's)."""
    home = tmp_path / "class"
    running = backend.start(home, "us-east-1", class_port=0)
    yield running.url, home
    backend.stop(home)


def learner_environment(class_backend: tuple, home: Path, learner: str) -> dict:
    """A learner's settings, their key from the instructor included."""
    url, class_folder = class_backend
    return {
        "LAB_BACKEND": "class",
        "LAB_CLASS_URL": url,
        "LAB_HOME": str(home),
        "LAB_LEARNER": learner,
        "LAB_CLASS_SECRET": backend.class_learner_keys(class_folder, learner)[
            "aws_secret_access_key"
        ],
    }


def be(monkeypatch, environment: dict) -> None:
    """This test process acts as the learner whose environment this is."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


def helpers_command(environment: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *arguments],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=600,
    )


def resident_megabytes(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


# --- unit tests ---------------------------------------------------------------------------------


@pytest.mark.nobackend
def test_learner_accounts_are_stable_distinct_and_never_the_default_account():
    """A learner's account is the same for the same name, every time and on every machine
    (pinned here: a change would move every learner of a running class to an empty account),
    12 digits as an AWS account id (AWS Organizations API Reference, DescribeAccount:
    "The regex pattern for an account ID string requires exactly 12 digits"), different for
    different names, and never moto's default account, where any request naming no account
    lands."""
    assert settings.learner_account_id("alice") == "918259728919"
    assert settings.learner_account_id("  Alice ") == "918259728919"
    names = [f"learner-{number}" for number in range(2000)] + ["Nguyễn Văn A", "nguyen van a"]
    accounts = {settings.learner_account_id(name) for name in names}
    assert len(accounts) == len(names)
    assert all(re.fullmatch(r"[1-9]\d{11}", account) for account in accounts)
    assert settings.EMBEDDED_ACCOUNT_ID not in accounts


@pytest.mark.nobackend
def test_class_mode_reads_the_learner_from_lab_learner_else_the_user_name(monkeypatch):
    """LAB_LEARNER names the learner; without it, the operating-system user does."""
    be(monkeypatch, {"LAB_BACKEND": "class", "LAB_CLASS_URL": "http://127.0.0.1:9/"})
    monkeypatch.delenv("LAB_LEARNER", raising=False)
    monkeypatch.setenv("USER", "learner-by-os")
    monkeypatch.setenv("LOGNAME", "learner-by-os")
    found = settings.current()
    assert (found.learner, found.endpoint_url) == ("learner-by-os", "http://127.0.0.1:9")
    assert found.learner_account == settings.learner_account_id("learner-by-os")
    monkeypatch.setenv("LAB_LEARNER", "bình")
    assert settings.current().learner_account == settings.learner_account_id("bình")


@pytest.mark.nobackend
def test_a_missing_or_unreachable_class_backend_is_a_clear_message(monkeypatch):
    """No LAB_CLASS_URL, a URL that is not one, no learner's key, and a class backend that
    does not answer: each is one sentence naming what to set or whom to ask, no traceback."""
    monkeypatch.setenv("LAB_BACKEND", "class")
    monkeypatch.delenv("LAB_CLASS_URL", raising=False)
    with pytest.raises(LabError) as missing:
        settings.current()
    assert missing.value.key == "settings.class_url_missing"
    assert "LAB_CLASS_URL" in missing.value.message
    monkeypatch.setenv("LAB_CLASS_URL", "127.0.0.1:5000")
    with pytest.raises(LabError) as invalid:
        settings.current()
    assert invalid.value.key == "settings.class_url_invalid"

    monkeypatch.setenv("LAB_CLASS_URL", "http://127.0.0.1:9")  # the discard port: nothing there
    monkeypatch.setenv("LAB_LEARNER", "alice")
    monkeypatch.delenv("LAB_CLASS_SECRET", raising=False)
    with pytest.raises(LabError) as no_key, clients.friendly_errors():
        clients.client("ec2").describe_vpcs()
    assert no_key.value.key == "backend.class_secret_missing"
    assert "LAB_CLASS_SECRET" in no_key.value.message and "alice" in no_key.value.message
    monkeypatch.setenv("LAB_CLASS_SECRET", "0" * 40)
    with pytest.raises(LabError) as unreachable, clients.friendly_errors():
        clients.client("ec2").describe_vpcs()
    assert unreachable.value.key == "backend.class_unreachable"
    assert "http://127.0.0.1:9" in unreachable.value.message
    status = describe()
    assert (status["running"], status["learner"]) == (False, "alice")
    assert "not running" in status["endpoint"]


def test_every_client_names_the_learners_account_and_sees_only_it(class_backend, monkeypatch):
    """Every service the lab makes a client for sends the learner's account (and name) in
    the header moto selects the account by; STS's GetCallerIdentity answers with that account
    (AWS STS API Reference, GetCallerIdentity response, Account: "The Amazon Web Services
    account ID number of the account that owns or contains the calling entity"), which is
    the lab's account_id(); a VPC of one learner is unknown to another (Amazon EC2 API
    Reference, error codes: "InvalidVpcID.NotFound: The specified VPC does not exist")."""
    services = {
        match
        for path in (ROOT / "helpers").rglob("*.py")
        for match in re.findall(r"\bclient\(\"([a-z0-9-]+)\"", path.read_text(encoding="utf-8"))
    }
    assert {"ec2", "iam", "sts", "dynamodb", "lambda", "apigateway"} <= services
    be(monkeypatch, learner_environment(class_backend, Path("/nonexistent-home-a"), "Nguyễn Văn A"))
    account = settings.learner_account_id("Nguyễn Văn A")
    assert clients.account_id() == account
    probes = {
        "ec2": lambda c: c.describe_vpcs(),
        "iam": lambda c: c.list_roles(MaxItems=1),
        "sts": lambda c: c.get_caller_identity(),
        "dynamodb": lambda c: c.list_tables(),
        "lambda": lambda c: c.list_functions(),
        "apigateway": lambda c: c.get_rest_apis(),
    }
    sent: list[dict] = []

    def capture(request, **_):
        sent.append(  # as sent: signing leaves some values as bytes
            {
                name.lower(): value.decode() if isinstance(value, bytes) else value
                for name, value in request.headers.items()
            }
        )

    for service in sorted(services):
        made = clients.client(service)
        made.meta.events.register("before-send", capture, unique_id="class-mode-capture")
        try:
            probes[service](made)
        finally:
            made.meta.events.unregister("before-send", unique_id="class-mode-capture")
        assert sent[-1][ACCOUNT_HEADER] == account, service
        assert sent[-1][LEARNER_HEADER] == "Nguy%E1%BB%85n%20V%C4%83n%20A", service
    assert clients.client("sts").get_caller_identity()["Account"] == account
    vpc_of_a = clients.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]
    assert vpc_of_a["OwnerId"] == account

    be(monkeypatch, learner_environment(class_backend, Path("/nonexistent-home-b"), "bob"))
    assert clients.client("sts").get_caller_identity()["Account"] != account
    with pytest.raises(ClientError) as unknown:
        clients.client("ec2").describe_vpcs(VpcIds=[vpc_of_a["VpcId"]])
    assert unknown.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"


def test_status_lists_the_learners_the_class_backend_has_seen(class_backend, monkeypatch):
    """``class-backend status --json`` prints the URL and, per account, the learners who
    named it; a learner's ``backend status`` and status panel say class mode and the learner."""
    url, home = class_backend
    for learner in ("alice", "bình"):
        environment = learner_environment(class_backend, Path("/nonexistent-home"), learner)
        be(monkeypatch, environment)
        clients.client("ec2").describe_vpcs()
    listed = helpers_command({}, "class-backend", "status", "--json", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    status = json.loads(listed.stdout)
    assert (status["running"], status["url"]) == (True, url)
    assert status["learners"] == ["alice", "bình"]
    assert {(a["account_id"], tuple(a["learners"])) for a in status["accounts"]} == {
        (settings.learner_account_id("alice"), ("alice",)),
        (settings.learner_account_id("bình"), ("bình",)),
    }

    mine = helpers_command(environment, "backend", "status", "--json")
    assert mine.returncode == 0, mine.stderr
    as_learner = json.loads(mine.stdout)
    assert (as_learner["backend"], as_learner["learner"], as_learner["running"]) == (
        "class",
        "bình",
        True,
    )
    assert as_learner["account_id"] == settings.learner_account_id("bình")
    panel = panel_html(describe())
    assert "class backend" in panel and "bình" in panel


def test_the_deployed_note_app_uses_the_learners_own_table(class_backend, tmp_path, monkeypatch):
    """On a class backend the note app, run by the lab, calls DynamoDB from its function's
    account (a Lambda function's calls are made with its execution role, in the account that
    owns the function: AWS Lambda Developer Guide, "Defining Lambda function permissions
    with an execution role"): a note sent through the learner's API lands in their table."""
    be(monkeypatch, learner_environment(class_backend, tmp_path / "alice", "alice"))
    helpers.catch_up()
    assert api.request("POST", body={"id": "n1", "text": "in alice's account"}).status == 201
    listed = api.request("GET")
    assert listed.status == 200 and json.loads(listed.body) == [
        {"id": "n1", "text": "in alice's account"}
    ]
    table = clients.client("dynamodb").scan(TableName=listed.invocation.verdict.table_name)
    assert table["Count"] == 1


def test_the_class_backend_stops_on_request(tmp_path):
    """``class-backend stop`` stops the server its folder names; status then says so."""
    home = tmp_path / "class"
    started = helpers_command({}, "class-backend", "start", "--json", "--home", str(home))
    assert started.returncode == 0, started.stderr
    url = json.loads(started.stdout)["url"]
    keys = backend.running(home).keys  # the instructor's
    assert backend.server_info(url, keys)["class_backend"] is True
    stopped = helpers_command({}, "class-backend", "stop", "--json", "--home", str(home))
    assert json.loads(stopped.stdout)["running"] is False
    assert backend.server_info(url, keys) is None
    status = helpers_command({}, "class-backend", "status", "--home", str(home))
    assert status.returncode == 1 and "No class backend is running" in status.stdout


# --- a class at work --------------------------------------------------------------------------


@pytest.mark.xdist_group("notebook-class-mode")
def test_a_class_of_eight_runs_chapters_01_and_02_at_once(class_backend, tmp_path, monkeypatch):
    """8 learners (8 homes, 8 names) run chapters 01 and 02 with Run All at the same time on
    one class backend: every run passes; each learner's account holds exactly one lab VPC and
    one lab endpoint in it, owned by that account; no learner sees another's resources; and
    one learner's reset leaves the others' labs exactly as they were."""
    names = [f"learner-{number}" for number in range(CLASS_SIZE)]
    learners = {name: learner_environment(class_backend, tmp_path / name, name) for name in names}

    def run_chapters(environment: dict) -> None:
        for chapter in CHAPTERS:
            run_notebook(ROOT / "notebooks" / chapter, environment)

    began = time.monotonic()
    with ThreadPoolExecutor(CLASS_SIZE) as pool:
        for finished in [pool.submit(run_chapters, env) for env in learners.values()]:
            finished.result()  # a failed run fails the test, with its cell's error
    wall_seconds = time.monotonic() - began
    megabytes = resident_megabytes(backend.running(class_backend[1]).pid)
    print(
        f"\n{CLASS_SIZE} learners, chapters 01-02 at once: {wall_seconds:.0f} s; "
        f"class backend resident memory after: {megabytes:.0f} MB"
    )

    labs = {}
    for name, environment in learners.items():
        be(monkeypatch, environment)
        ec2 = clients.client("ec2")
        vpcs = ec2.describe_vpcs(Filters=ec2_filters())["Vpcs"]
        endpoints = ec2.describe_vpc_endpoints(Filters=ec2_filters())["VpcEndpoints"]
        assert len(vpcs) == 1 and len(endpoints) == 1, name
        assert vpcs[0]["OwnerId"] == settings.learner_account_id(name)
        assert endpoints[0]["VpcId"] == vpcs[0]["VpcId"]
        labs[name] = {(item.kind, item.id) for item in inventory()}
    everything = [resource for lab in labs.values() for resource in lab]
    assert len(everything) == len(set(everything)), "a resource is in two learners' labs"
    vpc_of_first = next(id for kind, id in labs["learner-0"] if kind == "vpc")
    be(monkeypatch, learners["learner-1"])
    with pytest.raises(ClientError) as unknown:
        clients.client("ec2").describe_vpcs(VpcIds=[vpc_of_first])
    assert unknown.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"

    reset = helpers_command(learners["learner-0"], "backend", "reset")
    assert reset.returncode == 0, reset.stderr
    for name, environment in learners.items():
        be(monkeypatch, environment)
        left = {(item.kind, item.id) for item in inventory()}
        assert left == (set() if name == "learner-0" else labs[name]), name
