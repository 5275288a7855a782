"""AWS's conventions for configuration: the region a learner's AWS configuration names, and a
lab that runs whole on any AWS-compatible endpoint.

1. The region: LAB_REGION, then the lab's settings file, then the learner's AWS configuration
   in the AWS CLI's order (AWS_REGION, AWS_DEFAULT_REGION, the profile's ``region`` in the
   shared config file), then us-east-1; the settings and the status panel say where it came
   from.
2. The code the lab runs for a function is the code Lambda hands back (GetFunction's
   ``Code.Location``), and only when its SHA-256 is the function's CodeSha256.
3. ``LAB_BACKEND=endpoint`` on a plain moto server runs every notebook, in the region that
   AWS_DEFAULT_REGION alone names, and clean-up leaves nothing there.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import requests

from helpers.aws import functions, invoker
from helpers.aws.inventory import inventory
from helpers.core import clients, settings
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.core.status import describe
from helpers.views.status import panel_html
from tests.test_notebook_runs import NOTEBOOKS, ROOT, run_notebook

REGION_VARIABLES = (
    "LAB_REGION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)
AWS_CONFIG = """\
[default]
region = eu-west-3

[profile learner]
region = ap-south-1
"""


@pytest.fixture
def region_env(monkeypatch, tmp_path):
    """No region anywhere (conftest.py sets LAB_REGION for the session): each test names its
    own, in a lab home and AWS config files of its own."""
    for name in REGION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAB_HOME", str(tmp_path / "lab-home"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    return monkeypatch, tmp_path


def _region() -> tuple[str, str, str | None]:
    chosen = settings.current()
    return chosen.region, chosen.region_source, chosen.region_profile


# --- 1. the region -----------------------------------------------------------------------
@pytest.mark.nobackend
def test_the_region_follows_the_lab_then_the_learners_aws_configuration_in_order(region_env):
    """Every step of the order, from the top: each source wins over all those below it, and
    taking it away hands the choice to the next one.

    Sources: AWS CLI User Guide, "Configuring environment variables for the AWS CLI"
    (AWS_REGION "overrides the values in the environment variable AWS_DEFAULT_REGION and the
    profile setting region"; AWS_DEFAULT_REGION overrides the profile's ``region``;
    AWS_CONFIG_FILE and AWS_PROFILE pick the file and the profile); AWS SDKs and Tools
    Reference Guide, "AWS Region" (the ``region`` shared-config setting, AWS_REGION).
    botocore itself ignores AWS_REGION, so the lab reads it before asking botocore.
    """
    monkeypatch, home = region_env
    (home / "aws-config").write_text(AWS_CONFIG)
    (home / "lab-home").mkdir()
    (home / "lab-home" / "settings.json").write_text(json.dumps({"region": "eu-central-1"}))
    monkeypatch.setenv("AWS_PROFILE", "learner")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_REGION", "ca-central-1")
    monkeypatch.setenv("LAB_REGION", "sa-east-1")

    assert _region() == ("sa-east-1", "LAB_REGION", None)
    monkeypatch.delenv("LAB_REGION")
    assert _region() == ("eu-central-1", "settings_file", None)
    (home / "lab-home" / "settings.json").write_text(json.dumps({"language": "en"}))
    assert _region() == ("ca-central-1", "AWS_REGION", None)
    monkeypatch.delenv("AWS_REGION")
    assert _region() == ("ap-southeast-2", "AWS_DEFAULT_REGION", None)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert _region() == ("ap-south-1", "profile", "learner")
    monkeypatch.delenv("AWS_PROFILE")
    assert _region() == ("eu-west-3", "profile", "default")
    (home / "aws-config").unlink()
    assert _region() == ("us-east-1", "default", None)


@pytest.mark.nobackend
def test_a_profile_region_is_read_again_after_an_edit_and_a_missing_profile_is_no_crash(
    region_env,
):
    """The config file is read as botocore reads it, again when it changes; a profile the
    file does not have names no region (AWS CLI: "The config profile (nope) could not be
    found") and the lab falls back to its default rather than failing.

    Source: AWS SDKs and Tools Reference Guide, "AWS Region" (``region`` in the profile of the
    shared config file; AWS_CONFIG_FILE, AWS_PROFILE).
    """
    monkeypatch, home = region_env
    config = home / "aws-config"
    config.write_text("[default]\nregion = ap-southeast-1\n")
    assert _region() == ("ap-southeast-1", "profile", "default")
    config.write_text("[default]\nregion = eu-north-1\n")
    assert _region() == ("eu-north-1", "profile", "default")
    monkeypatch.setenv("AWS_PROFILE", "nope")
    assert _region() == ("us-east-1", "default", None)


@pytest.mark.nobackend
@pytest.mark.parametrize(
    "language, words",
    [("en", "from the region of your AWS profile 'learner'"), ("vi", "hồ sơ (profile) AWS")],
)
def test_the_status_panel_shows_the_region_and_where_it_came_from(region_env, language, words):
    """The status panel names the region and its source, in the learner's language, with the
    config file it was read from.

    Source: AWS SDKs and Tools Reference Guide, "AWS Region" (a profile's ``region`` in the
    shared config file named by AWS_CONFIG_FILE, the profile by AWS_PROFILE).
    """
    monkeypatch, home = region_env
    (home / "aws-config").write_text(AWS_CONFIG)
    monkeypatch.setenv("AWS_PROFILE", "learner")
    monkeypatch.setenv("LAB_LANG", language)
    status = describe(start=False)  # the lab home is new: no backend is started or found
    assert (status["region"], status["region_source"]) == ("ap-south-1", "profile")
    panel = html.unescape(panel_html(status))
    assert "ap-south-1" in panel and words in panel and str(home / "aws-config") in panel
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-1")
    assert "ap-southeast-1 (" + ("from" if language == "en" else "từ") + " AWS_DEFAULT_REGION)" in (
        html.unescape(panel_html(describe(start=False)))
    )


# --- 2. the code the lab runs ------------------------------------------------------------
def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("handler.py", source)
    return buffer.getvalue()


OTHER_CODE = _zip("def lambda_handler(event, context):\n    return 'not the note app'\n")


def test_get_functions_code_location_hands_back_the_deployed_zip(fresh_lab):
    """On the embedded backend GetFunction's ``Code.Location`` downloads the zip deployed to
    the function (moto names an S3 bucket there that it never serves), whose SHA-256 is the
    function's CodeSha256; the lab runs those bytes.

    Source: AWS Lambda API Reference, "GetFunction" ("a link to download the deployment
    package that's valid for 10 minutes") and "FunctionCodeLocation" ("Location: A presigned
    URL that you can use to download the deployment package"); "FunctionConfiguration"
    ("CodeSha256: The SHA256 hash of the function's deployment package").
    """
    role = client("iam").create_role(
        RoleName="code-location-role",
        AssumeRolePolicyDocument=json.dumps(functions.trust_policy()),
    )["Role"]
    client("lambda").create_function(
        FunctionName="code-location",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": OTHER_CODE},
    )
    answer = client("lambda").get_function(FunctionName="code-location")
    downloaded = requests.get(answer["Code"]["Location"], timeout=30)
    assert downloaded.ok and downloaded.content == OTHER_CODE
    assert functions.code_sha256(downloaded.content) == answer["Configuration"]["CodeSha256"]
    package = invoker.deployed_package(
        "code-location", answer["Configuration"], answer["Code"]["Location"]
    )
    assert package == OTHER_CODE


@pytest.fixture
def served_zip(tmp_path):
    """A URL handing back OTHER_CODE, as a presigned S3 URL hands back a deployment package."""
    (tmp_path / "package.zip").write_bytes(OTHER_CODE)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/package.zip"
    server.shutdown()
    server.server_close()


@pytest.mark.nobackend
def test_code_runs_only_when_its_sha256_is_the_functions_codesha256(served_zip):
    """The lab runs a download only when its SHA-256 is the function's CodeSha256; the note
    app the lab deploys is recognised by that same hash with no download; code that cannot
    be downloaded is refused in words (moto's placeholder on AWS's S3 host is never fetched).

    Source: AWS Lambda API Reference, "FunctionConfiguration" ("CodeSha256: The SHA256 hash of
    the function's deployment package") and "GetFunction" (``Code.Location``). The refusal is
    the lab's own (no AWS code: Lambda's CodeVerificationFailedException means a failed
    code-signing check, which this is not).
    """
    other = {"CodeSha256": functions.code_sha256(OTHER_CODE)}
    note_app = {"CodeSha256": functions.code_sha256(functions.deployment_package())}
    assert invoker.deployed_package("f", other, served_zip) == OTHER_CODE
    assert invoker.deployed_package("f", note_app, None) == functions.deployment_package()
    with pytest.raises(LabError) as changed:
        invoker.deployed_package("f", {"CodeSha256": "bm90IHRoaXMgb25l"}, served_zip)
    assert (changed.value.key, changed.value.code) == ("invoker.code_changed",) * 2
    placeholder = "https://awslambda-ap-southeast-1-tasks.s3.ap-southeast-1.amazonaws.com/f-1"
    for location in (placeholder, served_zip + ".missing", None):
        with pytest.raises(LabError) as unavailable:
            invoker.deployed_package("f", other, location)
        assert unavailable.value.key == "invoker.code_unavailable"
        assert "chapter 04" in unavailable.value.message


# --- 3. the whole lab on a plain moto server ---------------------------------------------
PLAIN_MOTO_REGION = "ap-southeast-1"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "plainmototestkey", "AWS_SECRET_ACCESS_KEY": "plainmotosecret"}
SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def plain_moto(tmp_path):
    """``python -m moto.server`` on a free port: moto as anyone runs it, none of the lab's own
    paths. The learner's lab and AWS variables stay out of its environment."""
    port = _free_port()
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "LAB_"))
    }
    environment["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # the role's AWS managed policy
    with open(tmp_path / "moto.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            if requests.get(url + "/moto-api/", timeout=2).ok:
                break
        except requests.RequestException:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "moto did not start"
        time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=30)


def _on_the_server(url: str, service: str, region: str):
    return boto3.session.Session(
        region_name=region,
        aws_access_key_id=FAKE_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_KEYS["AWS_SECRET_ACCESS_KEY"],
    ).client(service, endpoint_url=url)


def _lab_vpcs(url: str, region: str) -> list[str]:
    vpcs = _on_the_server(url, "ec2", region).describe_vpcs(
        Filters=[{"Name": "tag-key", "Values": ["lab"]}]
    )["Vpcs"]
    return [vpc["VpcId"] for vpc in vpcs]


def _functions(url: str, region: str) -> list[str]:
    found = _on_the_server(url, "lambda", region).list_functions()["Functions"]
    return [function["FunctionName"] for function in found]


def _tables(url: str, region: str) -> list[str]:
    return _on_the_server(url, "dynamodb", region).list_tables()["TableNames"]


@pytest.mark.xdist_group("notebook-plain-moto")
def test_every_notebook_runs_on_a_plain_moto_endpoint_in_the_aws_default_region(
    plain_moto, monkeypatch, tmp_path
):
    """LAB_BACKEND=endpoint on a plain moto server (no lab-only path), with no LAB_REGION and
    only AWS_DEFAULT_REGION naming a region: notebooks 00–08 run in order without an error,
    chapter 05's invocations included (the lab runs the note app itself, GetFunction's
    CodeSha256 proving it is the code deployed); the lab's resources are made in
    ap-southeast-1 on that server and nowhere else, and clean-up empties them.

    Sources: AWS CLI User Guide, "Configuring environment variables for the AWS CLI"
    (AWS_DEFAULT_REGION: the Region to send the request to; AWS_ENDPOINT_URL: the endpoint
    used for all service requests); AWS Lambda API Reference, "GetFunction".
    """
    for name in [name for name in os.environ if name.startswith(("AWS_", "LAB_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAB_HOME", str(tmp_path / "lab-home"))
    monkeypatch.setenv("LAB_LANG", "en")
    monkeypatch.setenv("LAB_BACKEND", "endpoint")
    monkeypatch.setenv("AWS_ENDPOINT_URL", plain_moto)
    monkeypatch.setenv("AWS_DEFAULT_REGION", PLAIN_MOTO_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    chosen = settings.current()
    assert (chosen.backend, chosen.region, chosen.region_source) == (
        "endpoint",
        PLAIN_MOTO_REGION,
        "AWS_DEFAULT_REGION",
    )
    clients._clients.clear()
    *building, clean_up = NOTEBOOKS
    try:
        for name in building:
            run_notebook(ROOT / "notebooks" / name)
        assert inventory(), "the notebooks built nothing"
        assert _lab_vpcs(plain_moto, PLAIN_MOTO_REGION)
        assert "note-app" in _functions(plain_moto, PLAIN_MOTO_REGION)
        assert _tables(plain_moto, PLAIN_MOTO_REGION)
        assert not _lab_vpcs(plain_moto, "us-east-1")
        assert not _functions(plain_moto, "us-east-1") and not _tables(plain_moto, "us-east-1")
        run_notebook(ROOT / "notebooks" / clean_up)
        assert inventory() == []
        assert not _lab_vpcs(plain_moto, PLAIN_MOTO_REGION)
        assert not _functions(plain_moto, PLAIN_MOTO_REGION)
        assert not _tables(plain_moto, PLAIN_MOTO_REGION)
    finally:
        clients._clients.clear()
