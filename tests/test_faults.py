"""Faults: the backend killed between chapters, a failure in the middle of catch-up, throttling.

The kill tests use their own lab home (their own backend), so the session's backend and
the other tests never see the kill.
"""

from __future__ import annotations

import json
import os
import re
import signal

import pytest
from botocore.awsrequest import AWSResponse
from test_cleanup import aws_answers

import helpers
from helpers.core import backend, journal
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError
from helpers.core.tags import ec2_filters
from helpers.views.forms.vpc import VpcForm

LEARNER_CHOICES = {"name_prefix": "fault-lab", "cidr": "10.20.0.0/16"}


def _one_sentence(message: str) -> bool:
    return len(re.findall(r"[.!?](?:\s|$)", message)) == 1


def _lab_vpcs() -> list[dict]:
    return client("ec2").describe_vpcs(Filters=ec2_filters(role="vpc"))["Vpcs"]


def _name(resource: dict) -> str:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}.get("Name", "")


def _kill_backend(home) -> int:
    state = json.loads((home / "backend.json").read_text(encoding="utf-8"))
    os.kill(state["pid"], signal.SIGKILL)
    return state["pid"]


@pytest.fixture
def own_lab(tmp_path, monkeypatch):
    """A learner's lab home of its own, with chapters 01 and 02 done (01 with own choices)."""
    home = tmp_path / "home"
    monkeypatch.setenv("LAB_HOME", str(home))
    try:
        result = VpcForm().submit(**LEARNER_CHOICES)
        assert result.ok, result.problems
        helpers.chapter("03").start()  # catches up chapter 02 (its defaults)
        assert len(_lab_vpcs()) == 1
        yield home
    finally:
        backend.stop(home)


def _assert_rebuilt_with_the_learners_choices() -> None:
    (vpc,) = _lab_vpcs()
    assert vpc["CidrBlock"] == LEARNER_CHOICES["cidr"]
    assert _name(vpc) == "fault-lab-vpc"
    from helpers.aws import endpoints

    found = endpoints.find_lab_endpoint()
    assert found and found["VpcId"] == vpc["VpcId"]
    private_tables = client("ec2").describe_route_tables(
        Filters=ec2_filters(role="private-route-table")
    )["RouteTables"]
    assert private_tables and all(
        any(route.get("GatewayId") == found["VpcEndpointId"] for route in table["Routes"])
        for table in private_tables
    )


def test_after_a_kill_the_next_helper_call_says_what_happened_and_catch_up_rebuilds(own_lab):
    saved = journal.read()
    assert saved["01"]["name_prefix"] == "fault-lab"
    old_pid = _kill_backend(own_lab)

    with pytest.raises(LabError) as caught:
        client("ec2")
    assert caught.value.key == "backend.restarted"
    assert _one_sentence(caught.value.message)
    assert json.loads((own_lab / "backend.json").read_text())["pid"] != old_pid
    assert journal.read() == saved  # the journal lives beside the backend, not in it
    assert _lab_vpcs() == []  # the new backend is empty, as the message said

    summaries = helpers.catch_up()
    assert summaries
    _assert_rebuilt_with_the_learners_choices()


def test_after_a_kill_the_next_chapter_says_so_and_catches_up_by_itself(own_lab):
    saved = journal.read()
    _kill_backend(own_lab)

    shown = helpers.chapter("04").start().html  # the first cell's value: what the learner sees

    warnings = shown.split('class="lab-warning"')[1:]
    assert len(warnings) == 1 and "backend had stopped" in warnings[0].split("</div>")[0]
    assert "Earlier chapters caught up" in shown
    assert journal.read() == saved
    _assert_rebuilt_with_the_learners_choices()


def test_a_call_already_on_its_way_when_the_backend_dies_is_one_message(own_lab):
    ec2 = client("ec2")
    _kill_backend(own_lab)
    with pytest.raises(LabError) as caught, friendly_errors():
        ec2.describe_vpcs()
    assert caught.value.key == "backend.restarted"
    assert _one_sentence(caught.value.message)


def test_a_failed_route_step_in_catch_up_is_finished_by_the_next_run(fresh_lab):
    journal.record("01", LEARNER_CHOICES)
    with (
        aws_answers(
            "ec2",
            "CreateRoute",
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            times=1,
        ),
        pytest.raises(LabError) as caught,
    ):
        helpers.catch_up()
    assert caught.value.code == "UnauthorizedOperation"
    ec2 = client("ec2")
    (public,) = ec2.describe_route_tables(Filters=ec2_filters(role="public-route-table"))[
        "RouteTables"
    ]
    assert not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in public["Routes"])

    helpers.catch_up()

    (public,) = ec2.describe_route_tables(Filters=ec2_filters(role="public-route-table"))[
        "RouteTables"
    ]
    (gateway,) = ec2.describe_internet_gateways(Filters=ec2_filters(role="internet-gateway"))[
        "InternetGateways"
    ]
    default = [r for r in public["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [r["GatewayId"] for r in default] == [gateway["InternetGatewayId"]]
    _assert_rebuilt_with_the_learners_choices()  # one VPC, endpoint and routes in place


# --- throttling and transient errors --------------------------------------------------------------


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def _ec2_error(code: str) -> AWSResponse:
    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{code} (simulated)</Message>"
        f"</Error></Errors><RequestID>simulated</RequestID></Response>"
    ).encode()
    return AWSResponse(
        "https://ec2.amazonaws.com/", 503 if code == "Unavailable" else 400, {}, _Body(body)
    )


@pytest.fixture
def throttled(fresh_lab):
    """``throttle(n, code)``: the next ``n`` DescribeVpcs requests are answered with ``code``."""
    events = client("ec2").meta.events
    sent = []
    plan = {"left": 0, "code": "RequestLimitExceeded"}

    def answer(request, **_):
        sent.append(request)
        if plan["left"]:
            plan["left"] -= 1
            return _ec2_error(plan["code"])
        return None

    def throttle(times: int, code: str = "RequestLimitExceeded"):
        plan.update(left=times, code=code)
        sent.clear()
        return sent

    events.register("before-send.ec2.DescribeVpcs", answer, unique_id="test-throttle")
    yield throttle
    events.unregister("before-send.ec2.DescribeVpcs", unique_id="test-throttle")


def test_throttling_is_retried_until_it_passes(throttled):
    sent = throttled(2)
    with friendly_errors():
        answer = client("ec2").describe_vpcs()
    assert len(sent) == 3
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2


def test_a_transient_server_error_is_retried(throttled):
    sent = throttled(1, "Unavailable")
    with friendly_errors():
        client("ec2").describe_vpcs()
    assert len(sent) == 2


def test_persistent_throttling_is_one_message_with_the_aws_code(throttled):
    sent = throttled(100)
    with pytest.raises(LabError) as caught, friendly_errors():
        client("ec2").describe_vpcs()
    assert len(sent) == client("ec2").meta.config.retries["total_max_attempts"]
    assert caught.value.code == "RequestLimitExceeded"
    assert caught.value.message.startswith("AWS refused the request (RequestLimitExceeded)")
