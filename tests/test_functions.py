"""Chapter 03's local rehearsal of the handler, and chapter 04: the execution role, the
function form's refusals, the function's configuration, idempotency, catch-up and checks.

The lab network (chapter 01) is built once for the module; each test starts without any role,
policy or function and removes what it made.
"""

from __future__ import annotations

import io
import json
import os
import threading
import uuid
import zipfile
from html import escape

import pytest
from test_forms_base import judge_then_click, shown_html

from helpers import chapter
from helpers.aws import functions, networking
from helpers.core import backend, journal
from helpers.core.backend_process import DUMMY_CREDENTIALS
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.tags import from_aws
from helpers.views.forms.base import FormView
from helpers.views.forms.function import ExecutionRoleForm, FunctionForm
from note_app import handler

VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/note_tbl"


def quiet(_text: str) -> None:
    """Progress lines are not under test here."""


@pytest.fixture(scope="module")
def network(empty_lab):
    empty_lab()
    chapter("01").catch_up({})
    return networking.find_lab_network()


def _remove_functions_roles_and_policies():
    lam, iam = client("lambda"), client("iam")
    for function in lam.list_functions()["Functions"]:
        lam.delete_function(FunctionName=function["FunctionName"])
    for role in iam.list_roles()["Roles"]:
        for policy in iam.list_attached_role_policies(RoleName=role["RoleName"])[
            "AttachedPolicies"
        ]:
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=policy["PolicyArn"])
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            iam.delete_role_policy(RoleName=role["RoleName"], PolicyName=name)
        iam.delete_role(RoleName=role["RoleName"])
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        for version in iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=policy["Arn"])


@pytest.fixture
def lab(network):
    """The lab network, and no role, policy, function or journal entry for chapter 04."""
    _remove_functions_roles_and_policies()
    journal.forget()
    yield network
    _remove_functions_roles_and_policies()


@pytest.fixture
def role(lab):
    form = ExecutionRoleForm()
    form.progress = quiet
    result = form.submit()
    assert result.ok, result.problems
    return result.resource


def function_form() -> FunctionForm:
    form = FunctionForm()
    form.progress = quiet
    return form


def function_names() -> list[str]:
    return [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]


def lab_role_names() -> list[str]:
    return [r["RoleName"] for r in client("iam").list_roles()["Roles"]]


def other_vpc() -> tuple[str, str, str]:
    """A VPC that is not the lab's, with a subnet and its default security group."""
    ec2 = client("ec2")
    vpcs = [
        v
        for v in ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["172.31.0.0/16"]}])["Vpcs"]
        if not v.get("IsDefault")
    ]
    vpc_id = vpcs[0]["VpcId"] if vpcs else ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    subnet_id = (
        subnets[0]["SubnetId"]
        if subnets
        else ec2.create_subnet(VpcId=vpc_id, CidrBlock="172.31.0.0/20")["Subnet"]["SubnetId"]
    )
    group = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )
    return vpc_id, subnet_id, group["SecurityGroups"][0]["GroupId"]


# --- the code package ------------------------------------------------------------------------
@pytest.mark.nobackend
def test_deployment_package_is_the_repo_handler_and_reproducible():
    package = functions.deployment_package()
    assert package == functions.deployment_package()
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert archive.namelist() == ["handler.py"]
        assert archive.read("handler.py") == functions.HANDLER_FILE.read_bytes()
    assert functions.HANDLER == "handler.lambda_handler"


# --- the local rehearsal (chapter 03) --------------------------------------------------------
REHEARSAL_EVENTS = [
    {"httpMethod": "POST", "body": json.dumps({"id": "1", "title": "Shopping", "text": "milk"})},
    {"httpMethod": "POST", "body": json.dumps({"id": "2", "title": "Ideas", "text": "VPC lab"})},
    {"httpMethod": "GET"},
    {"httpMethod": "PUT", "pathParameters": {"id": "1"}, "body": json.dumps({"text": "eggs"})},
    {"httpMethod": "DELETE", "queryStringParameters": {"id": "2"}},
    {"action": "get", "id": "1"},
    {"action": "update", "note": {"id": "gone", "text": "x"}},
    {"action": "list"},
    {"httpMethod": "DELETE"},
    {"httpMethod": "POST", "body": "{not json"},
    {"action": "frobnicate"},
    "not an object",
]


