"""The embedded backend and its command line: one server per learner, found again, resettable
(the lab's resources only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from helpers.core import backend
from helpers.core.backend_process import http_auth


def cli(home, *args):
    env = {**os.environ, "LAB_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "backend", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def other_home(tmp_path):
    home = tmp_path / "learner"
    yield home
    backend.stop(home)


def test_status_reports_kind_endpoint_region_account(other_home):
    status = cli(other_home, "start")
    assert status["backend"] == "embedded"
    assert status["running"] is True
    assert status["endpoint"].startswith("http://127.0.0.1:")
    assert status["region"] == "us-east-1"
    assert status["account_id"] == "123456789012"


def test_start_twice_reuses_the_same_server(other_home):
    first = cli(other_home, "start")
    second = cli(other_home, "start")
    assert first["pid"] == second["pid"]
    assert first["endpoint"] == second["endpoint"]


def test_stop_then_start_gives_a_working_empty_backend(other_home):
    cli(other_home, "start")
    first = backend.running(other_home)
    _create_vpc(other_home)
    stopped = cli(other_home, "stop")
    assert stopped["running"] is False
    assert backend.server_info(first.url, first.keys) is None
    started = cli(other_home, "start")
    assert started["running"] is True
    assert _vpc_cidrs(other_home) == ["172.31.0.0/16"]  # only the default VPC


def test_reset_empties_the_lab_and_forgets_its_choices_but_keeps_the_learners_own(other_home):
    from helpers.core import tags

    started = cli(other_home, "start")
    ec2 = _ec2(other_home)
    ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=tags.tag_specification(
            "vpc", tags.lab_tags("01", "vpc", "vpc-private-vpc")
        ),
    )
    ec2.create_vpc(CidrBlock="10.9.0.0/16")  # the learner's own
    ec2.create_vpc(
        CidrBlock="10.8.0.0/16",
        TagSpecifications=tags.tag_specification("vpc", {"Name": "vpc-private-vpc"}),
    )  # the lab's name, not its tags
    journal = other_home / "journal.json"
    journal.write_text(json.dumps({"01": {"name": "mine"}, "lab": {"region": "us-east-1"}}))
    reset = cli(other_home, "reset")
    assert reset["pid"] == started["pid"]
    assert _vpc_cidrs(other_home) == ["10.8.0.0/16", "10.9.0.0/16", "172.31.0.0/16"]
    assert not journal.exists()
    again = subprocess.run(
        [sys.executable, "-m", "helpers", "backend", "reset"],
        env={**os.environ, "LAB_HOME": str(other_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0
    assert "nothing to clean up" in again.stderr
    assert "running     True" in again.stdout


def test_two_homes_get_two_servers_that_never_share_resources(other_home, tmp_path):
    second_home = tmp_path / "second-learner"
    try:
        first = cli(other_home, "start")
        second = cli(second_home, "start")
        assert first["endpoint"] != second["endpoint"]
        assert first["pid"] != second["pid"]
        _create_vpc(other_home)
        assert "10.9.0.0/16" not in _vpc_cidrs(second_home)
    finally:
        backend.stop(second_home)


def test_server_survives_the_process_that_started_it(other_home):
    code = (
        "import helpers.core.backend as b, pathlib, sys; "
        "print(b.start(pathlib.Path(sys.argv[1])).url)"
    )
    url = subprocess.run(
        [sys.executable, "-c", code, str(other_home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()
    keys = backend.running(other_home).keys
    assert backend.server_info(url, keys) is not None  # the starter (a "kernel") has exited


def test_a_dead_server_is_restarted_and_reported(other_home):
    first = backend.start(other_home)
    _kill(first.pid)
    again = backend.start(other_home)
    assert again.restarted is True
    assert again.pid != first.pid
    assert backend.server_info(again.url, again.keys) is not None


def test_backend_is_warmed_in_the_background(other_home):
    started = backend.start(other_home)
    deadline_info = None
    for _ in range(600):
        # a busy machine may let a reading time out (None): read again
        deadline_info = backend.server_info(started.url, started.keys) or deadline_info
        if deadline_info and deadline_info["warm"]["done"]:
            break
        import time

        time.sleep(0.1)
    warm = deadline_info["warm"]
    assert warm["done"] is True
    assert warm["errors"] == {}
    assert {"ec2", "ec2_endpoint_services", "iam", "lambda", "dynamodb"} <= set(warm["seconds"])


def test_lambda_runs_without_docker_and_managed_policies_are_loaded(other_home):
    started = backend.start(other_home)
    url = started.url
    config = requests.get(url + "/moto-api/config", auth=http_auth(started.keys), timeout=10).json()
    assert config["lambda"]["use_docker"] is False
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        **started.keys,
    )
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    assert (
        iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "AWSLambdaVPCAccessExecutionRole"
    )


def _kill(pid):
    import signal

    os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    import time

    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


def _ec2(home):
    """An AWS client of the learner's own, on the backend of ``home`` with its keys."""
    import boto3

    running = backend.running(home)
    return boto3.client("ec2", endpoint_url=running.url, region_name="us-east-1", **running.keys)


def _create_vpc(home):
    _ec2(home).create_vpc(CidrBlock="10.9.0.0/16")


def _vpc_cidrs(home):
    return sorted(v["CidrBlock"] for v in _ec2(home).describe_vpcs()["Vpcs"])


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGSTOP"), reason="POSIX job control")
def test_a_busy_server_is_waited_for_not_replaced(other_home):
    import signal
    import threading

    first = backend.start(other_home)
    os.kill(first.pid, signal.SIGSTOP)  # frozen, as on an overloaded machine
    threading.Timer(4.0, os.kill, (first.pid, signal.SIGCONT)).start()
    again = backend.start(other_home)
    assert again.pid == first.pid
    assert again.restarted is False


def test_a_server_whose_lab_home_is_deleted_stops_by_itself(tmp_path):
    import shutil
    import time

    home = tmp_path / "vanishing"
    started = backend.start(home)
    shutil.rmtree(home)
    for _ in range(300):
        if backend.server_info(started.url, started.keys) is None:
            break
        time.sleep(0.1)
    assert backend.server_info(started.url, started.keys) is None
