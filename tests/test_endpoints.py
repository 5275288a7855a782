"""Chapter 02's helpers: the DynamoDB endpoint is made once, routes really follow changes."""

from __future__ import annotations

import json

import pytest

from helpers import chapter
from helpers.aws import endpoints, networking
from helpers.core import journal, tags
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.views.forms.endpoint import request_from_choices


@pytest.fixture
def network(fresh_lab):
    chapter("01").catch_up({})
    return networking.find_lab_network()


def alive_endpoints() -> list[dict]:
    return [
        e
        for e in client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"].lower() not in endpoints.GONE_STATES
    ]


def routes_to(route_table_id: str, prefix_list_id: str) -> list[str]:
    table = client("ec2").describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"][0]
    return [
        networking.route_target(r)
        for r in table["Routes"]
        if r.get("DestinationPrefixListId") == prefix_list_id
    ]


def make_default(network) -> dict:
    return endpoints.create_endpoint(
        endpoints.EndpointRequest(
            vpc_id=network.vpc_id,
            service_name=endpoints.dynamodb_service_name(),
            route_table_ids=network.private_route_table_ids,
        )
    ).endpoint


def test_service_name_and_prefix_list_follow_the_region(fresh_lab):
    assert endpoints.dynamodb_service_name("eu-west-1") == "com.amazonaws.eu-west-1.dynamodb"
    assert endpoints.dynamodb_service_name() == "com.amazonaws.us-east-1.dynamodb"
    prefix_list_id, name, cidrs = endpoints.prefix_list(endpoints.dynamodb_service_name())
    assert prefix_list_id.startswith("pl-") and name == "com.amazonaws.us-east-1.dynamodb"
    assert cidrs and all("/" in cidr for cidr in cidrs)


def test_endpoint_services_merge_types_of_one_name(fresh_lab):
    s3 = endpoints.find_service("com.amazonaws.us-east-1.s3")
    assert s3.types == ("Gateway", "Interface")
    # AWS offers DynamoDB as both types; the lab adds the Interface type moto leaves out.
    assert endpoints.find_service(endpoints.dynamodb_service_name()).types == (
        "Gateway",
        "Interface",
    )


def test_create_adds_the_prefix_list_route_to_the_private_table(network):
    made = make_default(network)
    assert made["State"] == "available" and made["VpcEndpointType"] == "Gateway"
    assert made["RouteTableIds"] == network.private_route_table_ids
    found = tags.from_aws(made["Tags"])
    assert found[tags.ROLE_KEY] == "dynamodb-endpoint" and found[tags.CHAPTER_KEY] == "02"
    assert found["Name"] == "vpc-endpoint-lambda-dynamodb"
    pl = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    assert routes_to(network.private_route_table_ids[0], pl) == [made["VpcEndpointId"]]
    assert routes_to(network.public_route_table_ids[0], pl) == []
    assert endpoints.find_lab_endpoint()["VpcEndpointId"] == made["VpcEndpointId"]


def test_creating_twice_returns_the_first_endpoint(network):
    first = make_default(network)
    again = endpoints.create_endpoint(
        endpoints.EndpointRequest(
            vpc_id=network.vpc_id,
            service_name=endpoints.dynamodb_service_name(),
            route_table_ids=network.private_route_table_ids,
        )
    )
    assert again.created is False
    assert again.endpoint["VpcEndpointId"] == first["VpcEndpointId"]
    assert len(alive_endpoints()) == 1


def test_adding_and_removing_a_route_table_really_changes_routes(network):
    made = make_default(network)
    endpoint_id = made["VpcEndpointId"]
    pl = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    public = network.public_route_table_ids[0]

    added = endpoints.set_route_tables(endpoint_id, add=[public])
    assert routes_to(public, pl) == [endpoint_id]
    assert set(added.endpoint["RouteTableIds"]) == {public, *network.private_route_table_ids}
    assert any(
        r.get("DestinationPrefixListId") == pl
        for t in added.after
        if t["RouteTableId"] == public
        for r in t["Routes"]
    )

    removed = endpoints.set_route_tables(endpoint_id, remove=[public])
    assert routes_to(public, pl) == []
    assert removed.endpoint["RouteTableIds"] == network.private_route_table_ids
    assert routes_to(network.private_route_table_ids[0], pl) == [endpoint_id]

    # Routes and RouteTableIds agree, so deleting the endpoint works and removes its routes.
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert routes_to(network.private_route_table_ids[0], pl) == []


