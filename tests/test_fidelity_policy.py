"""Fidelity to AWS: endpoint, role and table policies as IAM evaluates them (issue 9, points 1,
2 and 10a). Each test's docstring names the AWS source of the rule it checks."""

from __future__ import annotations

import json

import pytest
from test_invoker import build_lab

from helpers import catch_up, chapter
from helpers.aws import api, endpoints, reachability, table_lock
from helpers.aws.policy import (
    Authorizer,
    PolicyKind,
    policy_permits,
    request_context,
)
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.views.forms.endpoint import EndpointForm

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/note-app-execution-role"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/note_tbl"
ENDPOINT_ID, VPC_ID = "vpce-1a2b3c4d", "vpc-111bbb22"
THROUGH_ENDPOINT = request_context(ROLE_ARN, ENDPOINT_ID, VPC_ID)
ROLE_ALLOWS_TABLE = {
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN}],
}


def endpoint_policy(principal, condition=None, effect="Allow") -> dict:
    statement = {
        "Effect": effect,
        "Principal": principal,
        "Action": "dynamodb:*",
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def endpoint_lets_role_in(policy: dict, context: dict = THROUGH_ENDPOINT) -> bool:
    return policy_permits(policy, PolicyKind.ENDPOINT, "dynamodb:PutItem", TABLE_ARN, context)


def authorizer(endpoint: dict | None, table_policy: dict | None = None) -> Authorizer:
    return Authorizer(
        principal_arn=ROLE_ARN,
        session_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/note-app-execution-role/note-app",
        role_policies=[["note-table", ROLE_ALLOWS_TABLE]],
        endpoint_id=ENDPOINT_ID,
        endpoint_policy=endpoint,
        table_policies={TABLE_ARN: table_policy} if table_policy else {},
        context=THROUGH_ENDPOINT,
    )


# --- 1. principals of a gateway endpoint's policy ------------------------------------------------
@pytest.mark.nobackend
@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": ACCOUNT},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": ROLE_ARN},
        {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", ROLE_ARN]},
    ],
    ids=["account-id", "root", "role-arn", "list"],
)
def test_a_gateway_endpoint_policy_naming_an_account_root_or_role_keeps_the_role_out(principal):
    """ "Control access to VPC endpoints using endpoint policies" (Amazon VPC / AWS PrivateLink
    guide), section "Principals for gateway endpoints": with gateway endpoints, an account id or
    "arn:aws:iam::account_id:root" principal grants access to the account's root user only; a
    principal must be granted with the aws:PrincipalArn condition key. The note app's calls then
    get AccessDeniedException "because no VPC endpoint policy allows"."""
    policy = endpoint_policy(principal)
    assert not endpoint_lets_role_in(policy)
    denial = authorizer(policy).denial("dynamodb:PutItem", TABLE_ARN)
    assert denial.endswith("because no VPC endpoint policy allows the dynamodb:PutItem action")


