"""The reachability explainer: each hop's verdict, and the policy evaluation behind two of them
(``helpers.aws.policy``), which names the policy that refuses."""

from __future__ import annotations

import json
import re
from html import escape as escape_html

import pytest
from test_forms_base import judge_then_click
from test_invoker import build_lab

from helpers import chapter
from helpers.aws import api, endpoints, functions, reachability
from helpers.aws.policy import NOTE_APP_ACTIONS, Authorizer, PolicyKind, Refusal, request_context
from helpers.core.clients import client
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.views import path
from helpers.views.forms import breakfix
from helpers.views.forms.base import FormView
from note_app.handler import DYNAMODB_ACTIONS

ROLE_ARN = "arn:aws:iam::123456789012:role/note-app-execution-role"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/note_tbl"
ALLOW_TABLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE_ARN}],
}


def _authorizer(endpoint_policy=None, role_policies=(ALLOW_TABLE,)):
    return Authorizer(
        principal_arn=ROLE_ARN,
        session_arn="arn:aws:sts::123456789012:assumed-role/r/f",
        role_policies=[["p", p] for p in role_policies],
        endpoint_id="vpce-1",
        endpoint_policy=endpoint_policy,
        context=request_context(ROLE_ARN, "vpce-1", "vpc-1"),
    )


# --- policies (the lab's evaluator behind the policy hops) --------------------------------------
@pytest.mark.nobackend
def test_the_note_apps_actions_are_its_handlers_and_every_module_uses_them():
    assert set(NOTE_APP_ACTIONS) == set(DYNAMODB_ACTIONS.values())
    assert endpoints.NOTE_APP_ACTIONS is NOTE_APP_ACTIONS
    assert functions.TABLE_ACTIONS is NOTE_APP_ACTIONS


@pytest.mark.nobackend
def test_full_access_endpoint_policy_and_a_table_role_allow():
    authorizer = _authorizer(endpoints.FULL_ACCESS_POLICY)
    assert authorizer.denial("dynamodb:PutItem", TABLE_ARN) is None
    assert authorizer.refusal("dynamodb:PutItem", TABLE_ARN) is None
    assert authorizer.refusal("dynamodb:Scan", TABLE_ARN) == Refusal(
        PolicyKind.IDENTITY, False, "dynamodb:Scan", TABLE_ARN
    )


@pytest.mark.nobackend
def test_endpoint_policy_for_another_principal_does_not_allow():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/other"},
                "Action": "dynamodb:*",
                "Resource": "*",
            }
        ]
    }
    message = _authorizer(policy).denial("dynamodb:PutItem", TABLE_ARN)
    assert message.endswith("because no VPC endpoint policy allows the dynamodb:PutItem action")


@pytest.mark.nobackend
def test_endpoint_policy_for_the_role_allows_and_actions_match_in_any_case():
    """A gateway endpoint names a role through aws:PrincipalArn, with "Principal": "*"
    ("Control access to VPC endpoints using endpoint policies", principals for gateway
    endpoints); IAM matches action names in any case."""
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "DynamoDB:putitem",
                "Resource": TABLE_ARN,
                "Condition": {"ArnEquals": {"aws:PrincipalArn": [ROLE_ARN]}},
            }
        ]
    }
    assert _authorizer(policy).denial("dynamodb:PutItem", TABLE_ARN) is None


@pytest.mark.nobackend
def test_endpoint_policy_conditions_on_the_endpoint_are_evaluated():
    def only(effect, endpoint):
        return {
            "Effect": effect,
            "Principal": "*",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": endpoint}},
        }

    allow_all = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    other = _authorizer({"Statement": [only("Allow", "vpce-other")]})
    assert other.denial("dynamodb:PutItem", TABLE_ARN).endswith(
        "because no VPC endpoint policy allows the dynamodb:PutItem action"
    )
    assert (
        _authorizer({"Statement": [only("Allow", "vpce-1")]}).denial("dynamodb:PutItem", TABLE_ARN)
        is None
    )
    assert (
        _authorizer({"Statement": [allow_all, only("Deny", "vpce-other")]}).denial(
            "dynamodb:PutItem", TABLE_ARN
        )
        is None
    )
    assert (
        _authorizer({"Statement": [allow_all, only("Deny", "vpce-1")]})
        .denial("dynamodb:PutItem", TABLE_ARN)
        .endswith("with an explicit deny in a VPC endpoint policy")
    )


