"""Settings pick the backend; clients never send a learner's real credentials to the wrong place;
AWS's answers keep their code, and every module reads "not found" the same way.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers.core import backend, clients, settings
from helpers.core.errors import LabError, none_if_missing


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_HOME", str(tmp_path))
    for name in ("LAB_BACKEND", "LAB_REGION", "LAB_LANG", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    clients._clients.clear()
    yield monkeypatch
    clients._clients.clear()


@pytest.mark.nobackend
def test_default_is_the_embedded_backend_in_us_east_1(env):
    current = settings.current()
    assert (current.backend, current.region, current.language) == ("embedded", "us-east-1", "en")
    assert not current.is_real_aws


@pytest.mark.nobackend
def test_settings_file_is_read_and_environment_wins(env, tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"region": "eu-west-1", "language": "vi"}))
    assert settings.current().region == "eu-west-1"
    assert settings.current().language == "vi"
    env.setenv("LAB_REGION", "ap-southeast-1")
    assert settings.current().region == "ap-southeast-1"


@pytest.mark.nobackend
def test_real_aws_only_when_named(env):
    env.setenv("AWS_ACCESS_KEY_ID", "AKIA_LEARNERS_OWN_KEY")
    assert settings.current().backend == "embedded"
    env.setenv("LAB_BACKEND", "aws")
    assert settings.current().is_real_aws


@pytest.mark.nobackend
def test_unknown_backend_is_refused_in_words(env):
    env.setenv("LAB_BACKEND", "prod")
    with pytest.raises(LabError) as refused:
        settings.current()
    assert "prod" in refused.value.message and "embedded" in refused.value.message


@pytest.mark.nobackend
def test_endpoint_backend_needs_a_url(env):
    env.setenv("LAB_BACKEND", "endpoint")
    with pytest.raises(LabError) as refused:
        settings.current()
    assert refused.value.code == "settings.endpoint_missing"
    env.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert settings.current().endpoint_url == "http://localhost:4566"


def test_embedded_clients_use_the_backends_own_keys_not_the_learners(env, lab_home):
    """The learner's own AWS keys and endpoint are ignored: the lab signs with the keys its
    backend made (never a real-looking AKIA key id)."""
    env.setenv("LAB_HOME", str(lab_home))
    env.setenv("AWS_ACCESS_KEY_ID", "AKIA_LEARNERS_OWN_KEY")
    env.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    env.setenv("AWS_ENDPOINT_URL", "http://somewhere-else.invalid")
    ec2 = clients.client("ec2")
    credentials = ec2._request_signer._credentials
    keys = backend.running(lab_home).keys
    assert credentials.access_key == keys["aws_access_key_id"]
    assert credentials.access_key.startswith("LAB")
    assert credentials.secret_key == keys["aws_secret_access_key"] != "real-secret"
    assert ec2.meta.endpoint_url.startswith("http://127.0.0.1:")
    assert ec2.meta.config.retries["mode"] == "standard"


@pytest.mark.nobackend
def test_endpoint_clients_go_to_the_configured_url_in_the_configured_region(env):
    env.setenv("LAB_BACKEND", "endpoint")
    env.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    env.setenv("LAB_REGION", "ap-southeast-1")
    ec2 = clients.client("ec2")
    assert ec2.meta.endpoint_url == "http://localhost:4566"
    assert ec2.meta.region_name == "ap-southeast-1"


@pytest.mark.nobackend
def test_unreachable_endpoint_is_one_clear_sentence(env):
    env.setenv("LAB_BACKEND", "endpoint")
    env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    env.setenv("AWS_ACCESS_KEY_ID", "x")
    env.setenv("AWS_SECRET_ACCESS_KEY", "y")
    with pytest.raises(LabError) as failed, clients.friendly_errors():
        clients.client("ec2").describe_vpcs()
    assert failed.value.code == "backend.unreachable"
    assert "http://127.0.0.1:9" in failed.value.message


def test_aws_errors_keep_their_code(fresh_lab):
    with pytest.raises(LabError) as failed, clients.friendly_errors():
        clients.client("ec2").describe_vpcs(VpcIds=["vpc-00000000000000000"])
    assert failed.value.code == "InvalidVpcID.NotFound"


def _answering(code: str):
    def call():
        raise ClientError({"Error": {"Code": code, "Message": code}}, "Describe")

    return call


@pytest.mark.nobackend
@pytest.mark.parametrize(
    "code",
    [
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NotFoundException",
        "NatGatewayNotFound",
        "InvalidVpcEndpointId.NotFound",
    ],
)
def test_not_found_answers_are_none(code):
    assert none_if_missing(_answering(code)) is None


@pytest.mark.nobackend
def test_other_answers_and_codes_not_named_are_raised():
    assert none_if_missing(lambda: {"Table": {}}) == {"Table": {}}
    assert none_if_missing(_answering("Bad.Malformed"), "Bad.NotFound", "Bad.Malformed") is None
    for code, named in [("AccessDenied", ()), ("NoSuchEntity", ("ResourceNotFoundException",))]:
        with pytest.raises(ClientError):
            none_if_missing(_answering(code), *named)