@pytest.mark.nobackend
@pytest.mark.parametrize("everyone", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_the_right_form_is_principal_star_with_a_condition_on_aws_principal_arn(everyone):
    """Same page and section: the documented way to let one principal through a gateway
    endpoint is "Principal": "*" with a Condition on aws:PrincipalArn."""
    condition = {"ArnEquals": {"aws:PrincipalArn": ROLE_ARN}}
    assert endpoint_lets_role_in(endpoint_policy(everyone, condition))
    other_role = {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/other"}}
    assert not endpoint_lets_role_in(endpoint_policy(everyone, other_role))


@pytest.fixture
def endpoint_form(fresh_lab):
    chapter("01").catch_up({})
    return EndpointForm()


def test_the_endpoint_form_explains_the_gateway_principal_rule_before_creating(endpoint_form):
    """ "Control access to VPC endpoints using endpoint policies", "Principals for gateway
    endpoints": AWS accepts the policy (so the form only warns), but names only the root user;
    the warning teaches "Principal": "*" with aws:PrincipalArn, and says the note app is out."""
    values = {
        **endpoint_form.defaults(),
        "policy_kind": "custom",
        "policy": json.dumps(endpoint_policy({"AWS": ACCOUNT})),
    }
    problems = endpoint_form.check(values)
    assert not [p for p in problems if p.severity == "error"], problems
    warned = {p.code: p for p in problems if p.severity == "warning"}
    principal = warned["endpoints.policy_principal_gateway"]
    assert principal.field == "policy"
    assert '"Principal": "*"' in principal.message and "aws:PrincipalArn" in principal.message
    assert "root user" in principal.message
    refused = warned["endpoints.policy_refuses_note_app"]
    assert "dynamodb:PutItem" in refused.message and "AccessDeniedException" in refused.message
    right = endpoint_policy("*", {"ArnEquals": {"aws:PrincipalArn": endpoints.note_app_role_arn()}})
    codes = [p.code for p in endpoint_form.check({**values, "policy": json.dumps(right)})]
    assert "endpoints.policy_principal_gateway" not in codes
    assert "endpoints.policy_refuses_note_app" not in codes


# --- 2. conditions ------------------------------------------------------------------------------
@pytest.mark.nobackend
@pytest.mark.parametrize(
    ("condition", "through_endpoint", "from_elsewhere"),
    [
        ({"StringEquals": {"aws:SourceVpce": ENDPOINT_ID}}, True, False),
        ({"StringEquals": {"aws:SourceVpce": [ENDPOINT_ID, "vpce-other"]}}, True, False),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-other"}}, True, True),
        ({"StringLike": {"aws:SourceVpce": "vpce-1a2b*"}}, True, False),
        ({"StringNotLike": {"aws:SourceVpce": "vpce-zz*"}}, True, True),
        ({"StringEquals": {"aws:SourceVpc": VPC_ID}}, True, False),
        ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, True, True),
        ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, False, False),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, True, True),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"}}, True, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, False, False),
        ({"StringEqualsIfExists": {"aws:SourceVpce": ENDPOINT_ID}}, True, True),
        ({"ForAnyValue:StringEquals": {"aws:SourceVpce": [ENDPOINT_ID]}}, True, False),
        ({"ForAllValues:StringEquals": {"aws:SourceVpce": ["vpce-other"]}}, False, True),
        ({"Null": {"aws:SourceVpce": "false"}}, True, False),
        ({"Bool": {"aws:SecureTransport": True}}, True, True),
        (
            {
                "StringEquals": {"aws:SourceVpce": ENDPOINT_ID, "aws:PrincipalAccount": ACCOUNT},
                "ArnEquals": {"aws:PrincipalArn": ROLE_ARN},
            },
            True,
            False,
        ),
    ],
)
def test_condition_operators_read_the_request_context_of_a_call_from_the_note_app(
    condition, through_endpoint, from_elsewhere
):
    """ "IAM JSON policy elements: Condition operators" (IAM User Guide): string and ARN
    operators, wildcards in …Like, IfExists (a missing key matches), negated operators (a
    missing key matches), ForAnyValue/ForAllValues, Null; several keys and operators in one
    Condition must all hold. "AWS global condition context keys": aws:SourceVpce and
    aws:SourceVpc are in the request context only for a request through a VPC endpoint;
    aws:PrincipalArn is the role's ARN for a role session; aws:SecureTransport is true over
    HTTPS."""
    policy = endpoint_policy("*", condition)
    assert endpoint_lets_role_in(policy) is through_endpoint
    outside = request_context(ROLE_ARN)  # the same role, on a path without an endpoint
    assert endpoint_lets_role_in(policy, outside) is from_elsewhere


@pytest.mark.nobackend
def test_the_documented_deny_unless_from_this_vpc_example_refuses_a_call_from_elsewhere():
    """ "Control access to VPC endpoints using endpoint policies" and DynamoDB's "Using
    resource-based policies for DynamoDB": the documented pattern Deny … Condition
    StringNotEquals aws:SourceVpce <endpoint> leaves calls through that endpoint alone and
    refuses the rest "with an explicit deny in a resource-based policy"."""
    lock = table_lock.lock_policy(TABLE_ARN, ENDPOINT_ID)
    assert authorizer(endpoints.FULL_ACCESS_POLICY, lock).refusal(
        "dynamodb:PutItem", TABLE_ARN
    ) is (None)
    other_endpoint = table_lock.lock_policy(TABLE_ARN, "vpce-other")
    refusal = authorizer(endpoints.FULL_ACCESS_POLICY, other_endpoint).refusal(
        "dynamodb:PutItem", TABLE_ARN
    )
    assert refusal.policy is PolicyKind.RESOURCE and refusal.explicit
    assert refusal.message("caller").endswith("with an explicit deny in a resource-based policy")


@pytest.mark.nobackend
@pytest.mark.parametrize(
    ("condition", "what"),
    [
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "IpAddress"),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "NumericLessThan"),
        ({"StringEquals": {"aws:SourceIp": "203.0.113.7"}}, "aws:SourceIp"),
        ({"StringEquals": {"dynamodb:LeadingKeys": "x"}}, "dynamodb:LeadingKeys"),
    ],
)
def test_a_condition_the_lab_cannot_evaluate_is_refused_clearly_not_ignored(condition, what):
    """The lab evaluates the operators of "IAM JSON policy elements: Condition operators" it
    implements, on the keys a call from the note app carries; any other operator or key is
    refused by name (the lab does not guess what AWS would decide)."""
    policy = json.dumps(endpoint_policy("*", condition))
    with pytest.raises(LabError) as refused:
        endpoints.parse_policy(policy)
    assert what in str(refused.value) and refused.value.field == "policy"
    assert authorizer(json.loads(policy)).unsupported()[0] is PolicyKind.ENDPOINT