@pytest.fixture
def backend_table(lab_home):
    """A table of its own in the test session's backend, removed afterwards."""
    name = f"rehearsal_{uuid.uuid4().hex[:12]}"
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": handler.KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": handler.KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client("dynamodb").delete_table(TableName=name)


def test_rehearsal_answers_as_the_handler_run_in_this_process(backend_table, lab_home, monkeypatch):
    """The same answers as the handler gives when called here, on a fresh table."""
    rehearsed = functions.rehearse(REHEARSAL_EVENTS, backend_table)
    running = backend.start(lab_home)  # the handler, run here, calls it with its keys
    monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", running.keys["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", running.keys["aws_secret_access_key"])
    monkeypatch.setenv(handler.TABLE_NAME_VARIABLE, backend_table)
    monkeypatch.setenv(handler.REGION_VARIABLE, "us-east-1")
    expected = [(event, handler.lambda_handler(event, None)) for event in REHEARSAL_EVENTS]
    assert rehearsed == expected
    statuses = " ".join(str(response["statusCode"]) for _, response in rehearsed)
    assert statuses == "201 201 200 200 200 200 404 200 400 400 400 400"
    assert all(
        event is given for (event, _), given in zip(rehearsed, REHEARSAL_EVENTS, strict=True)
    )


def test_rehearsal_leaves_this_process_as_it_was(backend_table):
    """No mock in this process, even while the rehearsal runs: a call on another thread (a
    button click) still reaches the lab's backend; and no variable of the handler's is left."""
    environment = dict(os.environ)
    rehearsal = threading.Thread(target=functions.rehearse, args=([{"action": "list"}],))
    rehearsal.start()
    seen = []
    while rehearsal.is_alive():
        seen.append(client("dynamodb").list_tables()["TableNames"])
    rehearsal.join()
    seen.append(client("dynamodb").list_tables()["TableNames"])
    assert all(backend_table in names and "note_tbl" not in names for names in seen)
    assert dict(os.environ) == environment
    assert handler.TABLE_NAME_VARIABLE not in os.environ
    assert handler.REGION_VARIABLE not in os.environ


@pytest.mark.nobackend
def test_rehearsal_never_sees_the_learners_aws_set_up(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA_LEARNERS_OWN_KEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "learners-own-secret")
    monkeypatch.setenv("AWS_PROFILE", "learner")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers there
    environment = functions._rehearsal_environment("note_tbl", "us-east-1")
    assert environment["AWS_ACCESS_KEY_ID"] == DUMMY_CREDENTIALS["aws_access_key_id"]
    assert environment["AWS_SECRET_ACCESS_KEY"] == DUMMY_CREDENTIALS["aws_secret_access_key"]
    assert "AWS_PROFILE" not in environment and "AWS_ENDPOINT_URL" not in environment
    ((_, response),) = functions.rehearse([{"action": "list"}])
    assert (response["statusCode"], response["body"]) == (200, "[]")


@pytest.mark.nobackend
def test_rehearsal_failure_in_its_process_is_a_lab_error():
    with pytest.raises(LabError) as refused:
        functions.rehearse([{"action": ["list"]}])  # the handler crashes on an unhashable action
    assert refused.value.code == "functions.rehearsal_failed"
    assert refused.value.message.endswith("TypeError: unhashable type: 'list'")


@pytest.mark.nobackend
def test_rehearsal_that_never_ends_is_a_lab_error(monkeypatch):
    monkeypatch.setattr(functions, "REHEARSAL_START_SECONDS", 0.01)
    with pytest.raises(LabError) as refused:
        functions.rehearse([])
    assert refused.value.code == "functions.rehearsal_timeout"


@pytest.mark.nobackend
def test_rehearsal_refuses_requests_that_are_not_json():
    with pytest.raises(LabError) as refused:
        functions.rehearse([{"action": "add", "note": {"tags": {"a", "b"}}}])
    assert refused.value.code == "functions.rehearsal_not_json"


