"""Clean-up deletes everything the lab made, in dependency order, and nothing else.

Decoys (no lab tag; some with the lab's very Name tags) must come out unchanged. Slow AWS
releases and failures are simulated with botocore event hooks answering like AWS does.
"""

from __future__ import annotations

import contextlib
from html import unescape

import pytest
from botocore.awsrequest import AWSResponse
from test_inventory import (
    LAMBDA_TRUST,
    TABLE_POLICY,
    build_decoys,
    build_full_lab,
    lab_ids,
    snapshot,
)

import helpers
from helpers.aws import cleanup, inventory
from helpers.core.clients import client
from helpers.core.messages import t
from helpers.core.tags import as_aws, lab_tags
from helpers.views.cleanup import CleanupView, report_html

DELETION_ORDER = [kind for kind, _ in cleanup._DELETERS]


@contextlib.contextmanager
def aws_answers(
    service: str, operation: str, code: str, message: str = "simulated", times: int | None = None
):
    """Make ``operation`` fail with ``code`` (every time, or the first ``times`` calls)."""
    events = client(service).meta.events
    event = f"before-call.{client(service).meta.service_model.service_id.hyphenize()}.{operation}"
    calls = []

    def answer(**_):
        if times is not None and len(calls) >= times:
            return None
        calls.append(operation)
        return (
            AWSResponse("", 400, {}, None),
            {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
        )

    events.register(event, answer, unique_id=f"test-{operation}")
    try:
        yield calls
    finally:
        events.unregister(event, unique_id=f"test-{operation}")


def _ids(items) -> set[str]:
    return {item.id for item in items}


def _vpc_exists(vpc_id: str) -> bool:
    return bool(
        client("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    )


@pytest.fixture
def lab_and_decoys(fresh_lab):
    decoys = build_decoys()
    made = build_full_lab()
    # A learner's own policy attached to the lab's role: detached with the role, never deleted.
    client("iam").attach_role_policy(
        RoleName=made["role"], PolicyArn=decoys["look_alike"]["policy"]
    )
    return made, decoys


@pytest.mark.nobackend
def test_every_kind_of_resource_has_its_place_in_the_deletion_order():
    assert sorted(DELETION_ORDER) == sorted(inventory.KINDS)
    assert (
        DELETION_ORDER.index("rest-api")
        < DELETION_ORDER.index("lambda-function")
        < DELETION_ORDER.index("iam-role")
        < DELETION_ORDER.index("dynamodb-table")
        < DELETION_ORDER.index("vpc-endpoint")
        < DELETION_ORDER.index("nat-gateway")
        < DELETION_ORDER.index("elastic-ip")
        < DELETION_ORDER.index("subnet")
        < DELETION_ORDER.index("internet-gateway")
        < DELETION_ORDER.index("route-table")
        < DELETION_ORDER.index("security-group")
        < DELETION_ORDER.index("vpc")
    )


def test_clean_up_of_a_full_lab_leaves_nothing_of_the_lab_and_every_decoy_unchanged(lab_and_decoys):
    made, decoys = lab_and_decoys
    before = snapshot(decoys)
    told = []

    report = cleanup.clean_up(progress=lambda done, total, message: told.append((done, total)))

    assert report.finished, [(left.item.id, left.reason) for left in report.leftovers]
    assert _ids(report.deleted) == lab_ids(made)
    assert inventory.inventory() == []
    assert snapshot(decoys) == before
    assert not _vpc_exists(made["vpc"])
    with pytest.raises(client("iam").exceptions.NoSuchEntityException):
        client("iam").get_role(RoleName=made["role"])
    # AWS's managed policy the lab attached is only detached, never deleted.
    client("iam").get_policy(
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    )
    assert told[-1] == (len(lab_ids(made)), len(lab_ids(made)))


def test_clean_up_deletes_in_dependency_order(lab_and_decoys):
    report = cleanup.clean_up()
    kinds = [item.kind for item in report.deleted]
    # The VPC's main route table is deleted by deleting the VPC, so it comes last.
    assert kinds[-1] == "route-table" and kinds[-2] == "vpc"
    positions = [DELETION_ORDER.index(kind) for kind in kinds[:-1]]
    assert positions == sorted(positions)


def test_deleting_the_endpoint_takes_its_route_and_leaves_the_decoy_routes(lab_and_decoys):
    made, decoys = lab_and_decoys
    ec2 = client("ec2")

    def endpoint_routes(route_table_id):
        table = ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"][0]
        return [
            route for route in table["Routes"] if route.get("GatewayId", "").startswith("vpce-")
        ]

    decoy_table = decoys["look_alike"]["private_route_table"]
    assert endpoint_routes(made["private_route_table"]) and endpoint_routes(decoy_table)
    with aws_answers("ec2", "DeleteRouteTable", "UnauthorizedOperation"):
        report = cleanup.clean_up()  # the route tables stay: their routes can be looked at
    assert made["gateway_endpoint"] in _ids(report.deleted)
    assert endpoint_routes(made["private_route_table"]) == []
    assert len(endpoint_routes(decoy_table)) == 1


def test_a_second_clean_up_finds_nothing_and_succeeds(lab_and_decoys):
    _, decoys = lab_and_decoys
    before = snapshot(decoys)
    assert cleanup.clean_up().finished
    again = cleanup.clean_up()
    assert again.finished and again.deleted == []
    assert "nothing to clean up" in unescape(report_html(again))
    assert snapshot(decoys) == before


def test_clean_up_after_a_partial_build(fresh_lab):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": as_aws(lab_tags("01", "vpc", "vpc-private-vpc"))}
        ],
    )["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.0.128.0/20",
        TagSpecifications=[
            {"ResourceType": "subnet", "Tags": as_aws(lab_tags("01", "private-subnet", "p"))}
        ],
    )["Subnet"]["SubnetId"]
    role = client("iam").create_role(
        RoleName="note-app-execution-role",
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        Tags=as_aws(lab_tags("04", "execution-role")),
    )["Role"]
    report = cleanup.clean_up()
    assert report.finished
    assert _ids(report.deleted) == {vpc, subnet, role["RoleName"]}
    assert inventory.inventory() == []
    assert cleanup.clean_up().finished


def test_a_failure_midway_is_reported_and_the_next_run_finishes(lab_and_decoys):
    made, decoys = lab_and_decoys
    before = snapshot(decoys)
    with aws_answers("ec2", "DeleteSubnet", "UnauthorizedOperation", "You are not authorized"):
        report = cleanup.clean_up()
    assert not report.finished
    left = {left.item.id: left for left in report.leftovers}
    assert left[made["private_subnet"]].code == "UnauthorizedOperation"
    assert "You are not authorized" in left[made["private_subnet"]].reason
    assert made["vpc"] in left  # its subnets are still in it
    assert made["rest_api"] in _ids(report.deleted)  # everything before the failure went
    assert "still there" in unescape(report_html(report))

    finished = cleanup.clean_up()
    assert finished.finished
    assert inventory.inventory() == []
    assert snapshot(decoys) == before


def test_resetting_the_lab_deletes_only_its_resources_and_forgets_its_choices_when_done(
    lab_and_decoys,
):
    from helpers.core import journal

    made, decoys = lab_and_decoys
    before = snapshot(decoys)
    journal.record("01", {"name": "mine"})
    with aws_answers("ec2", "DeleteSubnet", "UnauthorizedOperation", "You are not authorized"):
        unfinished = cleanup.reset_lab()
    assert not unfinished.finished
    assert journal.choices("01") == {"name": "mine"}  # kept while something is left
    assert cleanup.reset_lab().finished
    assert inventory.inventory() == []
    assert snapshot(decoys) == before
    assert journal.read() == {}


def test_slow_lambda_interfaces_are_waited_for_then_reported_as_pending(lab_and_decoys):
    made, _ = lab_and_decoys
    ec2 = client("ec2")
    # What AWS leaves behind a deleted Lambda function for a while.
    interface = ec2.create_network_interface(
        SubnetId=made["private_subnet"], Description="AWS Lambda VPC ENI-note-app"
    )["NetworkInterface"]["NetworkInterfaceId"]
    told = []
    with aws_answers("ec2", "DeleteSubnet", "DependencyViolation") as attempts:
        report = cleanup.clean_up(
            progress=lambda done, total, message: told.append(message), wait_seconds=1
        )
    assert len(attempts) > 2  # it kept trying while it waited
    assert any(message.startswith("Waiting for AWS to release Subnet") for message in told)
    left = {left.item.id: left for left in report.leftovers}
    assert left[made["private_subnet"]].code == "DependencyViolation"
    assert interface in left[made["private_subnet"]].reason
    assert "45 minutes" in left[made["private_subnet"]].reason
    assert made["vpc"] in left and interface in left[made["vpc"]].reason

    ec2.delete_network_interface(NetworkInterfaceId=interface)  # AWS releases it at last
    assert cleanup.clean_up().finished
    assert inventory.inventory() == []


def test_a_nat_gateway_still_deleting_is_reported_as_pending(lab_and_decoys, monkeypatch):
    made, _ = lab_and_decoys
    monkeypatch.setattr(cleanup, "_nat_gateway_gone", lambda gateway_id: False)  # AWS: minutes
    report = cleanup.clean_up(wait_seconds=0.5)
    left = {left.item.id: left for left in report.leftovers}
    assert left[made["nat_gateway"]].code == "cleanup.pending_nat_gateway"
    assert "still being deleted" in left[made["nat_gateway"]].reason
    monkeypatch.undo()
    assert cleanup.clean_up().finished


def test_a_learners_own_subnet_in_the_lab_vpc_keeps_the_vpc_and_is_left_alone(lab_and_decoys):
    made, _ = lab_and_decoys
    ec2 = client("ec2")
    own = ec2.create_subnet(VpcId=made["vpc"], CidrBlock="10.0.64.0/20")["Subnet"]["SubnetId"]
    own_group = ec2.create_security_group(GroupName="mine", Description="mine", VpcId=made["vpc"])[
        "GroupId"
    ]
    report = cleanup.clean_up()
    (left_vpc,) = [left for left in report.leftovers if left.item.kind == "vpc"]
    assert left_vpc.code == "DependencyViolation"
    assert f"{own} (not made by the lab)" in left_vpc.reason
    assert f"{own_group} (not made by the lab)" in left_vpc.reason
    assert _vpc_exists(made["vpc"])
    assert ec2.describe_subnets(SubnetIds=[own])["Subnets"]
    assert {item.kind for item in inventory.inventory()} == {"vpc", "route-table"}

    ec2.delete_subnet(SubnetId=own)
    ec2.delete_security_group(GroupId=own_group)
    assert cleanup.clean_up().finished
    assert not _vpc_exists(made["vpc"])


def test_a_lab_policy_a_learner_attached_to_their_own_role_is_left_with_the_reason(fresh_lab):
    iam = client("iam")
    policy = iam.create_policy(
        PolicyName="table-policy",
        PolicyDocument=TABLE_POLICY,
        Tags=as_aws(lab_tags("04", "table-policy", "table-policy")),
    )["Policy"]["Arn"]
    iam.create_role(RoleName="my-role", AssumeRolePolicyDocument=LAMBDA_TRUST)
    iam.attach_role_policy(RoleName="my-role", PolicyArn=policy)
    report = cleanup.clean_up()
    (left,) = report.leftovers
    assert (left.item.id, left.code) == (policy, "DeleteConflict")
    assert "my-role" in left.reason
    assert (
        iam.list_attached_role_policies(RoleName="my-role")["AttachedPolicies"][0]["PolicyArn"]
        == policy
    )


def test_a_lab_policy_with_several_versions_is_deleted(fresh_lab):
    iam = client("iam")
    policy = iam.create_policy(
        PolicyName="table-policy",
        PolicyDocument=TABLE_POLICY,
        Tags=as_aws(lab_tags("04", "table-policy")),
    )["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=TABLE_POLICY, SetAsDefault=True)
    assert cleanup.clean_up().finished
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_check_your_work_says_what_is_left_then_that_nothing_is(lab_and_decoys):
    made, _ = lab_and_decoys
    checks = cleanup.check_chapter()
    assert not checks[0].ok
    assert any(made["nat_gateway"] in check.detail for check in checks if not check.ok)
    assert not checks[-1].ok  # the NAT gateway costs money by the hour
    cleanup.clean_up()
    assert all(check.ok for check in cleanup.check_chapter())


def test_the_clean_up_button_shows_progress_and_the_report(lab_and_decoys):
    made, _ = lab_and_decoys
    view = CleanupView()
    report = view.submit_unless_done().resource  # Run All: the button's own path
    assert report.finished and made["vpc"] in _ids(report.deleted)
    assert view.bar.value == view.bar.max == len(lab_ids(made))
    shown = unescape(view.output.outputs[0]["data"]["text/html"])
    assert "Clean-up finished" in shown and made["vpc"] in shown
    assert view.submit_unless_done().resource is report  # finished: shown, not run again
    assert not view.button.disabled


def test_the_button_counts_what_it_deletes_and_the_report_replaces_the_last(lab_and_decoys):
    made, _ = lab_and_decoys
    view = CleanupView()
    count = len(inventory.inventory())
    assert count == len(lab_ids(made))
    assert view.button.description == t("cleanup.button_count", count=count)
    view.click()
    first = view.output.outputs[0]["data"]["text/html"]
    # One success box; the deleted list (the inventory above, again) is folded away.
    assert first.count("lab-success") == 1 and "<details><summary>" in first
    assert view.button.description == t("cleanup.button_count", count=0)
    view.click()
    (only,) = view.output.outputs
    assert "nothing to clean up" in unescape(only["data"]["text/html"])


def test_a_double_click_on_clean_up_runs_it_once_and_keeps_its_report(lab_and_decoys, monkeypatch):
    from helpers.views import clicks

    made, _ = lab_and_decoys
    sent = {"at": 100.0}  # clicks arrive stamped with the time the browser sent them
    monkeypatch.setattr(clicks, "browser_click_time", lambda: sent["at"])
    view = CleanupView()
    view.button.click()
    first = view.report
    sent["at"] += 0.2
    view.button.click()
    assert view.report is first and made["vpc"] in _ids(first.deleted)
    assert len(view.output.outputs) == 1


def test_the_clean_up_button_shows_an_unreachable_backend_as_one_message(
    lab_and_decoys, monkeypatch
):
    from helpers.core.errors import LabError

    def unreachable():
        raise LabError("backend.interrupted")

    monkeypatch.setattr(inventory, "inventory", unreachable)
    view = CleanupView()
    assert view.click().ok is False and view.report is None
    shown = unescape(view.output.outputs[0]["data"]["text/html"])
    assert "broke off in the middle of a call" in shown
    with pytest.raises(LabError):  # on Run All, the cell after the button stops there
        view.submit_unless_done()


def test_clean_up_of_the_lab_the_chapters_build_leaves_nothing_and_every_decoy_intact(fresh_lab):
    """The same, with the lab made by the chapters' own code (catch-up), a NAT gateway too."""
    from helpers.core import journal

    decoys = build_decoys()
    before = snapshot(decoys)
    journal.record("01", {"nat_gateways": "one-az", "confirm_cost": True})
    helpers.catch_up()
    built = inventory.inventory()
    assert {
        "vpc",
        "nat-gateway",
        "elastic-ip",
        "vpc-endpoint",
        "iam-role",
        "lambda-function",
        "dynamodb-table",
        "rest-api",
    } <= {item.kind for item in built}

    report = cleanup.clean_up()

    assert report.finished, [(left.item.id, left.reason) for left in report.leftovers]
    assert _ids(report.deleted) == _ids(built)
    assert inventory.inventory() == []
    assert snapshot(decoys) == before
    assert cleanup.clean_up().deleted == []


def test_a_lab_policy_waits_for_the_lab_role_that_could_not_be_deleted(fresh_lab):
    iam = client("iam")
    iam.create_role(
        RoleName="note-app-execution-role",
        AssumeRolePolicyDocument=LAMBDA_TRUST,
        Tags=as_aws(lab_tags("04", "execution-role")),
    )
    policy = iam.create_policy(
        PolicyName="table-policy",
        PolicyDocument=TABLE_POLICY,
        Tags=as_aws(lab_tags("04", "table-policy", "table-policy")),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="note-app-execution-role", PolicyArn=policy)
    with aws_answers("iam", "DetachRolePolicy", "AccessDenied", "not allowed"):
        report = cleanup.clean_up()
    left = {left.item.id: left for left in report.leftovers}
    assert left["note-app-execution-role"].code == "AccessDenied"
    assert "can only go once note-app-execution-role is deleted" in left[policy].reason
    assert cleanup.clean_up().finished
    assert iam.list_policies(Scope="Local")["Policies"] == []