@pytest.fixture
def lab(fresh_lab):
    return build_lab()


@pytest.fixture
def finished_lab(fresh_lab):
    """Every chapter's resources, the API included, as chapter 07 starts."""
    catch_up()
    return endpoints.find_lab_endpoint()["VpcEndpointId"]


def test_the_explainer_says_when_it_cannot_judge_a_stored_policy(lab):
    """A policy set outside the lab (here straight through EC2's ModifyVpcEndpoint) with an
    operator the lab does not evaluate: the endpoint-policy hop is a warning naming it, and the
    verdict is not green (the lab does not claim the note app works)."""
    policy = endpoint_policy("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    client("ec2").modify_vpc_endpoint(
        VpcEndpointId=lab.endpoint_id, PolicyDocument=json.dumps(policy)
    )
    verdict = reachability.explain()
    hop = verdict.hop("endpoint_policy")
    assert hop.status == "warning" and "IpAddress" in hop.reason
    assert verdict.hop("role").status == "ok"
    assert not verdict.ok and verdict.failure.kind == "cannot_judge"


def test_locking_the_table_to_the_endpoint_refuses_the_notebook_and_lets_the_note_app_in(
    finished_lab,
):
    """Chapter 07's exercise. "Using resource-based policies for DynamoDB" / "DynamoDB
    resource-based policy examples": a table policy that denies its data actions unless
    aws:SourceVpce is the lab's endpoint. A call from the notebook (no aws:SourceVpce: "AWS
    global condition context keys") gets AccessDeniedException "with an explicit deny in a
    resource-based policy" (IAM "Access denied error messages"); the note app, whose calls come
    through the endpoint, still writes."""
    before = table_lock.call_from_outside()
    assert before.allowed
    result = chapter("07").lock_table()
    assert result.outside is not None and not result.outside.allowed
    assert result.outside.code == "AccessDeniedException"
    assert result.outside.message.endswith("with an explicit deny in a resource-based policy")
    assert result.response.status == 201, result.response.body
    table_hop = result.verdict.hop("table")
    assert table_hop.status == "ok" and "resource-based policy" in table_hop.reason
    stored = json.loads(
        client("dynamodb").get_resource_policy(ResourceArn=result.verdict.table_arn)["Policy"]
    )
    condition = stored["Statement"][0]["Condition"]["StringNotEquals"]
    assert condition == {"aws:SourceVpce": finished_lab}
    # The note app still reads and writes; the lock holds for a call from outside.
    assert api.request("GET").status == 200
    assert not table_lock.call_from_outside().allowed
    assert table_lock.unlock_table() and table_lock.call_from_outside().allowed


def test_a_table_lock_for_another_endpoint_breaks_the_note_app_at_the_table_hop(finished_lab):
    """Same sources: the note app's calls carry the lab's endpoint as aws:SourceVpce, so a
    lock naming another endpoint denies them too — DynamoDB answers AccessDeniedException, and
    the explainer's red hop is the table."""
    verdict = reachability.explain()
    table_lock.lock_table(table_lock.lock_policy(verdict.table_arn, "vpce-0000000000000000a"))
    response = api.request("POST", body={"text": "locked out"})
    assert response.status == 500
    broken = reachability.explain()
    assert broken.hop("table").status == "failed"
    assert broken.failure.code == "AccessDeniedException"
    assert broken.failure.refusal.policy is PolicyKind.RESOURCE


def test_a_table_lock_that_would_strand_the_table_is_refused(lab):
    """The lab's own rule (not AWS's): a table policy denying the learner DeleteTable would
    stop chapter 08's clean-up on a real account, so the lab refuses it and puts nothing on the
    table."""
    table_arn = reachability.explain().table_arn
    everything = {
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "dynamodb:*", "Resource": "*"}]
    }
    with pytest.raises(LabError) as refused:
        table_lock.lock_table(everything)
    assert refused.value.key == "table_lock.blocks_cleanup"
    assert "dynamodb:DeleteTable" in str(refused.value)
    assert table_lock.table_policy(table_arn) is None


# --- 10a. an endpoint policy must contain a Principal -------------------------------------------
@pytest.mark.nobackend
def test_an_endpoint_policy_without_a_principal_is_refused_and_says_so():
    """ "Control access to VPC endpoints using endpoint policies", Considerations: "An endpoint
    policy is a JSON policy document that uses the IAM policy language. It must contain a
    Principal element." (The exact error code AWS returns for one without is not documented
    there; the lab answers InvalidPolicyDocument, its code for a malformed policy.)"""
    policy = {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
    with pytest.raises(LabError) as refused:
        endpoints.parse_policy(json.dumps(policy))
    assert refused.value.code == "InvalidPolicyDocument"
    assert '"Principal"' in str(refused.value) and "statement 1" in str(refused.value)