# --- the execution role ----------------------------------------------------------------------
def test_role_is_trusted_by_lambda_and_has_exactly_the_two_policies(role):
    iam = client("iam")
    document = role["AssumeRolePolicyDocument"]
    assert document["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    policy = functions.find_table_policy()
    attached, inline = functions.role_policies(role["RoleName"])
    assert sorted(attached) == sorted([VPC_ACCESS, policy["Arn"]])
    assert inline == []
    (statement,) = functions.policy_document(policy["Arn"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    ]
    assert statement["Resource"] == TABLE_ARN
    role_tags = from_aws(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])
    policy_tags = from_aws(iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"])
    assert (role_tags["lab:chapter"], role_tags["lab:role"]) == ("04", "execution-role")
    assert (policy_tags["lab:chapter"], policy_tags["lab:role"]) == ("04", "table-policy")


def test_role_twice_makes_one_role_and_one_policy(role):
    again = ExecutionRoleForm().submit()
    assert again.ok and not again.created
    assert lab_role_names() == [role["RoleName"]]
    assert len(client("iam").list_policies(Scope="Local")["Policies"]) == 1


def test_role_for_another_table_gets_a_new_policy_version(role):
    result = ExecutionRoleForm().submit(table_name="other_notes")
    assert result.ok
    policy = functions.find_table_policy()
    assert functions.policy_document(policy["Arn"])["Statement"][0]["Resource"].endswith(
        ":table/other_notes"
    )
    assert len(client("iam").list_policies(Scope="Local")["Policies"]) == 1


def test_role_is_put_back_exactly_after_extra_policies_were_added(role):
    iam = client("iam")
    iam.attach_role_policy(
        RoleName=role["RoleName"], PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
    )
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="deny-all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=VPC_ACCESS)
    assert ExecutionRoleForm().submit().ok
    attached, inline = functions.role_policies(role["RoleName"])
    assert sorted(attached) == sorted([VPC_ACCESS, functions.find_table_policy()["Arn"]])
    assert inline == []


@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"role_name": "bad role name!"}, "role_name", "ValidationError"),
        ({"table_name": "ab"}, "table_name", "ValidationException"),
    ],
)
def test_role_form_refuses_bad_names_and_creates_nothing(lab, values, field, code):
    result = ExecutionRoleForm().submit(**values)
    assert not result.ok
    assert (result.errors[0].field, result.errors[0].code) == (field, code)
    assert lab_role_names() == []


def test_role_form_refuses_a_look_alike_role_that_is_not_the_labs(lab):
    client("iam").create_role(
        RoleName=functions.DEFAULT_ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(functions.trust_policy()),
    )
    result = ExecutionRoleForm().submit()
    assert result.codes == ["EntityAlreadyExists"]
    assert functions.find_lab_role() is None
    assert client("iam").list_policies(Scope="Local")["Policies"] == []


def test_role_form_refuses_renaming_the_labs_role(role):
    result = ExecutionRoleForm().submit(role_name="another-role")
    assert result.codes == ["EntityAlreadyExists"]
    assert lab_role_names() == [role["RoleName"]]


