"""Only the learner gets in (issue 15): every backend request must carry the backend's keys.

The embedded backend makes a random key pair when it starts and keeps it in the learner's
state file (0600, in a 0700 lab home); AWS calls must be signed with it (Signature Version 4,
recomputed by the backend), the lab's own paths and moto's ``/moto-api/`` must carry it as
HTTP Basic credentials. Anything else gets HTTP 403 with a body saying why. A second user of
the same machine who knows the port is such "anything else".

On a class backend each learner has a key of their own, derived from the instructor's, and
the key alone decides the account: the ``x-moto-account-id`` header a learner sends is
overwritten.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.core import backend, clients, settings
from helpers.core.backend_process import (
    ACCOUNT_HEADER,
    REFUSED_CODE,
    REFUSED_HEADER,
    Gate,
    http_auth,
    new_owner_keys,
)
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.server_proxy import with_keys

REAL_ACCESS_KEY = re.compile(r"AKIA[A-Z0-9]{16}")
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def aws_client(service: str, url: str, keys: dict, account: str | None = None):
    """An AWS client someone builds by hand; ``account`` names one in moto's header."""
    made = boto3.client(service, endpoint_url=url, region_name="us-east-1", config=NO_RETRY, **keys)
    if account:
        made.meta.events.register(
            "before-sign", lambda request, **_: request.headers.__setitem__(ACCOUNT_HEADER, account)
        )
    return made


def refused(response: requests.Response) -> bool:
    return response.status_code == 403 and response.headers.get(REFUSED_HEADER) == "1"


# --- the embedded backend -----------------------------------------------------------------------