def test_adding_an_attached_table_again_changes_nothing(network):
    made = make_default(network)
    result = endpoints.set_route_tables(made["VpcEndpointId"], add=network.private_route_table_ids)
    assert result.endpoint["RouteTableIds"] == network.private_route_table_ids
    pl = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    assert routes_to(network.private_route_table_ids[0], pl) == [made["VpcEndpointId"]]


def test_route_table_of_another_vpc_is_refused_and_nothing_changes(network):
    made = make_default(network)
    default_vpc = next(v for v in client("ec2").describe_vpcs()["Vpcs"] if v["IsDefault"])
    foreign = networking.main_route_table(default_vpc["VpcId"])["RouteTableId"]
    with pytest.raises(LabError) as refused:
        endpoints.set_route_tables(made["VpcEndpointId"], add=[foreign])
    assert refused.value.code == "InvalidParameter"
    assert (
        endpoints.endpoint(made["VpcEndpointId"])["RouteTableIds"]
        == network.private_route_table_ids
    )
    assert routes_to(foreign, endpoints.prefix_list(endpoints.dynamodb_service_name()).id) == []


def test_table_already_routing_the_service_elsewhere_is_refused(network):
    made = make_default(network)
    other = client("ec2").create_vpc_endpoint(
        VpcId=network.vpc_id,
        ServiceName=endpoints.dynamodb_service_name(),
        VpcEndpointType="Gateway",
        RouteTableIds=network.public_route_table_ids,
    )["VpcEndpoint"]
    with pytest.raises(LabError) as refused:
        endpoints.set_route_tables(made["VpcEndpointId"], add=network.public_route_table_ids)
    assert refused.value.code == "RouteAlreadyExists"
    pl = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    assert routes_to(network.public_route_table_ids[0], pl) == [other["VpcEndpointId"]]


def test_missing_route_table_is_refused(network):
    made = make_default(network)
    with pytest.raises(LabError) as refused:
        endpoints.set_route_tables(made["VpcEndpointId"], add=["rtb-0123456789abcdef0"])
    assert refused.value.code == "InvalidRouteTableID.NotFound"


def test_policy_change_is_stored_and_full_access_restores(network):
    made = make_default(network)
    read_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["dynamodb:GetItem", "dynamodb:Scan"],
                "Resource": "*",
            }
        ],
    }
    changed = endpoints.set_policy(made["VpcEndpointId"], read_only)
    stored = endpoints.endpoint(made["VpcEndpointId"])["PolicyDocument"]
    assert json.loads(changed["PolicyDocument"]) == json.loads(stored) == read_only
    assert "dynamodb:PutItem" in endpoints.note_app_actions_refused(read_only)
    restored = endpoints.set_policy(made["VpcEndpointId"], None)
    stored = endpoints.endpoint(made["VpcEndpointId"])["PolicyDocument"]
    assert json.loads(restored["PolicyDocument"]) == json.loads(stored)
    assert json.loads(stored) == endpoints.FULL_ACCESS_POLICY


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"Version": "2012-10-17"}',
        "[1, 2]",
        '{"Statement": [{"Effect": "Maybe", "Action": "*"}]}',
    ],
)
def test_invalid_policy_is_refused_and_policy_kept(network, text):
    made = make_default(network)
    with pytest.raises(LabError) as refused:
        endpoints.set_policy(made["VpcEndpointId"], text)
    assert refused.value.code == "InvalidPolicyDocument"
    assert (
        json.loads(endpoints.endpoint(made["VpcEndpointId"])["PolicyDocument"])
        == endpoints.FULL_ACCESS_POLICY
    )