# --- the function ----------------------------------------------------------------------------
def test_function_has_the_forms_configuration(role, lab):
    result = function_form().submit()
    assert result.ok and result.created, result.problems
    configuration = client("lambda").get_function_configuration(FunctionName="note-app")
    default_group = client("ec2").describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [lab.vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    assert configuration["VpcConfig"]["SubnetIds"] == lab.private_subnet_ids
    assert configuration["VpcConfig"]["SecurityGroupIds"] == [default_group]
    assert functions.function_vpc_id(configuration) == lab.vpc_id
    assert configuration["Environment"]["Variables"] == {
        "AWS_DYNAMO_TABLE_NAME_VALUE": "note_tbl",
        "AWS_REGION_VALUE": "us-east-1",
    }
    assert (configuration["Timeout"], configuration["MemorySize"]) == (15, 512)
    assert (configuration["Runtime"], configuration["Handler"]) == (
        "python3.12",
        "handler.lambda_handler",
    )
    assert configuration["Role"] == role["Arn"]
    assert configuration["CodeSha256"] == functions.code_sha256(functions.deployment_package())
    tags = client("lambda").list_tags(Resource=configuration["FunctionArn"])["Tags"]
    assert (tags["lab:chapter"], tags["lab:role"]) == ("04", "function")
    assert functions.find_lab_function()["FunctionArn"] == configuration["FunctionArn"]


def test_function_twice_is_one_function_and_changes_are_applied(role):
    form = function_form()
    assert form.submit().created
    again = function_form().submit()
    assert again.ok and not again.created
    changed = function_form().submit(memory=256, timeout=20)
    assert changed.ok and not changed.created
    assert function_names() == ["note-app"]
    configuration = client("lambda").get_function_configuration(FunctionName="note-app")
    assert (configuration["MemorySize"], configuration["Timeout"]) == (256, 20)


def test_clicking_create_twice_in_the_view_makes_one_function(role):
    view = FormView(FunctionForm())
    first = view.click()
    second = view.click()
    assert first.ok and first.created
    assert second.ok and not second.created
    assert function_names() == ["note-app"]


FUNCTION_REFUSALS = [
    ({"function_name": "note app!"}, "function_name", "ValidationException"),
    ({"runtime": "python2.7"}, "runtime", "functions.bad_runtime"),
    ({"runtime": "python9"}, "runtime", "ValidationException"),
    ({"memory": 100}, "memory", "ValidationException"),
    ({"memory": 20000}, "memory", "ValidationException"),
    ({"timeout": 0}, "timeout", "ValidationException"),
    ({"timeout": 901}, "timeout", "ValidationException"),
    ({"environment": "AWS_REGION_VALUE=us-east-1"}, "environment", "functions.env_missing"),
    (
        {
            "environment": "AWS_DYNAMO_TABLE_NAME_VALUE=note_tbl\nAWS_REGION_VALUE=us-east-1\n"
            "AWS_REGION=us-east-1"
        },
        "environment",
        "InvalidParameterValueException",
    ),
    (
        {"environment": "AWS_DYNAMO_TABLE_NAME_VALUE note_tbl\nAWS_REGION_VALUE=us-east-1"},
        "environment",
        "functions.env_no_equals",
    ),
    (
        {"environment": "AWS_DYNAMO_TABLE_NAME_VALUE=x\nAWS_REGION_VALUE=us-east-1"},
        "environment",
        "ValidationException",
    ),
    ({"subnets": []}, "subnets", "InvalidParameterValueException"),
    (
        {"subnets": ["subnet-0123456789abcdef0"]},
        "subnets",
        "InvalidParameterValueException",
    ),
    ({"security_groups": []}, "security_groups", "InvalidParameterValueException"),
    (
        {"security_groups": ["sg-0123456789abcdef0"]},
        "security_groups",
        "InvalidParameterValueException",
    ),
]


def _refused(result, field, code):
    assert not result.ok
    assert (field, code) in [(p.field, p.code) for p in result.errors], result.problems
    assert function_names() == []


@pytest.mark.parametrize(
    "values, field, code",
    FUNCTION_REFUSALS,
)
def test_function_form_refuses_bad_values_and_creates_nothing(role, values, field, code):
    _refused(function_form().submit(**values), field, code)


def test_function_form_refuses_a_subnet_of_another_vpc(role):
    _, subnet, _ = other_vpc()
    _refused(function_form().submit(subnets=[subnet]), "subnets", "InvalidParameterValueException")


def test_function_form_refuses_a_security_group_of_another_vpc(role):
    _, _, group = other_vpc()
    _refused(
        function_form().submit(security_groups=[group]),
        "security_groups",
        "InvalidParameterValueException",
    )


def test_function_form_refuses_a_vpc_that_does_not_exist(role):
    _refused(function_form().submit(vpc="vpc-0123456789abcdef0"), "vpc", "functions.vpc_not_found")


def test_function_form_needs_the_execution_role_first(lab):
    _refused(function_form().submit(), None, "functions.role_missing")


def test_function_form_refuses_a_look_alike_function(role):
    client("lambda").create_function(
        FunctionName="note-app",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": functions.deployment_package()},
    )
    result = function_form().submit()
    assert result.codes == ["ResourceConflictException"]
    assert functions.find_lab_function() is None


def test_function_form_refuses_renaming_the_labs_function(role):
    assert function_form().submit().ok
    result = function_form().submit(function_name="renamed-app")
    assert result.codes == ["ResourceConflictException"]
    assert function_names() == ["note-app"]


def test_public_subnet_is_a_warning_that_needs_confirming(role, lab):
    """Lambda accepts a public subnet, but the function would never reach DynamoDB there:
    without confirmation nothing is created, with it the function is.

    AWS source: "Configuring a Lambda function to access resources in a VPC" (AWS Lambda
    Developer Guide): "Connecting a function to a public subnet does not give it internet
    access or a public IP address"."""
    refused = function_form().submit(subnets=lab.public_subnet_ids)
    assert not refused.ok and refused.codes == ["functions.public_subnet", "forms.confirm_first"]
    assert function_names() == []
    confirmed = function_form().submit(confirmed=True, subnets=lab.public_subnet_ids)
    assert confirmed.ok and confirmed.created
    assert [p.code for p in confirmed.warnings] == ["functions.public_subnet"]
    assert functions.find_lab_function()["VpcConfig"]["SubnetIds"] == lab.public_subnet_ids


def test_other_region_and_other_table_are_warnings(role):
    result = function_form().submit(
        environment="AWS_DYNAMO_TABLE_NAME_VALUE=notes2\nAWS_REGION_VALUE=eu-west-1"
    )
    assert result.ok
    assert {"functions.env_other_region", "functions.table_not_allowed"} <= {
        p.code for p in result.warnings
    }


# --- catch-up and checks ---------------------------------------------------------------------
def test_ensure_chapter_builds_role_and_function_and_is_idempotent(lab):
    assert "note-app" in chapter("04").catch_up({})
    assert "note-app" in chapter("04").catch_up({})
    assert function_names() == ["note-app"]
    assert lab_role_names() == [functions.DEFAULT_ROLE_NAME]
    assert all(check.ok for check in functions.check_chapter())


def test_ensure_chapter_finds_remembered_subnets_again_by_their_part(lab):
    choices = {
        "function_name": "notes-fn",
        "memory": 256,
        "subnets": ["subnet-gone"],
        "subnet_roles": ["public-subnet"],
        "security_groups": ["sg-gone"],
        "security_group_names": ["default"],
        "vpc": "vpc-gone",
    }
    chapter("04").catch_up(choices)
    configuration = functions.find_lab_function()
    assert configuration["FunctionName"] == "notes-fn"
    assert configuration["MemorySize"] == 256
    assert configuration["VpcConfig"]["SubnetIds"] == lab.public_subnet_ids
    assert journal.choices("04")["subnet_roles"] == ["public-subnet"]


def test_check_chapter_names_a_missing_vpc_access_policy(lab):
    chapter("04").catch_up({})
    role = functions.find_lab_role()
    client("iam").detach_role_policy(RoleName=role["RoleName"], PolicyArn=VPC_ACCESS)
    failed = [check.what for check in functions.check_chapter() if not check.ok]
    assert failed == ["AWSLambdaVPCAccessExecutionRole is attached"]


def test_look_alike_tags_of_another_lab_role_are_not_the_function(role):
    """A function tagged by the lab but with another part's role is not the lab's function."""
    client("lambda").create_function(
        FunctionName="note-app",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": functions.deployment_package()},
        Tags={"lab": "vpc-endpoint-lab", "lab:role": "something-else"},
    )
    assert functions.find_lab_function() is None


# --- judged before the click, and one result ---------------------------------------------------
@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"role_name": "bad role name!"}, "role_name", "ValidationError"),
        ({"table_name": "ab"}, "table_name", "ValidationException"),
    ],
)
def test_role_form_refusals_show_before_the_click_in_the_clicks_words(lab, values, field, code):
    """AWS source: IAM API Reference, CreateRole: RoleName "[\\w+=,.@-]+", 1 to 64
    characters; DynamoDB Developer Guide, "Supported data types and naming rules": table
    names are 3 to 255 characters of a-z, A-Z, 0-9, _, - and ."""
    view = FormView(ExecutionRoleForm())
    judged, result = judge_then_click(view, **values)
    assert [(p.field, p.code) for p in result.errors] == [(field, code)]
    assert "lab-error" in judged and view.button.disabled
    assert lab_role_names() == []


