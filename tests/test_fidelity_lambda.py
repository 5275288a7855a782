"""Fidelity of what the lab says for Lambda and API Gateway (issue 9, points 7, 8 and 9).

7. Error codes: the function form answers a subnet or security group EC2 does not know as Lambda
   does (InvalidParameterValueException, EC2's answer inside, in Lambda's wording), and every
   AWS error code the lab raises or recognises names its source; codes that a botocore service
   model lists are checked against that model.
8. API Gateway's integration timeout: a function that runs past it gets 504 "Endpoint request
   timed out"; a function error or timeout within it gets 502 "Internal server error".
9. Runtimes: one dated table of Lambda's Python runtimes; the form offers the supported ones
   (python3.14 included) and names a deprecated one with its date; the embedded backend
   accepts python3.14.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from botocore.loaders import Loader
from test_invoker import build_lab

from helpers import chapter
from helpers.aws import api, functions
from helpers.core.clients import client
from helpers.core.messages import catalogue
from helpers.views.forms.function import ExecutionRoleForm, FunctionForm

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
UNKNOWN_SUBNET = "subnet-0123456789abcdef0"
UNKNOWN_GROUP = "sg-0123456789abcdef0"


def quiet(_text: str) -> None:
    """Progress lines are not under test here."""


def function_form() -> FunctionForm:
    form = FunctionForm()
    form.progress = quiet
    return form


def function_names() -> list[str]:
    return [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]


@pytest.fixture
def network(fresh_lab):
    """Chapter 01's network and chapter 04's execution role: what the function form needs."""
    chapter("01").catch_up({})
    form = ExecutionRoleForm()
    form.progress = quiet
    assert form.submit().ok


# --- 7. error codes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values, field, answer",
    [
        (
            {"subnets": [UNKNOWN_SUBNET]},
            "subnets",
            "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
            f"EC2 Error Message: The subnet ID '{UNKNOWN_SUBNET}' does not exist",
        ),
        (
            {"security_groups": [UNKNOWN_GROUP]},
            "security_groups",
            "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
            f"EC2 Error Message: The security group '{UNKNOWN_GROUP}' does not exist",
        ),
        (
            {"security_groups": []},
            "security_groups",
            "SubnetIds and SecurityIds must coexist or be both empty list.",
        ),
    ],
)
def test_point7_the_function_form_answers_as_lambda_does(network, values, field, answer):
    """Lambda's CreateFunction wraps EC2's answer in its own InvalidParameterValueException.

    Sources: botocore's Lambda model lists InvalidParameterValueException for CreateFunction
    ("CreateFunction - AWS Lambda" API reference). Lambda's wording "Error occurred while
    DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error Message: The
    security group 'sg-…' does not exist" is quoted from real answers (a Laravel Vapor deploy
    log; aws/aws-lambda-dotnet#60 shows the same form for InvalidGroupId.Malformed). No real
    answer for a missing subnet was found: its text follows the same form with EC2's own message
    "The subnet ID '…' does not exist" (seen in EC2 answers). "SubnetIds and SecurityIds must
    coexist or be both empty list." is Lambda's answer quoted in aws/aws-sdk-js#1293.
    """
    result = function_form().submit(**values)
    assert not result.ok
    refusal = next(p for p in result.errors if p.field == field)
    assert refusal.code == "InvalidParameterValueException"
    assert answer in refusal.message
    assert function_names() == []


def test_point7_lambda_never_answers_with_ec2_codes_for_the_function(network):
    """The VPC is the console's step (Lambda derives it from the subnets), so a VPC that does
    not exist is the lab's own refusal, named by its catalogue key, not EC2's
    InvalidVpcID.NotFound. Source: "CreateFunction - AWS Lambda" (VpcConfig has SubnetIds and
    SecurityGroupIds only)."""
    result = function_form().submit(vpc="vpc-0123456789abcdef0")
    codes = {p.code for p in result.errors}
    assert "functions.vpc_not_found" in codes
    assert not any(code.startswith("Invalid") and "." in code for code in codes), codes


def _modeled_codes(service: str, operation: str | None = None) -> set[str]:
    """The error codes botocore's service model lists, for one operation or the whole service:
    each error shape's wire code (IAM spells them without "Exception")."""
    model = Loader().load_service_model(service, "service-2")
    if operation:
        names = [e["shape"] for e in model["operations"][operation].get("errors", [])]
    else:
        names = [n for n, shape in model["shapes"].items() if shape.get("exception")]
    return {model["shapes"][n].get("error", {}).get("code", n) for n in names}