@pytest.mark.nobackend
def test_a_statement_for_another_resource_does_not_match():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "dynamodb:*",
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/other",
            }
        ]
    }
    assert _authorizer(policy).refusal("dynamodb:PutItem", TABLE_ARN) == Refusal(
        PolicyKind.ENDPOINT, False, "dynamodb:PutItem", TABLE_ARN
    )


@pytest.mark.nobackend
def test_explicit_deny_in_the_role_wins_over_its_allow():
    deny = {"Statement": [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]}
    authorizer = _authorizer(None, (ALLOW_TABLE, deny))
    message = authorizer.denial("dynamodb:PutItem", TABLE_ARN)
    assert message.endswith("with an explicit deny in an identity-based policy")
    assert authorizer.refusal("dynamodb:PutItem", TABLE_ARN) == Refusal(
        PolicyKind.IDENTITY, True, "dynamodb:PutItem", TABLE_ARN
    )


@pytest.mark.nobackend
def test_an_explicit_deny_is_named_before_a_missing_allow_and_the_endpoint_before_the_role():
    deny = {"Statement": [{"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]}
    endpoint_deny = {"Statement": [{**deny["Statement"][0], "Principal": "*"}]}
    nothing = {"Statement": []}
    assert _authorizer(nothing, (deny,)).refusal("dynamodb:PutItem", TABLE_ARN).policy == (
        PolicyKind.IDENTITY
    )
    assert _authorizer(endpoint_deny, (deny,)).refusal("dynamodb:PutItem", TABLE_ARN).policy == (
        PolicyKind.ENDPOINT
    )
    # What Lambda does with the role itself never meets the endpoint policy.
    assert _authorizer(nothing).role_refusal("dynamodb:PutItem", TABLE_ARN) is None


@pytest.mark.nobackend
def test_no_endpoint_policy_applies_off_the_endpoint_path():
    assert _authorizer(None).denial("dynamodb:PutItem", TABLE_ARN) is None


# --- routes -------------------------------------------------------------------------------------
@pytest.mark.nobackend
def test_longest_prefix_wins_and_a_cidr_route_beats_an_equal_prefix_list_route():
    table = {
        "Routes": [
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"},
            {"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1", "State": "active"},
            {"DestinationCidrBlock": "52.94.0.0/22", "NatGatewayId": "nat-1", "State": "active"},
        ]
    }
    assert reachability._route_for(table, "pl-1", "3.218.182.0/24")["GatewayId"] == "vpce-1"
    assert reachability._route_for(table, "pl-1", "52.94.0.0/22")["NatGatewayId"] == "nat-1"
    assert reachability._route_for(table, "pl-2", "3.218.182.0/24")["GatewayId"] == "igw-1"
    assert (
        reachability._route_for({"Routes": table["Routes"][1:2]}, "pl-2", "3.218.182.0/24") is None
    )


# --- the explainer on the lab ------------------------------------------------------------------
@pytest.fixture
def lab(fresh_lab):
    return build_lab()


def test_every_hop_is_green_on_the_finished_lab(lab):
    verdict = reachability.explain()
    assert [h.key for h in verdict.hops] == list(reachability.HOP_KEYS)
    assert all(h.status == "ok" for h in verdict.hops), [path.row(h) for h in verdict.hops]
    assert verdict.ok and verdict.via == "endpoint"
    assert verdict.hop("subnet").resource.startswith(lab.network.private_subnet_ids[0])
    assert verdict.hop("route_table").resource.startswith(lab.network.private_route_table_ids[0])
    prefix_list = endpoints.prefix_list(endpoints.dynamodb_service_name())
    assert verdict.hop("route").resource == f"{prefix_list.id} → {lab.endpoint_id}"
    assert verdict.hop("endpoint").resource.startswith(lab.endpoint_id)
    assert verdict.hop("table").resource == "note_tbl"


def test_a_subnet_without_its_own_table_uses_the_main_one(lab):
    ec2 = client("ec2")
    private = ec2.describe_route_tables(RouteTableIds=lab.network.private_route_table_ids)
    association = next(a for a in private["RouteTables"][0]["Associations"] if a.get("SubnetId"))
    ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    verdict = reachability.explain()
    assert verdict.hop("route_table").resource.startswith(lab.network.main_route_table_id)
    assert verdict.hop("route").status == "failed"
    assert verdict.failure.message == "Task timed out after 15.00 seconds"


def test_a_route_to_the_internet_gateway_does_not_help_a_private_function(lab):
    ec2 = client("ec2")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    ec2.create_route(
        RouteTableId=lab.network.private_route_table_ids[0],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=lab.network.internet_gateway_id,
    )
    route = reachability.explain().hop("route")
    assert route.status == "failed" and "no public IP" in route.reason


def test_a_nat_gateway_in_the_public_subnet_is_a_way_out_that_skips_the_endpoint_policy(lab):
    ec2 = client("ec2")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=lab.network.public_subnet_ids[0], AllocationId=allocation
    )["NatGateway"]["NatGatewayId"]
    ec2.create_route(
        RouteTableId=lab.network.private_route_table_ids[0],
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=nat,
    )
    verdict = reachability.explain()
    assert verdict.ok and verdict.via == "nat"
    assert verdict.hop("endpoint").resource == nat
    assert verdict.hop("endpoint_policy").status == "skipped"


def test_a_security_group_without_https_out_blocks_the_path(lab):
    ec2 = client("ec2")
    function = client("lambda").get_function_configuration(FunctionName=lab.function_name)
    group = function["VpcConfig"]["SecurityGroupIds"][0]
    ec2.revoke_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    verdict = reachability.explain()
    assert verdict.hop("firewall").status == "failed"
    assert group in verdict.hop("firewall").reason
    assert verdict.failure.kind == "timeout"


def test_dns_resolution_off_stops_at_the_subnet(lab):
    client("ec2").modify_vpc_attribute(VpcId=lab.network.vpc_id, EnableDnsSupport={"Value": False})
    verdict = reachability.explain()
    assert verdict.hop("subnet").status == "failed"
    assert verdict.failure.kind == "timeout"


def test_a_table_in_another_region_cannot_use_the_endpoint(lab):
    other = "us-west-2" if current().region != "us-west-2" else "eu-west-1"
    variables = {"AWS_DYNAMO_TABLE_NAME_VALUE": "note_tbl", "AWS_REGION_VALUE": other}
    client("lambda").update_function_configuration(
        FunctionName=lab.function_name, Environment={"Variables": variables}
    )
    verdict = reachability.explain()
    assert verdict.hop("route").status == "failed"
    assert verdict.hop("route").resource == "no route to 0.0.0.0/0"


def test_breaking_and_restoring_the_path(lab):
    chapter("06").catch_up({})
    broken = breakfix.remove_route()
    assert broken.response.status == 502
    assert broken.verdict.hop("route").status == "failed"
    assert lab.network.private_route_table_ids[0] in broken.verdict.hop("route").reason
    wrong = breakfix.wrong_route_table()
    assert wrong.response.status == 502
    assert wrong.response.problem.endswith("Task timed out after 15.00 seconds")
    assert lab.network.public_route_table_ids[0] in wrong.verdict.hop("route").reason
    assert breakfix.restore().verdict.ok
    read_only = breakfix.restrict_policy()
    assert read_only.response.status == 500
    assert read_only.response.json["error"] == "AccessDeniedException"
    assert "VPC endpoint policy" in read_only.response.json["message"]
    assert read_only.verdict.hop("endpoint_policy").status == "failed"
    assert read_only.verdict.failure.refusal.policy == PolicyKind.ENDPOINT
    restored = breakfix.restore()
    assert restored.verdict.ok
    assert restored.response.status == 201
    assert api.request("GET").json[0]["text"] == breakfix.TEST_NOTE["text"]


def test_the_picture_and_the_table_show_each_hop_in_its_colour(lab):
    endpoints.set_policy(
        lab.endpoint_id,
        breakfix.read_only_policy(
            f"arn:aws:dynamodb:{current().region}:123456789012:table/note_tbl"
        ),
    )
    verdict = reachability.explain()
    svg = path.diagram(verdict)
    assert svg.count('class="lab-hop ') == len(reachability.HOP_KEYS)
    assert 'data-hop="endpoint_policy"' in svg
    assert 'class="lab-hop lab-hop-failed" data-hop="endpoint_policy"' in svg
    assert 'class="lab-hop lab-hop-ok" data-hop="route"' in svg
    # Every box says its hop, its resource and its verdict whole: nothing cut off.
    assert "…" not in svg
    shown = "".join(re.findall(r">([^<>]+)</tspan>", svg)).replace(" ", "")
    for hop in verdict.hops:  # wrapped over lines, but all there
        assert f"{hop.title}{hop.resource}".replace(" ", "") in shown, hop
    assert shown.count("blocksthepath") == 1
    html = path.hops_table(verdict)
    assert html.count("<tr class='lab-hop-failed'") == 1
    assert "dynamodb:PutItem" in verdict.hop("endpoint_policy").reason
    assert json.loads(
        client("ec2").describe_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])["VpcEndpoints"][0][
            "PolicyDocument"
        ]
    )