def test_role_form_shows_a_look_alike_role_before_the_click(lab):
    """AWS source: IAM API Reference, CreateRole errors: EntityAlreadyExists, "The request
    was rejected because it attempted to create a resource that already exists"."""
    client("iam").create_role(
        RoleName=functions.DEFAULT_ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(functions.trust_policy()),
    )
    judged, result = judge_then_click(FormView(ExecutionRoleForm()))
    assert result.codes == ["EntityAlreadyExists"] and "lab-error" in judged
    assert functions.find_lab_role() is None


def test_role_form_shows_renaming_the_labs_role_before_the_click(role):
    judged, result = judge_then_click(FormView(ExecutionRoleForm()), role_name="another-role")
    assert result.codes == ["EntityAlreadyExists"] and role["RoleName"] in judged
    assert lab_role_names() == [role["RoleName"]]


def test_role_form_result_is_one_success_box_and_no_heading_twice(lab):
    """After Create role the progress line is replaced by one success box naming the role,
    its trust and its two policies; the policy documents' headings stay above the button
    only (the preview), never repeated under it."""
    view = FormView(ExecutionRoleForm())
    view.click()
    result = shown_html(view)
    role = functions.find_lab_role()
    assert result.count("lab-success") == 1 and "<h4" not in result
    assert t("functions.creating_role", name=role["RoleName"]) not in result
    for text in (role["RoleName"], role["Arn"], "lambda.amazonaws.com", "note_tbl"):
        assert text in result
    assert functions.VPC_ACCESS_POLICY_NAME in result and functions.TABLE_POLICY_NAME in result
    page = view.preview.value + result
    for heading in (
        t("functions.trust_title"),
        t("functions.vpc_access_title", name=functions.VPC_ACCESS_POLICY_NAME),
        t("functions.table_policy_title", name=functions.TABLE_POLICY_NAME),
    ):
        assert page.count(escape(heading)) == 1, heading
    view.click()
    again = shown_html(view)
    assert again.count("lab-success") == 1 and "already existed" in again
    assert lab_role_names() == [role["RoleName"]]