EC2_CODES_PAGE = 'EC2 API Reference, "Error codes for the Amazon EC2 API"'
# Every AWS error code the lab raises on AWS's behalf or recognises in AWS's answers, with where
# it comes from: ("model", service, operation) is checked against botocore's service model;
# ("page", title) names the AWS page (or the real answer) that lists it.
SOURCES = {
    "InvalidParameterValueException": ("model", "lambda", "CreateFunction"),
    "ResourceConflictException": ("model", "lambda", "CreateFunction"),
    "ResourceNotFoundException": ("model", "lambda", "Invoke"),
    "InvalidSubnetIDException": ("model", "lambda", "Invoke"),
    "EC2AccessDeniedException": ("model", "lambda", "Invoke"),
    "ValidationException": (
        "page",
        '"Common Errors - AWS Lambda" and "Common Errors - Amazon DynamoDB" (ValidationException, '
        "400): the API's own input validation (patterns, ranges, list lengths)",
    ),
    "AccessDeniedException": ("page", '"Common Errors - Amazon DynamoDB" (AccessDeniedException)'),
    "ResourceInUseException": ("model", "dynamodb", "CreateTable"),
    "LimitExceededException": ("model", "dynamodb", "CreateTable"),
    "PolicyNotFoundException": ("model", "dynamodb", "GetResourcePolicy"),
    "BadRequestException": ("model", "apigateway", "CreateRestApi"),
    "NotFoundException": ("model", "apigateway", "GetRestApi"),
    "EntityAlreadyExists": ("model", "iam", "CreateRole"),
    "NoSuchEntity": ("model", "iam", "GetRole"),
    "ConcurrentModification": ("model", "iam", "DeleteRole"),
    "ValidationError": (
        "page",
        '"Common Errors - AWS Identity and Access Management" (ValidationError: the input fails '
        "to satisfy the constraints specified by an AWS service)",
    ),
    "InvalidPolicyDocument": (
        "page",
        "EC2's answer to a bad endpoint policy, \"InvalidPolicyDocument: The Policy Document is "
        'not valid" (quoted in hashicorp/terraform-provider-aws#42291)',
    ),
    **{
        code: ("page", EC2_CODES_PAGE)
        for code in (
            "DependencyViolation",
            "DryRunOperation",
            "DuplicateSubnetsInSameZone",
            "Gateway.NotAttached",
            "IncorrectState",
            "InvalidGroup.NotFound",
            "InvalidIPAddress.InUse",
            "InvalidParameter",
            "InvalidParameterValue",
            "InvalidRouteTableID.NotFound",
            "InvalidServiceName",
            "InvalidSubnetID.NotFound",
            "InvalidVpc.Range",
            "InvalidVpcEndpointId.Malformed",
            "InvalidVpcEndpointId.NotFound",
            "InvalidVpcID.NotFound",
            "MissingParameter",
            "NatGatewayNotFound",
            "RouteAlreadyExists",
            "TagLimitExceeded",
        )
    },
}
# Codes the lab makes up for refusals of its own (no AWS service answers them).
LAB_OWN = {
    "": "a policy the lab cannot evaluate (reachability)",
    "Task timed out": "the start of Lambda's errorMessage, not an error code",
}