def test_a_function_outside_any_vpc_reaches_dynamodb_without_the_endpoint(lab):
    client("lambda").update_function_configuration(
        FunctionName=lab.function_name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
    )
    verdict = reachability.explain()
    assert verdict.ok and verdict.via == "public"
    assert {
        verdict.hop(key).status for key in ("subnet", "route", "endpoint", "endpoint_policy")
    } == {"skipped"}


def test_only_a_working_subnet_is_needed_but_the_broken_one_is_pointed_out(lab):
    ec2 = client("ec2")
    extra = ec2.create_subnet(VpcId=lab.network.vpc_id, CidrBlock="10.0.144.0/20")["Subnet"]
    groups = client("lambda").get_function_configuration(FunctionName=lab.function_name)[
        "VpcConfig"
    ]["SecurityGroupIds"]
    client("lambda").update_function_configuration(
        FunctionName=lab.function_name,
        VpcConfig={
            "SubnetIds": [*lab.network.private_subnet_ids, extra["SubnetId"]],
            "SecurityGroupIds": groups,
        },
    )
    verdict = reachability.explain()
    assert verdict.ok
    assert verdict.hop("subnet").status == "warning"
    assert extra["SubnetId"] in verdict.hop("subnet").reason  # it uses the main table: no route


# --- the break-and-fix form, judged before the click -------------------------------------------
def test_the_breakfix_form_refuses_before_the_click_without_the_labs_endpoint(fresh_lab):
    form = FormView(breakfix.BreakFixForm("remove_route"))
    assert form.button.disabled
    before, result = judge_then_click(form)
    assert result.codes == ["reachability.nothing_to_break"]
    assert "ch.start()" in before
    assert form.button.description == t("reachability.title_remove_route")