def _typed_in_the_view(values: dict) -> bool:
    """A learner picks runtimes, subnets and groups from lists: unknown ids come only from code."""
    picked = [*values.get("subnets", []), *values.get("security_groups", [])]
    return "runtime" not in values and not any(i.endswith("0123456789abcdef0") for i in picked)


FUNCTION_REFUSALS_IN_THE_VIEW = [
    case for case in FUNCTION_REFUSALS if _typed_in_the_view(case[0])
] + [({"subnets": [], "security_groups": []}, "subnets", "functions.subnet_none")]


@pytest.mark.parametrize("values, field, code", FUNCTION_REFUSALS_IN_THE_VIEW)
def test_function_form_refusals_show_before_the_click_in_the_clicks_words(
    role, values, field, code
):
    """Each refusal a learner can type is in the judgement before any click, word for word
    the click's, and the click creates nothing.

    AWS source: Lambda API Reference, CreateFunction: MemorySize 128-10240, Timeout "The
    maximum allowed value is 900 seconds", and "Lambda reserves a set of environment
    variable keys" ("Defined runtime environment variables", Lambda Developer Guide);
    VpcConfig needs subnets and security groups together."""
    view = FormView(function_form())
    judged, result = judge_then_click(view, **values)
    assert (field, code) in [(p.field, p.code) for p in result.errors], result.problems
    assert "lab-error" in judged and view.button.disabled
    assert function_names() == []


def test_function_form_shows_a_missing_role_before_the_click(lab):
    judged, result = judge_then_click(FormView(function_form()))
    assert result.codes == ["functions.role_missing"]
    assert escape(t("functions.role_missing")) in judged
    assert function_names() == []


def test_function_form_shows_renaming_the_labs_function_before_the_click(role):
    assert function_form().submit().ok
    judged, result = judge_then_click(FormView(function_form()), function_name="renamed-app")
    assert result.codes == ["ResourceConflictException"] and "note-app" in judged
    assert function_names() == ["note-app"]