@pytest.mark.nobackend
def test_refused_actions_follow_allow_and_deny():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteItem", "Resource": "*"},
        ]
    }
    assert endpoints.note_app_actions_refused(policy) == ["dynamodb:DeleteItem"]
    assert endpoints.note_app_actions_refused({"Statement": []}) == list(endpoints.NOTE_APP_ACTIONS)


def test_ensure_chapter_on_a_fresh_backend_catches_up_chapter_01_and_is_idempotent(fresh_lab):
    chapter("03").catch_up_earlier()
    chapter("03").catch_up_earlier()
    network = networking.find_lab_network()
    found = alive_endpoints()
    assert len(found) == 1
    assert found[0]["RouteTableIds"] == network.private_route_table_ids
    assert all(c.ok for c in endpoints.check_chapter())


def test_ensure_chapter_uses_the_journal_route_tables(network):
    journal.record(
        "02",
        {
            "route_tables": [{"role": "public-route-table", "name": "vpc-private-rtb-public"}],
            "name": "my-endpoint",
            "tags": {"team": "notes"},
        },
    )
    chapter("02").catch_up(journal.choices("02"))
    made = endpoints.find_lab_endpoint()
    assert made["RouteTableIds"] == network.public_route_table_ids
    found = tags.from_aws(made["Tags"])
    assert found["Name"] == "my-endpoint" and found["team"] == "notes"


def test_ensure_chapter_repairs_a_missing_route(network):
    made = make_default(network)
    pl = endpoints.prefix_list(endpoints.dynamodb_service_name()).id
    private = network.private_route_table_ids[0]
    client("ec2").delete_route(RouteTableId=private, DestinationPrefixListId=pl)
    chapter("02").catch_up({})
    assert routes_to(private, pl) == [made["VpcEndpointId"]]
    assert len(alive_endpoints()) == 1


def test_show_explains_when_there_is_no_endpoint_yet(network):
    with pytest.raises(LabError) as missing:
        endpoints.current_snapshot()
    assert "Create endpoint" in missing.value.message
    made = make_default(network)
    assert endpoints.current_snapshot().endpoint["VpcEndpointId"] == made["VpcEndpointId"]


def test_check_chapter_names_what_is_missing(network):
    assert [c.ok for c in endpoints.check_chapter()] == [False]
    made = make_default(network)
    assert all(c.ok for c in endpoints.check_chapter())
    endpoints.set_route_tables(made["VpcEndpointId"], remove=network.private_route_table_ids)
    failed = [c for c in endpoints.check_chapter() if not c.ok]
    assert len(failed) == 1 and "vpc-private-subnet-private1" in failed[0].what
    endpoints.set_policy(
        made["VpcEndpointId"],
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"}
            ]
        },
    )
    assert any("PutItem" in c.detail for c in endpoints.check_chapter() if not c.ok)


def test_look_alike_without_lab_tags_is_ignored(network):
    client("ec2").create_vpc_endpoint(
        VpcId=network.vpc_id,
        ServiceName=endpoints.dynamodb_service_name(),
        VpcEndpointType="Gateway",
        RouteTableIds=[],
        TagSpecifications=tags.tag_specification(
            "vpc-endpoint", {"Name": "vpc-endpoint-lambda-dynamodb"}
        ),
    )
    assert endpoints.find_lab_endpoint() is None
    made = make_default(network)
    assert endpoints.find_lab_endpoint()["VpcEndpointId"] == made["VpcEndpointId"]


def test_ensure_chapter_without_the_lab_network_explains_and_creates_nothing(fresh_lab):
    with pytest.raises(LabError) as missing:
        chapter("02").catch_up({})
    assert missing.value.key == "endpoints.no_lab_network"
    assert alive_endpoints() == []


def test_request_from_choices_resolves_journal_names_to_todays_ids(network):
    request = request_from_choices(
        {"route_tables": [{"role": "public-route-table", "name": "vpc-private-rtb-public"}]}
    )
    assert request.vpc_id == network.vpc_id
    assert request.route_table_ids == network.public_route_table_ids
    assert request.service_name == endpoints.dynamodb_service_name()
    assert request_from_choices({}).route_table_ids == network.private_route_table_ids