def _drawn(svg: str) -> dict[str, str]:
    """Each hop's status as the picture draws it, by hop key."""
    return dict(
        (key, status)
        for status, key in re.findall(r'class="lab-hop lab-hop-(\w+)" data-hop="(\w+)"', svg)
    )


def _arrow_colours(svg: str) -> list[str]:
    """The colour of each arrow, in path order (the arrow into hop 2, 3, …)."""
    return re.findall(r'<line [^>]*stroke="(#[0-9a-f]+)"', svg)


def _verdict(statuses: dict[str, str]) -> reachability.PathVerdict:
    """A verdict whose hops have ``statuses`` (hop key → status), as the explainer makes it."""
    return reachability.PathVerdict(
        function_name="note-app",
        function_arn=None,
        timeout_seconds=15,
        table_name="note_tbl",
        table_arn=TABLE_ARN,
        actions=["dynamodb:PutItem"],
        hops=[
            reachability.Hop(key, f"resource-of-{key}", status, f"reason of {key}")
            for key, status in statuses.items()
        ],
        via=None,
        authorizer=None,
    )


@pytest.mark.nobackend
def test_the_picture_greys_every_hop_after_the_first_blocking_one_and_the_table_does_not():
    """Traffic stops at the first hop that blocks it: in the picture no hop after it passes
    (the role would allow the call, but the call never gets there), and the arrows after the
    break are grey; the table keeps each hop's own verdict, so the learner still reads that
    the role itself is fine."""
    statuses = {
        "function": "ok",
        "subnet": "ok",
        "route_table": "ok",
        "route": "failed",
        "firewall": "ok",
        "endpoint": "skipped",
        "endpoint_policy": "skipped",
        "role": "ok",
        "table": "warning",
    }
    verdict = _verdict(statuses)
    svg = path.diagram(verdict)
    first_failed = list(statuses).index("route")
    assert _drawn(svg) == {
        key: status if index <= first_failed else "skipped"
        for index, (key, status) in enumerate(statuses.items())
    }
    # A hop drawn otherwise than its own verdict says why in its tooltip.
    not_reached = escape_html(t("reachability.not_reached"))
    for key in ("firewall", "role", "table"):
        assert f"reason of {key}" not in svg
    assert svg.count(not_reached) == 3
    arrows = _arrow_colours(svg)
    assert len(arrows) == len(statuses) - 1
    # Into the subnet, route table and route: dark; out of the route and on: grey.
    assert arrows[:first_failed] == ["#555"] * first_failed
    assert arrows[first_failed:] == ["#bbb"] * (len(arrows) - first_failed)
    rows = re.findall(r"<tr class='lab-hop-(\w+)'", path.hops_table(verdict))
    assert rows == list(statuses.values())