def _codes_in_helpers() -> set[str]:
    """Every error code written in helpers/: LabError(code=…), Problem(field, code, …),
    Failure(kind, code, …), none_if_missing(call, *codes), aws_error_code(…) == code, and the
    *_CODES sets."""
    found = set()
    for path in HELPERS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            candidates = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "LabError":
                    candidates = [k.value for k in node.keywords if k.arg == "code"]
                elif name in ("Problem", "Failure"):
                    candidates = node.args[1:2]
                elif name == "none_if_missing":
                    candidates = node.args[1:]
            elif isinstance(node, ast.Compare) and getattr(node.left, "func", None):
                if getattr(node.left.func, "id", "") == "aws_error_code":
                    candidates = node.comparators
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", "").endswith("_CODES") for target in node.targets
            ):
                candidates = list(ast.walk(node.value))
            found |= {
                c.value
                for c in candidates
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return found


def test_point7_every_aws_code_in_the_lab_names_its_source():
    """A code that is neither a catalogue key, an AWS code with its source, nor a code the lab
    declares its own, is a code nobody checked."""
    keys = set(catalogue())
    unsourced = _codes_in_helpers() - keys - set(SOURCES) - set(LAB_OWN)
    assert not unsourced, f"add each to SOURCES with the AWS page it comes from: {unsourced}"


@pytest.mark.parametrize("code", sorted(SOURCES))
def test_point7_each_code_is_the_one_its_source_lists(code):
    """For codes from botocore's service models (the installed botocore's service-2.json), the
    operation named lists the code; the others name their AWS page."""
    source = SOURCES[code]
    if source[0] == "model":
        _, service, operation = source
        assert code in _modeled_codes(service, operation), (service, operation)
        if service == "iam":  # IAM's query protocol drops "Exception" from its wire codes
            assert not code.endswith("Exception")
    else:
        assert source[0] == "page" and source[1]
        # Not a code of these JSON services under another spelling.
        for service in ("lambda", "dynamodb", "apigateway", "iam"):
            if code not in ("ValidationException", "AccessDeniedException", "ValidationError"):
                assert code not in _modeled_codes(service)


def test_point7_codes_the_lab_no_longer_uses():
    """Fixed codes stay fixed: IAM says ConcurrentModification (botocore's IAM model), EC2's
    not-found codes never come from Lambda's function form, and a variable name that breaks
    Lambda's pattern [a-zA-Z]([a-zA-Z0-9_])+ is the API's ValidationException ("Common Errors -
    AWS Lambda"; botocore's Lambda model gives the pattern)."""
    assert "ConcurrentModificationException" not in _modeled_codes("iam")
    assert "ConcurrentModification" in _codes_in_helpers()
    assert "ConcurrentModificationException" not in _codes_in_helpers()
    _, problems = functions.parse_environment(
        "1BAD=x\nAWS_DYNAMO_TABLE_NAME_VALUE=note_tbl\nAWS_REGION_VALUE=us-east-1"
    )
    assert [p.code for p in problems] == ["ValidationException"]
    model = Loader().load_service_model("lambda", "service-2")
    assert model["shapes"]["EnvironmentVariableName"]["pattern"] == "[a-zA-Z]([a-zA-Z0-9_])+"


# --- 8. API Gateway's integration timeout ----------------------------------------------------
@pytest.mark.parametrize(
    "timeout, status, body",
    [
        (15, 502, {"message": "Internal server error"}),
        (60, 504, {"message": "Endpoint request timed out"}),
    ],
)
def test_point8_a_function_that_outlasts_api_gateway_gets_504(fresh_lab, timeout, status, body):
    """With no way out of the VPC the handler's first call hangs until the function's timeout.
    Within API Gateway's 29 s the function's timeout is a Lambda error: 502 "Internal server
    error". Past it API Gateway gives up first: 504 "Endpoint request timed out", and the
    function runs on to its own timeout. Nothing waits: the lab reports the timeout at once and
    counts the function's whole timeout as the invocation's duration.

    Sources: "Amazon API Gateway quotas" (integration timeout 50 milliseconds - 29 seconds for
    REST APIs; Regional and private REST APIs may raise it above 29 s, "Amazon API Gateway
    integration timeout limit increase beyond 29 seconds", 2024-06); "Handle Lambda errors in
    API Gateway" (502 for a Lambda error with a proxy integration); the 504 body {"message":
    "Endpoint request timed out"} as API Gateway answers it (quoted in ks888/LambStatus#36).
    """
    lab = build_lab(timeout=timeout)
    chapter("06").catch_up({})
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    answer = api.request("GET")
    assert (answer.status, answer.json) == (status, body)
    assert answer.invocation.timed_out
    assert answer.invocation.duration_ms == timeout * 1000
    assert f"Task timed out after {timeout:.2f} seconds" in answer.problem


def test_point8_the_integrations_own_timeout_decides(fresh_lab):
    """API Gateway waits for the integration's timeoutInMillis when one is set ("Amazon API
    Gateway quotas": 50 ms to 29 s by default), so a 15 s function timeout behind a 10 s
    integration timeout is a 504."""
    lab = build_lab(timeout=15)
    chapter("06").catch_up({})
    described = api.describe()
    integration = described.methods["GET"]["methodIntegration"]
    client("apigateway").put_integration(
        restApiId=described.api_id,
        resourceId=described.resource_id,
        httpMethod="GET",
        type=integration["type"],
        integrationHttpMethod="POST",
        uri=integration["uri"],
        timeoutInMillis=10_000,
    )
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    answer = api.request("GET")
    assert (answer.status, answer.json) == (504, {"message": "Endpoint request timed out"})
    assert "10 seconds" in answer.problem


def test_point8_a_long_timeout_still_answers_when_the_function_is_quick(fresh_lab):
    """Only the time the function really takes counts: a 60 s timeout with a working path is
    a normal answer (the API Gateway quotas page limits waiting, not the function's setting)."""
    build_lab(timeout=60)
    chapter("06").catch_up({})
    answer = api.request("GET")
    assert answer.status == 200
    assert answer.invocation.duration_ms < api.DEFAULT_INTEGRATION_TIMEOUT_MS


# --- 9. runtimes -------------------------------------------------------------------------------
TABLE_DAY = date(2026, 12, 6)


def test_point9_one_dated_table_of_python_runtimes():
    """Source: the "Lambda runtimes" page of the Lambda Developer Guide (python3.14 and
    python3.13 deprecated 2029-06-30, python3.12 2028-10-31, python3.11 and python3.10
    2026-06-30 with Amazon Linux 2, python3.9 2025-12-15), read on 2026-12-06."""
    assert functions.RUNTIME_TABLE_DATE == TABLE_DAY
    assert functions.supported_runtimes(TABLE_DAY) == ["python3.14", "python3.13", "python3.12"]
    deprecated = [r for r in functions.PYTHON_RUNTIMES if functions.is_deprecated(r, TABLE_DAY)]
    assert deprecated == ["python3.11", "python3.10", "python3.9"]
    assert functions.runtime_deprecation("python3.11") == date(2026, 6, 30)
    assert functions.runtime_deprecation("python3.9") == date(2025, 12, 15)
    # Every runtime of the table is one Lambda's API knows (botocore's Runtime enum).
    assert set(functions.PYTHON_RUNTIMES) <= functions.lambda_runtime_identifiers()


def test_point9_the_form_offers_supported_runtimes_and_names_a_deprecated_one(network):
    """As the console: a deprecated runtime is not offered for new functions (AWS's end of
    support notice for Python 3.8, quoted in aws-solutions/aws-control-tower-customizations#193:
    "Python 3.8 will no longer be available in the AWS Console, although you can still create
    and update functions that use Python 3.8 via AWS CloudFormation, the AWS CLI…"; "Runtime
    deprecation" page: no more security patches). Asked for anyway, the form names it with its
    date and the newest runtime; a value Lambda does not know at all is the API's
    ValidationException (it is not in botocore's Runtime enum)."""
    form = function_form()
    offered = next(f for f in form.fields if f.name == "runtime").options
    assert offered == functions.supported_runtimes()
    assert "python3.14" in offered and "python3.11" not in offered
    result = form.submit(runtime="python3.11")
    (refusal,) = [p for p in result.errors if p.field == "runtime"]
    assert refusal.code == "functions.runtime_deprecated"
    assert "2026-06-30" in refusal.message and "python3.14" in refusal.message
    unknown = function_form().submit(runtime="python9")
    assert [p.code for p in unknown.errors if p.field == "runtime"] == ["ValidationException"]
    assert function_names() == []


def test_point9_the_embedded_backend_creates_a_python314_function(network):
    """The embedded backend (moto) stores any runtime string; the form creates the function
    with python3.14 and Lambda's configuration says python3.14."""
    result = function_form().submit(runtime="python3.14")
    assert result.ok, result.problems
    assert result.resource["Runtime"] == "python3.14"
    found = client("lambda").get_function_configuration(FunctionName="note-app")
    assert found["Runtime"] == "python3.14"
    checks = {c.what: c.ok for c in functions.check_chapter()}
    assert all(checks.values()), checks