def test_function_form_warnings_show_before_the_click_and_the_click_creates(role):
    """AWS source: "Amazon API Gateway quotas" (API Gateway Developer Guide): integration
    timeout 50 milliseconds to 29 seconds by default for REST APIs (raisable for Regional
    and private REST APIs since June 2024, not by the lab)."""
    judged, result = judge_then_click(
        FormView(function_form()),
        timeout=60,
        environment="AWS_DYNAMO_TABLE_NAME_VALUE=notes2\nAWS_REGION_VALUE=eu-west-1",
    )
    assert {p.code for p in result.warnings} == {
        "functions.timeout_over_api",
        "functions.env_other_region",
        "functions.table_not_allowed",
    }
    assert "lab-warning" in judged and "lab-error" not in judged
    assert result.ok and function_names() == ["note-app"]


def test_function_form_public_subnet_blocks_the_click_until_confirmed(role, lab):
    """The warning is in the judgement before the click; the button waits, offering
    "Create function anyway" behind the confirmation; a click without it creates nothing,
    a confirmed click creates the function in the public subnet.

    AWS source: "Configuring a Lambda function to access resources in a VPC" (AWS Lambda
    Developer Guide): "Connecting a function to a public subnet does not give it internet
    access or a public IP address"."""
    view = FormView(function_form())
    view.set(subnets=lab.public_subnet_ids)
    warning = t("functions.public_subnet", subnet=lab.public_subnet_ids[0])
    assert "lab-warning" in view.judgement.value and escape(warning) in view.judgement.value
    assert view.confirm.layout.display is None and view.button.disabled
    assert view.button.description == t(
        "forms.anyway", action="Create function", action_lower="create function"
    )
    judged, refused = judge_then_click(view)
    assert not refused.ok and refused.codes == ["functions.public_subnet", "forms.confirm_first"]
    assert function_names() == []
    created = view.click(confirmed=True)
    assert created.ok and created.created
    assert functions.find_lab_function()["VpcConfig"]["SubnetIds"] == lab.public_subnet_ids


def test_function_form_result_is_one_success_box(role, lab):
    """After Create function: one success box saying what was made (the whole configuration
    is the chapter's show(), under its own heading); a second click says it was reused."""
    view = FormView(function_form())
    view.click()
    result = shown_html(view)
    assert result.count("lab-success") == 1 and "<table" not in result
    assert "Created the Lambda function note-app" in result
    assert lab.private_subnet_ids[0] in result and "Active" in result
    assert escape(t("functions.function_caption")) in chapter("04").show().html
    view.click()
    again = shown_html(view)
    assert again.count("lab-success") == 1 and "already existed" in again
    assert function_names() == ["note-app"]


def test_what_if_shows_a_public_subnet_as_the_form_would_and_creates_nothing(role, lab):
    """Chapter 04's "what if" cell says what the form's judgement says, in the same boxes
    (a warning that needs confirming reads as a warning), and creates nothing.

    AWS source: "Configuring a Lambda function to access resources in a VPC" (AWS Lambda
    Developer Guide): "Connecting a function to a public subnet does not give it internet
    access or a public IP address"."""
    html = chapter("04").what_if(subnets=lab.public_subnet_ids).html
    warning = t("functions.public_subnet", subnet=lab.public_subnet_ids[0])
    assert "lab-warning" in html and escape(warning) in html
    assert escape(t("functions.what_if_nothing")) in html
    assert function_names() == []


def test_what_if_about_other_settings_judges_the_whole_form(role, lab):
    """A what-if that is not about the network alone goes through every check of the form:
    a timeout over API Gateway's 29 s warns ("Amazon API Gateway quotas": "Maximum integration
    timeout ... 29 seconds"), a name Lambda refuses gets ValidationException (CreateFunction's
    FunctionName pattern), and nothing is created."""
    html = chapter("04").what_if(timeout=120, function_name="note app!").html
    assert escape(t("functions.timeout_over_api", limit=29)) in html
    assert "ValidationException" in html
    assert function_names() == []