@pytest.mark.nobackend
def test_a_path_that_passes_is_drawn_with_every_hops_own_status():
    """Without a blocking hop nothing is greyed: a warning (some subnets broken) or a hop
    skipped because the path does not use it (a function outside any VPC) keeps its colour."""
    statuses = dict.fromkeys(reachability.HOP_KEYS, "ok") | {"subnet": "warning"}
    svg = path.diagram(_verdict(statuses))
    assert _drawn(svg) == statuses
    assert set(_arrow_colours(svg)) == {"#555"}
    outside_vpc = statuses | dict.fromkeys(("subnet", "route_table", "route"), "skipped")
    assert _drawn(path.diagram(_verdict(outside_vpc))) == outside_vpc


def test_after_the_route_is_removed_the_picture_shows_no_passing_hop_beyond_it(lab):
    """Chapter 07's first exercise on the live lab: with the endpoint's route gone from the
    private route table, the route hop blocks; the execution role is still judged fine in
    the table, but the picture draws it (and every hop after the route) not reached.

    AWS source: "Gateway endpoints" (AWS PrivateLink guide, Overview): "Each subnet route
    table must have a route that sends traffic destined for the service to the gateway
    endpoint using the prefix list for the service"; without it the traffic never reaches
    the endpoint, nor anything beyond it."""
    chapter("06").catch_up({})
    verdict = breakfix.remove_route().verdict
    assert verdict.hop("route").status == "failed"
    assert verdict.hop("role").status == "ok"  # the role alone would allow the call
    svg = path.diagram(verdict)
    drawn = _drawn(svg)
    keys = list(reachability.HOP_KEYS)
    after = keys[keys.index("route") + 1 :]
    assert drawn["route"] == "failed"
    assert {drawn[key] for key in after} == {"skipped"}
    rows = re.findall(r"<tr class='lab-hop-(\w+)'", path.hops_table(verdict))
    assert rows[keys.index("role")] == "ok"  # the table keeps the role's own verdict