def test_a_second_user_who_knows_the_port_gets_403_everywhere(fresh_lab):
    """Another user of the machine (another home, keys of their own, the learner's port):
    403 on an AWS call, on moto's data.json, on moto's reset (and nothing is reset), on the
    lab's deployed-code path and its info path; the learner's lab works on throughout."""
    mine = backend.running(fresh_lab)
    vpc = clients.client("ec2").create_vpc(CidrBlock="10.15.0.0/16")["Vpc"]["VpcId"]
    intruder = new_owner_keys()  # what a second user's own backend would have made

    for keys in (intruder, {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}):
        with pytest.raises(ClientError) as call:
            aws_client("ec2", mine.url, keys).describe_vpcs()
        assert call.value.response["Error"]["Code"] == REFUSED_CODE
        assert call.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the learner's key id with a secret guessed wrong: the signature is checked, not the id
    forged = {**intruder, "aws_access_key_id": mine.keys["aws_access_key_id"]}
    with pytest.raises(ClientError) as forged_call:
        aws_client("dynamodb", mine.url, forged).list_tables()
    assert forged_call.value.response["Error"]["Code"] == REFUSED_CODE

    for method, path in (
        ("GET", "/moto-api/data.json"),
        ("POST", "/moto-api/reset"),
        ("GET", "/lab-backend/lambda-code?region=us-east-1&function=anything"),
        ("GET", "/lab-backend/info"),
    ):
        for auth in (None, http_auth(intruder), http_auth(forged)):
            answer = requests.request(method, mine.url + path, auth=auth, timeout=30)
            assert refused(answer), (method, path, answer.status_code)
            assert "serves only the learner who started it" in answer.text

    assert clients.client("ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc
    data = requests.get(mine.url + "/moto-api/data.json", auth=http_auth(mine.keys), timeout=30)
    assert data.status_code == 200 and vpc in data.text


def test_the_keys_live_in_a_private_state_file_and_look_like_no_real_key(lab_home):
    """The state file is 0600 and the lab home 0700; the key id starts LAB and never
    matches an AWS access key id (IAM User Guide, "Manage access keys for IAM users":
    access key ids are "AKIA" and 16 more letters or digits); the keys are never in a repr, in
    ``backend status`` or in the backend's log."""
    running = backend.running(lab_home)
    assert stat.S_IMODE(backend.state_file(lab_home).stat().st_mode) == 0o600
    assert stat.S_IMODE(lab_home.stat().st_mode) == 0o700
    for keys in [running.keys] + [new_owner_keys() for _ in range(200)]:
        assert keys["aws_access_key_id"].startswith("LAB")
        assert not REAL_ACCESS_KEY.search(json.dumps(keys))
    secret = running.keys["aws_secret_access_key"]
    assert secret not in repr(running)
    status = subprocess.run(
        [sys.executable, "-m", "helpers", "backend", "status", "--json"],
        env={**os.environ, "LAB_HOME": str(lab_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0 and secret not in status.stdout + status.stderr
    assert secret not in backend.log_file(lab_home).read_text(errors="replace")


@pytest.mark.nobackend
def test_a_new_lab_home_is_made_private(tmp_path, monkeypatch):
    """Whatever writes the lab home first (here the settings file) makes it 0700."""
    monkeypatch.setenv("LAB_HOME", str(tmp_path / "new-home"))
    settings.save(language="en")
    assert stat.S_IMODE((tmp_path / "new-home").stat().st_mode) == 0o700


@pytest.mark.nobackend
@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_lab_home_or_state_file_others_can_open_is_refused(tmp_path, monkeypatch, language):
    """A lab home others can read (0755) or a state file others can read (0644): the lab
    starts and reads nothing, and says which path and the chmod that fixes it."""
    monkeypatch.setenv("LAB_LANG", language)
    home = tmp_path / "shared-home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    with pytest.raises(LabError) as open_home:
        backend.start(home)
    assert open_home.value.key == "backend.not_private"
    assert f"chmod 700 {home}" in open_home.value.message and "755" in open_home.value.message
    assert not backend.state_file(home).exists()

    home.chmod(0o700)
    backend.state_file(home).write_text("{}")
    backend.state_file(home).chmod(0o644)
    with pytest.raises(LabError) as open_file:
        backend.running(home)
    assert f"chmod 600 {backend.state_file(home)}" in open_file.value.message
    assert open_file.value.message == t(
        "backend.not_private", path=str(backend.state_file(home)), mode="644", wanted="600"
    )


# --- the learner's own tools -------------------------------------------------------------------


def test_the_aws_cli_given_backend_env_lists_the_learners_vpcs(fresh_lab, tmp_path):
    """``python -m helpers backend env`` prints the backend's URL, keys and region as shell
    variables; the AWS CLI given them lists the learner's VPCs (AWS CLI User Guide,
    "Environment variables to configure the AWS CLI": AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION); without them it is refused."""
    vpc = clients.client("ec2").create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    printed = subprocess.run(
        [sys.executable, "-m", "helpers", "backend", "env"],
        env={**os.environ, "LAB_HOME": str(fresh_lab)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    variables = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in printed.stdout.splitlines()
    )
    assert set(variables) == {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    }
    assert variables["AWS_ACCESS_KEY_ID"] == backend.running(fresh_lab).keys["aws_access_key_id"]
    aws = Path(sys.executable).with_name("aws")
    bare = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "LAB_"))
    }
    bare.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    command = [str(aws), "ec2", "describe-vpcs", "--output", "json"]
    listed = subprocess.run(
        command, env={**bare, **variables}, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert vpc in {found["VpcId"] for found in json.loads(listed.stdout)["Vpcs"]}

    stranger = {**variables, **{k.upper(): v for k, v in new_owner_keys().items()}}
    denied = subprocess.run(
        command, env={**bare, **stranger}, capture_output=True, text=True, timeout=120
    )
    assert denied.returncode != 0 and REFUSED_CODE in denied.stderr


def test_the_relay_adds_the_keys_the_browser_never_holds():
    """The dashboard's relay replaces whatever Authorization the browser sent with the
    backend's keys and ends the connection after one request."""
    keys = new_owner_keys()
    head = (
        b"GET /moto-api/data.json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jupyter\r\n"
        b"Connection: keep-alive\r\n\r\n"
    )
    lines = with_keys(head, keys).split(b"\r\n")
    assert lines[0] == b"GET /moto-api/data.json HTTP/1.1" and lines[-2:] == [b"", b""]
    authorization = [line for line in lines if line.lower().startswith(b"authorization")]
    assert len(authorization) == 1 and b"Bearer" not in authorization[0]
    environ = {"HTTP_AUTHORIZATION": authorization[0].split(b": ", 1)[1].decode()}
    assert Gate(keys, class_backend=False).caller(environ) is not None
    assert [line for line in lines if line.lower().startswith(b"connection")] == [
        b"Connection: close"
    ]


# --- class mode ---------------------------------------------------------------------------------


@pytest.fixture
def class_backend(tmp_path):
    home = tmp_path / "class"
    running = backend.start(home, "us-east-1", class_port=0)
    yield running, home
    backend.stop(home)


def test_a_learner_cannot_reach_another_account_by_naming_it(class_backend):
    """Learner B, with B's own key and A's account id in moto's account header, sees none of
    A's resources and cannot change them (Amazon EC2 API Reference, error codes:
    "InvalidVpcID.NotFound: The specified VPC does not exist"); B's key with A's key id is
    refused; moto's API (which sees and resets every account) is the instructor's only; the
    instructor's key reads both accounts."""
    running, home = class_backend
    a_keys = backend.class_learner_keys(home, "alice")
    b_keys = backend.class_learner_keys(home, "bob")
    a_account = settings.learner_account_id("alice")
    b_account = settings.learner_account_id("bob")
    vpc_of_a = aws_client("ec2", running.url, a_keys).create_vpc(CidrBlock="10.21.0.0/16")["Vpc"]
    assert vpc_of_a["OwnerId"] == a_account
    vpc_of_b = aws_client("ec2", running.url, b_keys).create_vpc(CidrBlock="10.22.0.0/16")["Vpc"]

    b_as_a = aws_client("ec2", running.url, b_keys, account=a_account)
    assert vpc_of_a["VpcId"] not in {v["VpcId"] for v in b_as_a.describe_vpcs()["Vpcs"]}
    for attempt in (
        lambda: b_as_a.describe_vpcs(VpcIds=[vpc_of_a["VpcId"]]),
        lambda: b_as_a.delete_vpc(VpcId=vpc_of_a["VpcId"]),
        lambda: b_as_a.create_tags(
            Resources=[vpc_of_a["VpcId"]], Tags=[{"Key": "k", "Value": "v"}]
        ),
    ):
        with pytest.raises(ClientError) as unknown:
            attempt()
        assert unknown.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    identity = aws_client("sts", running.url, b_keys, account=a_account).get_caller_identity()
    assert identity["Account"] == b_account

    b_with_a_id = {**b_keys, "aws_access_key_id": a_keys["aws_access_key_id"]}
    with pytest.raises(ClientError) as forged:
        aws_client("ec2", running.url, b_with_a_id).describe_vpcs()
    assert forged.value.response["Error"]["Code"] == REFUSED_CODE
    for method, path in (("GET", "/moto-api/data.json"), ("POST", "/moto-api/reset")):
        answer = requests.request(method, running.url + path, auth=http_auth(b_keys), timeout=30)
        assert refused(answer) and "instructor" in answer.text
    info = requests.get(running.url + "/lab-backend/info", auth=http_auth(b_keys), timeout=30)
    assert info.status_code == 200 and "accounts" not in info.json()  # no one else's names

    instructor = running.keys
    for account, vpc in ((a_account, vpc_of_a), (b_account, vpc_of_b)):
        seen = aws_client("ec2", running.url, instructor, account=account).describe_vpcs(
            VpcIds=[vpc["VpcId"]]
        )
        assert seen["Vpcs"][0]["OwnerId"] == account
    a_vpcs = aws_client("ec2", running.url, a_keys).describe_vpcs(VpcIds=[vpc_of_a["VpcId"]])
    assert a_vpcs["Vpcs"][0].get("Tags", []) == []  # B's create_tags changed nothing


def test_a_learners_lab_with_a_wrong_key_says_so(class_backend, tmp_path, monkeypatch):
    """A learner whose LAB_CLASS_SECRET is not theirs gets one sentence naming the variable
    and the instructor's command, no traceback; the right key works."""
    running, home = class_backend
    monkeypatch.setenv("LAB_BACKEND", "class")
    monkeypatch.setenv("LAB_CLASS_URL", running.url)
    monkeypatch.setenv("LAB_HOME", str(tmp_path / "carol"))
    monkeypatch.setenv("LAB_LEARNER", "carol")
    monkeypatch.setenv(
        "LAB_CLASS_SECRET", backend.class_learner_keys(home, "dave")["aws_secret_access_key"]
    )
    with pytest.raises(LabError) as wrong, clients.friendly_errors():
        clients.client("ec2").describe_vpcs()
    assert wrong.value.key == "backend.class_refused"
    assert "LAB_CLASS_SECRET" in wrong.value.message and "carol" in wrong.value.message
    monkeypatch.setenv(
        "LAB_CLASS_SECRET", backend.class_learner_keys(home, "carol")["aws_secret_access_key"]
    )
    assert clients.client("sts").get_caller_identity()["Account"] == (
        settings.learner_account_id("carol")
    )


def test_class_backend_learner_prints_each_learners_settings(class_backend):
    """``class-backend learner NAME…`` prints the variables a hub puts in each learner's
    environment; a restarted class backend keeps the same keys (the learners' still work)."""
    running, home = class_backend
    printed = subprocess.run(
        [sys.executable, "-m", "helpers", "class-backend", "learner", "alice", "bình"]
        + ["--home", str(home), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    learners = json.loads(printed.stdout)
    assert learners["bình"] == {
        "LAB_BACKEND": "class",
        "LAB_CLASS_URL": running.url,
        "LAB_LEARNER": "bình",
        "LAB_CLASS_SECRET": backend.class_learner_keys(home, "bình")["aws_secret_access_key"],
    }
    assert stat.S_IMODE(backend.class_keys_file(home).stat().st_mode) == 0o600
    backend.stop(home)
    again = backend.start(home, "us-east-1", class_port=0)
    assert again.keys == running.keys


# --- what the check costs ------------------------------------------------------------------------


def test_the_check_costs_well_under_a_millisecond_per_call(lab_home):
    """The gate's work per AWS call (recomputing the SigV4 signature), measured on real
    signed requests: the median of 2000 checks, printed with the median of 300 whole
    DescribeVpcs calls (the figure the issue asks for is in the report)."""
    running = backend.running(lab_home)
    gate = Gate(running.keys, class_backend=False)
    captured = {}

    def keep(request, **_):  # as sent: signing leaves some values as bytes
        for name, value in request.headers.items():
            captured[name] = value.decode() if isinstance(value, bytes) else value
        captured["body"] = request.body

    ec2 = aws_client("ec2", running.url, running.keys)
    ec2.meta.events.register("before-send", keep)
    ec2.describe_vpcs()
    port = running.url.rsplit(":", 1)[1]
    environ_base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "REQUEST_URI": "/",
        "CONTENT_TYPE": captured["Content-Type"],
        "HTTP_HOST": f"127.0.0.1:{port}",
        "HTTP_X_AMZ_DATE": captured["X-Amz-Date"],
        "HTTP_AUTHORIZATION": captured["Authorization"],
    }
    body = captured["body"] if isinstance(captured["body"], bytes) else captured["body"].encode()
    timings = []
    for _ in range(2000):
        environ = {**environ_base, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        began = time.perf_counter()
        assert gate.caller(environ) is not None
        timings.append(time.perf_counter() - began)
    check = sorted(timings)[len(timings) // 2]
    calls = []
    for _ in range(300):
        began = time.perf_counter()
        ec2.describe_vpcs()
        calls.append(time.perf_counter() - began)
    call = sorted(calls)[len(calls) // 2]
    print(f"\nmedian SigV4 check {check * 1e6:.0f} µs; median DescribeVpcs {call * 1e3:.2f} ms")
    assert check < 0.001


def test_a_refusal_by_the_embedded_backend_names_its_address(fresh_lab):
    """The embedded backend's address is not in the settings (it is chosen when it starts):
    the refusal names the one in its state file, where a learner can see which server said no."""
    running = backend.running(fresh_lab)
    refusal = ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "refused"},
            "ResponseMetadata": {"HTTPHeaders": {REFUSED_HEADER: "1"}},
        },
        "DescribeVpcs",
    )
    with pytest.raises(LabError) as refused, clients.friendly_errors():
        raise refusal
    assert refused.value.key == "backend.refused"
    assert running.url in refused.value.message
