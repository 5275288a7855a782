"""Chapter 01's network: the wizard's plan, idempotent creation, finding by tags, checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import chapter
from helpers.aws import networking
from helpers.aws.networking import build
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.core.tags import as_aws, from_aws, tag_specification
from helpers.instructor import notebook_client
from helpers.views.network import Connection, resource_map_svg, route_table_html, vpc_overview_html

DEFAULT_PUBLIC = "vpc-private-subnet-public1-us-east-1a"
DEFAULT_PRIVATE = "vpc-private-subnet-private1-us-east-1a"


def ec2():
    return client("ec2")


def by_name(resources: list[dict]) -> dict[str, dict]:
    return {networking.name_of(r): r for r in resources}


def lab_vpcs() -> list[dict]:
    return [v for v in ec2().describe_vpcs()["Vpcs"] if networking.is_lab_vpc(v)]


def subnets_of(vpc_id: str) -> dict[str, dict]:
    return by_name(
        ec2().describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    )


def route_tables_of(vpc_id: str) -> dict[str, dict]:
    return by_name(networking.describe_route_tables(vpc_id))


def default_route(route_table: dict) -> dict | None:
    return next(
        (r for r in route_table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None
    )


def quiet(_text: str) -> None:
    """Progress lines are not under test here."""


# --- the plan (no backend) -------------------------------------------------------------------
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


@pytest.mark.nobackend
def test_default_plan_has_the_consoles_names_and_cidrs():
    plan = networking.plan_network({}, ZONES)
    assert plan.vpc_name == "vpc-private-vpc"
    assert [(s.name, s.cidr) for s in plan.subnets] == [
        (DEFAULT_PUBLIC, "10.0.0.0/20"),
        (DEFAULT_PRIVATE, "10.0.128.0/20"),
    ]
    assert [(r.name, r.subnet_slots) for r in plan.route_tables] == [
        ("vpc-private-rtb-public", ("public1",)),
        ("vpc-private-rtb-private1-us-east-1a", ("private1",)),
    ]
    assert plan.internet_gateway_name == "vpc-private-igw"
    assert plan.nat_gateways == ()


@pytest.mark.nobackend
def test_two_zones_two_private_subnets_each_and_a_nat_gateway_per_zone():
    plan = networking.plan_network(
        {
            "name_prefix": "demo",
            "cidr": "10.20.0.0/16",
            "azs": 2,
            "public_subnets": 2,
            "private_subnets": 4,
            "nat_gateways": networking.NAT_PER_AZ,
        },
        ZONES,
    )
    assert [(s.name, s.cidr) for s in plan.subnets] == [
        ("demo-subnet-public1-us-east-1a", "10.20.0.0/20"),
        ("demo-subnet-public2-us-east-1b", "10.20.16.0/20"),
        ("demo-subnet-private1-us-east-1a", "10.20.128.0/20"),
        ("demo-subnet-private2-us-east-1b", "10.20.144.0/20"),
        ("demo-subnet-private3-us-east-1a", "10.20.160.0/20"),
        ("demo-subnet-private4-us-east-1b", "10.20.176.0/20"),
    ]
    assert [(n.name, n.elastic_ip_name, n.subnet_slot) for n in plan.nat_gateways] == [
        ("demo-nat-public1-us-east-1a", "demo-eip-us-east-1a", "public1"),
        ("demo-nat-public2-us-east-1b", "demo-eip-us-east-1b", "public2"),
    ]
    private_tables = {r.name: r.nat_slot for r in plan.route_tables if r.nat_slot}
    assert private_tables == {
        "demo-rtb-private1-us-east-1a": "nat1",
        "demo-rtb-private2-us-east-1b": "nat2",
        "demo-rtb-private3-us-east-1a": "nat1",
        "demo-rtb-private4-us-east-1b": "nat2",
    }


@pytest.mark.nobackend
def test_one_nat_gateway_serves_every_private_route_table():
    plan = networking.plan_network(
        {
            "azs": 3,
            "public_subnets": 3,
            "private_subnets": 3,
            "nat_gateways": networking.NAT_ONE_AZ,
        },
        ZONES,
    )
    assert [n.zone for n in plan.nat_gateways] == ["us-east-1a"]
    assert {r.nat_slot for r in plan.route_tables if r.role == "private-route-table"} == {"nat1"}


@pytest.mark.nobackend
def test_small_vpc_gets_the_smallest_subnets_aws_allows():
    plan = networking.plan_network({"cidr": "192.168.1.0/24"}, ZONES)
    assert [s.cidr for s in plan.subnets] == ["192.168.1.0/28", "192.168.1.128/28"]


@pytest.mark.nobackend
def test_no_public_subnets_means_no_internet_gateway_and_no_public_route_table():
    plan = networking.plan_network({"public_subnets": 0}, ZONES)
    assert plan.internet_gateway_name is None
    assert [r.role for r in plan.route_tables] == ["private-route-table"]


# --- creating and finding ----------------------------------------------------------------------
def test_ensure_chapter_with_defaults_builds_the_workshops_network(fresh_lab):
    summary = chapter("01").catch_up({})
    network = networking.find_lab_network()
    assert network.vpc_id in summary and "10.0.0.0/16" in summary
    assert (network.name_prefix, network.cidr) == ("vpc-private", "10.0.0.0/16")
    subnets = subnets_of(network.vpc_id)
    assert subnets[DEFAULT_PUBLIC]["CidrBlock"] == "10.0.0.0/20"
    assert subnets[DEFAULT_PRIVATE]["CidrBlock"] == "10.0.128.0/20"
    assert network.public_subnet_ids == [subnets[DEFAULT_PUBLIC]["SubnetId"]]
    assert network.private_subnet_ids == [subnets[DEFAULT_PRIVATE]["SubnetId"]]
    for name, subnet in subnets.items():
        role = from_aws(subnet["Tags"])["lab:role"]
        assert role == ("public-subnet" if "public" in name else "private-subnet")
        assert subnet["AvailabilityZone"] == "us-east-1a"

    tables = route_tables_of(network.vpc_id)
    public = tables["vpc-private-rtb-public"]
    private = tables["vpc-private-rtb-private1-us-east-1a"]
    assert network.public_route_table_ids == [public["RouteTableId"]]
    assert network.private_route_table_ids == [private["RouteTableId"]]
    assert networking.associated_subnet_ids(public) == network.public_subnet_ids
    assert networking.associated_subnet_ids(private) == network.private_subnet_ids
    assert networking.route_target(default_route(public)) == network.internet_gateway_id
    assert [networking.route_target(r) for r in private["Routes"]] == ["local"]

    main = networking.main_route_table(network.vpc_id)
    assert main["RouteTableId"] == network.main_route_table_id
    assert from_aws(main["Tags"])["lab:role"] == "main-route-table"
    gateway = ec2().describe_internet_gateways(InternetGatewayIds=[network.internet_gateway_id])[
        "InternetGateways"
    ][0]
    assert networking.name_of(gateway) == "vpc-private-igw"
    assert gateway["Attachments"][0]["VpcId"] == network.vpc_id
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        answer = ec2().describe_vpc_attribute(VpcId=network.vpc_id, Attribute=attribute)
        assert answer[attribute[0].upper() + attribute[1:]]["Value"] is True


def test_every_resource_carries_the_lab_tags_with_its_role(fresh_lab):
    networking.ensure_network({}, quiet)
    network = networking.find_lab_network()
    vpc = ec2().describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"][0]
    gateway = ec2().describe_internet_gateways(InternetGatewayIds=[network.internet_gateway_id])[
        "InternetGateways"
    ][0]
    resources = [
        vpc,
        gateway,
        *subnets_of(network.vpc_id).values(),
        *networking.describe_route_tables(network.vpc_id),
    ]
    roles = sorted(from_aws(r["Tags"])["lab:role"] for r in resources)
    assert roles == sorted(
        [
            "vpc",
            "internet-gateway",
            "public-subnet",
            "private-subnet",
            "main-route-table",
            "public-route-table",
            "private-route-table",
        ]
    )
    assert all(from_aws(r["Tags"])["lab"] == "vpc-endpoint-lab" for r in resources)
    assert all(from_aws(r["Tags"])["lab:chapter"] == "01" for r in resources)


def test_ensuring_twice_makes_nothing_new(fresh_lab):
    first = networking.ensure_network({}, quiet)
    second = networking.ensure_network({}, quiet)
    assert len(first.created) == 6 and second.created == []
    assert second.reused_existing_vpc
    assert len(lab_vpcs()) == 1
    assert len(subnets_of(first.network.vpc_id)) == 2
    assert len(networking.describe_route_tables(first.network.vpc_id)) == 3
    assert second.network == first.network
    assert "already there" in networking.summary(second)


def test_a_half_made_network_is_finished_as_it_was_planned(fresh_lab):
    planned = {
        "name_prefix": "half",
        "cidr": "10.9.0.0/16",
        "azs": 2,
        "public_subnets": 2,
        "private_subnets": 2,
    }
    first = networking.ensure_network(planned, quiet).network
    for table_id in first.public_route_table_ids + first.private_route_table_ids:
        table = ec2().describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        for association in table["Associations"]:
            ec2().disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2().delete_route_table(RouteTableId=table_id)
    for subnet_id in first.public_subnet_ids + first.private_subnet_ids:
        ec2().delete_subnet(SubnetId=subnet_id)
    ec2().detach_internet_gateway(InternetGatewayId=first.internet_gateway_id, VpcId=first.vpc_id)
    assert networking.find_lab_network().private_subnet_ids == []

    # Catch-up with no journal ({} = defaults) must still finish THIS VPC as it was planned.
    result = networking.ensure_network({}, quiet)
    assert result.reused_existing_vpc and len(lab_vpcs()) == 1
    again = result.network
    assert again.vpc_id == first.vpc_id
    assert again.internet_gateway_id == first.internet_gateway_id
    subnets = subnets_of(again.vpc_id)
    assert {name: s["CidrBlock"] for name, s in subnets.items()} == {
        "half-subnet-public1-us-east-1a": "10.9.0.0/20",
        "half-subnet-public2-us-east-1b": "10.9.16.0/20",
        "half-subnet-private1-us-east-1a": "10.9.128.0/20",
        "half-subnet-private2-us-east-1b": "10.9.144.0/20",
    }
    tables = route_tables_of(again.vpc_id)
    assert (
        networking.route_target(default_route(tables["half-rtb-public"]))
        == first.internet_gateway_id
    )
    assert networking.associated_subnet_ids(tables["half-rtb-private2-us-east-1b"]) == [
        subnets["half-subnet-private2-us-east-1b"]["SubnetId"]
    ]


def test_a_lost_default_route_and_a_wrong_association_are_repaired(fresh_lab):
    network = networking.ensure_network({}, quiet).network
    public_table = network.public_route_table_ids[0]
    ec2().delete_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0")
    private_table = ec2().describe_route_tables(RouteTableIds=network.private_route_table_ids)[
        "RouteTables"
    ][0]
    ec2().replace_route_table_association(
        AssociationId=private_table["Associations"][0]["RouteTableAssociationId"],
        RouteTableId=network.public_route_table_ids[0],
    )

    networking.ensure_network({}, quiet)
    tables = {t["RouteTableId"]: t for t in networking.describe_route_tables(network.vpc_id)}
    assert (
        networking.route_target(default_route(tables[public_table])) == network.internet_gateway_id
    )
    assert (
        networking.associated_subnet_ids(tables[network.private_route_table_ids[0]])
        == network.private_subnet_ids
    )


def test_look_alike_vpc_without_lab_tags_is_ignored(fresh_lab):
    decoy = ec2().create_vpc(
        CidrBlock="192.168.0.0/16",
        TagSpecifications=tag_specification("vpc", {"Name": "vpc-private-vpc"}),
    )["Vpc"]["VpcId"]
    ec2().create_subnet(
        VpcId=decoy,
        CidrBlock="192.168.0.0/20",
        TagSpecifications=(tag_specification("subnet", {"Name": DEFAULT_PRIVATE})),
    )
    assert networking.find_lab_network() is None

    chapter("01").catch_up({})
    network = networking.find_lab_network()
    assert network.vpc_id != decoy and network.cidr == "10.0.0.0/16"
    assert decoy not in {
        ec2().describe_subnets(SubnetIds=[s])["Subnets"][0]["VpcId"]
        for s in network.private_subnet_ids
    }
    assert len(subnets_of(decoy)) == 1  # the learner's own VPC is left alone


def test_defaults_overlapping_a_learners_own_vpc_build_the_labs_vpc_beside_it(fresh_lab):
    learner = ec2().create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=tag_specification("vpc", {"Name": "vpc-private-vpc"}),
    )["Vpc"]["VpcId"]
    vpcs_before = len(ec2().describe_vpcs()["Vpcs"])
    chapter("01").catch_up({})
    network = networking.find_lab_network()
    assert network.vpc_id != learner and network.cidr == "10.0.0.0/16"
    assert len(ec2().describe_vpcs()["Vpcs"]) == vpcs_before + 1
    warning = networking.warnings({})[0]
    assert warning.key == "networking.cidr_overlaps" and learner in warning.message
    assert "10.1.0.0/16" in warning.message


def test_wizard_choices_are_kept_on_the_vpc(fresh_lab):
    choices = {
        "name_prefix": "kept",
        "cidr": "10.7.0.0/20",
        "azs": 2,
        "public_subnets": 0,
        "private_subnets": 4,
        "dns_hostnames": False,
    }
    network = networking.ensure_network(choices, quiet).network
    vpc = ec2().describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"][0]
    stored = networking.wizard_choices(vpc)
    assert stored["zones"] == ["us-east-1a", "us-east-1b"]
    assert {k: stored[k] for k in choices} == choices
    assert network.internet_gateway_id is None and network.public_subnet_ids == []
    assert (
        ec2().describe_vpc_attribute(VpcId=network.vpc_id, Attribute="enableDnsHostnames")[
            "EnableDnsHostnames"
        ]["Value"]
        is False
    )


def test_nat_gateway_per_zone_routes_each_private_table_to_its_own_zone(fresh_lab):
    network = networking.ensure_network(
        {
            "azs": 2,
            "public_subnets": 2,
            "private_subnets": 2,
            "nat_gateways": networking.NAT_PER_AZ,
        },
        quiet,
    ).network
    gateways = ec2().describe_nat_gateways(NatGatewayIds=network.nat_gateway_ids)["NatGateways"]
    assert len(gateways) == 2 and {g["State"] for g in gateways} == {"available"}
    zone_of_subnet = {
        s["SubnetId"]: s["AvailabilityZone"] for s in subnets_of(network.vpc_id).values()
    }
    gateway_zone = {g["NatGatewayId"]: zone_of_subnet[g["SubnetId"]] for g in gateways}
    assert all(g["SubnetId"] in network.public_subnet_ids for g in gateways)
    for table in ec2().describe_route_tables(RouteTableIds=network.private_route_table_ids)[
        "RouteTables"
    ]:
        subnet_zone = zone_of_subnet[networking.associated_subnet_ids(table)[0]]
        assert gateway_zone[networking.route_target(default_route(table))] == subnet_zone
    addresses = ec2().describe_addresses(
        Filters=[{"Name": "tag:lab:role", "Values": ["elastic-ip"]}]
    )["Addresses"]
    assert sorted(networking.name_of(a) for a in addresses) == [
        "vpc-private-eip-us-east-1a",
        "vpc-private-eip-us-east-1b",
    ]
    networking.ensure_network({}, quiet)
    assert len(networking.find_lab_network().nat_gateway_ids) == 2
    assert len(ec2().describe_addresses()["Addresses"]) == 2


class _PendingNat:
    """An EC2 stand-in whose NAT gateway is pending before it becomes ``final``."""

    def __init__(self, final: str):
        self.states = ["pending", final]

    def describe_nat_gateways(self, NatGatewayIds):
        return {"NatGateways": [{"NatGatewayId": NatGatewayIds[0], "State": self.states.pop(0)}]}


def test_waiting_for_a_nat_gateway_reports_progress(fresh_lab, monkeypatch):
    monkeypatch.setattr(build, "NAT_POLL_SECONDS", 0)
    lines = []
    builder = build._Builder(networking.plan_network({}, ZONES), lines.append)
    builder.ec2 = _PendingNat("available")
    assert (
        builder._wait_available({"NatGatewayId": "nat-0123456789abcdef0", "State": "pending"})
        == "nat-0123456789abcdef0"
    )
    assert any("nat-0123456789abcdef0" in line and "waiting" in line for line in lines)


def test_a_failed_nat_gateway_is_reported_not_waited_for_forever(fresh_lab, monkeypatch):
    monkeypatch.setattr(build, "NAT_POLL_SECONDS", 0)
    builder = build._Builder(networking.plan_network({}, ZONES), quiet)
    builder.ec2 = _PendingNat("failed")
    with pytest.raises(LabError) as failed:
        builder._wait_available({"NatGatewayId": "nat-0123456789abcdef0", "State": "pending"})
    assert failed.value.code == "networking.nat_failed" and "failed" in failed.value.message


# --- lists other chapters use ---------------------------------------------------------------------
def test_vpc_choices_list_every_vpc_the_lab_one_first_and_the_default_one(fresh_lab):
    network = networking.ensure_network({}, quiet).network
    other = ec2().create_vpc(CidrBlock="192.168.0.0/24")["Vpc"]["VpcId"]
    choices = networking.vpc_choices()
    assert choices[0] == (f"{network.vpc_id} (vpc-private-vpc) 10.0.0.0/16", network.vpc_id)
    labels = dict((value, label) for label, value in choices)
    default = next(v for v in ec2().describe_vpcs()["Vpcs"] if v["IsDefault"])
    assert labels[default["VpcId"]] == f"{default['VpcId']} (default VPC) {default['CidrBlock']}"
    assert labels[other] == f"{other} 192.168.0.0/24"
    assert len(choices) == 3


def test_describe_route_tables_lists_the_main_one_first_then_the_wizards_order(fresh_lab):
    network = networking.ensure_network(
        {"azs": 2, "public_subnets": 2, "private_subnets": 4}, quiet
    ).network
    tables = networking.describe_route_tables(network.vpc_id)
    assert tables[0]["RouteTableId"] == network.main_route_table_id
    assert [networking.name_of(t) for t in tables[1:]] == [
        "vpc-private-rtb-public",
        "vpc-private-rtb-private1-us-east-1a",
        "vpc-private-rtb-private2-us-east-1b",
        "vpc-private-rtb-private3-us-east-1a",
        "vpc-private-rtb-private4-us-east-1b",
    ]
    assert (
        networking.subnet_names(network.vpc_id)[network.private_subnet_ids[3]]
        == "vpc-private-subnet-private4-us-east-1b"
    )


# --- "Check your work" ----------------------------------------------------------------------------
def failing(checks) -> list[str]:
    return [c.what for c in checks if not c.ok]


def test_check_says_the_vpc_is_missing_before_chapter_01(fresh_lab):
    checks = networking.check_chapter()
    assert len(checks) == 1 and not checks[0].ok
    assert "form" in checks[0].detail


def test_check_passes_after_the_chapter(fresh_lab):
    chapter("01").catch_up({})
    checks = networking.check_chapter()
    assert failing(checks) == [] and len(checks) == 6


def test_check_names_what_is_missing_and_what_is_wrong(fresh_lab):
    network = networking.ensure_network({}, quiet).network
    private_table = ec2().describe_route_tables(RouteTableIds=network.private_route_table_ids)[
        "RouteTables"
    ][0]
    ec2().disassociate_route_table(
        AssociationId=private_table["Associations"][0]["RouteTableAssociationId"]
    )
    ec2().create_route(
        RouteTableId=network.private_route_table_ids[0],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=network.internet_gateway_id,
    )
    ec2().delete_subnet(SubnetId=network.public_subnet_ids[0])
    ec2().modify_vpc_attribute(VpcId=network.vpc_id, EnableDnsHostnames={"Value": False})
    ec2().modify_vpc_attribute(VpcId=network.vpc_id, EnableDnsSupport={"Value": False})

    checks = {c.what: c for c in networking.check_chapter()}
    wrong = {what: c.detail for what, c in checks.items() if not c.ok}
    assert len(wrong) == 3
    assert any(DEFAULT_PUBLIC in detail for detail in wrong.values())
    assert any("DNS resolution is off" in detail for detail in wrong.values())
    assert any(DEFAULT_PRIVATE in detail and "main" in detail for detail in wrong.values())


def test_check_spots_a_private_subnet_routed_to_the_internet(fresh_lab):
    network = networking.ensure_network({}, quiet).network
    ec2().create_route(
        RouteTableId=network.private_route_table_ids[0],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=network.internet_gateway_id,
    )
    wrong = [c for c in networking.check_chapter() if not c.ok]
    assert len(wrong) == 1 and DEFAULT_PRIVATE in wrong[0].detail


# --- pictures and tables --------------------------------------------------------------------------
def _fake_network():
    vpc = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "Tags": as_aws({"Name": "demo<vpc>"})}
    subnets = [
        {
            "SubnetId": "subnet-pub",
            "CidrBlock": "10.0.0.0/20",
            "AvailabilityZone": "zone-a",
            "Tags": as_aws({"Name": "demo-public"}),
        },
        {
            "SubnetId": "subnet-priv",
            "CidrBlock": "10.0.128.0/20",
            "AvailabilityZone": "zone-a",
            "Tags": as_aws({"Name": "demo-private"}),
        },
        {"SubnetId": "subnet-loose", "CidrBlock": "10.0.64.0/20", "AvailabilityZone": "zone-a"},
    ]
    local = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}
    tables = [
        {
            "RouteTableId": "rtb-main",
            "Routes": [local],
            "Associations": [{"Main": True, "RouteTableId": "rtb-main"}],
        },
        {
            "RouteTableId": "rtb-pub",
            "Tags": as_aws({"Name": "demo-rtb-public"}),
            "Routes": [
                local,
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"},
            ],
            "Associations": [
                {
                    "SubnetId": "subnet-pub",
                    "RouteTableAssociationId": "a1",
                    "AssociationState": {"State": "associated"},
                }
            ],
        },
        {
            "RouteTableId": "rtb-priv",
            "Tags": as_aws({"Name": "demo-rtb-private"}),
            "Routes": [
                local,
                {
                    "DestinationPrefixListId": "pl-02cd2c6b",
                    "GatewayId": "vpce-9",
                    "State": "active",
                },
            ],
            "Associations": [
                {
                    "SubnetId": "subnet-priv",
                    "RouteTableAssociationId": "a2",
                    "AssociationState": {"State": "associated"},
                }
            ],
        },
    ]
    connections = [
        Connection("igw-1", "Internet gateway", "demo-igw"),
        Connection("vpce-9", "VPC endpoint (Gateway)", "demo-endpoint"),
    ]
    return vpc, subnets, tables, connections


@pytest.mark.nobackend
def test_resource_map_draws_each_association_and_route_as_a_line():
    svg = resource_map_svg(*_fake_network())
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "demo&lt;vpc&gt;" in svg and "demo<vpc>" not in svg
    assert svg.count("class='lab-map-public-subnet'") == 1  # routed to an internet gateway
    assert svg.count("class='lab-map-private-subnet'") == 2
    assert svg.count("class='lab-map-main-route-table'") == 1
    assert svg.count("class='lab-map-connection'") == 2
    # VPC → 3 subnets, 3 subnets → their tables (the loose one → main), 2 tables → targets
    assert svg.count("class='lab-map-edge'") == 3 + 3 + 2


@pytest.mark.nobackend
def test_route_table_html_highlights_the_chosen_route_and_names_its_subnets():
    _, _, tables, _ = _fake_network()
    html = route_table_html(
        tables[2],
        {"subnet-priv": "demo-private"},
        highlight=lambda route: route.get("GatewayId", "").startswith("vpce-"),
    )
    assert "demo-rtb-private (rtb-priv)" in html and "demo-private" in html
    rows = html.split("<tr")[2:]
    assert "local" in rows[0] and "lab-new" not in rows[0]
    assert "pl-02cd2c6b" in rows[1] and "vpce-9" in rows[1] and "lab-new" in rows[1]
    main_html = route_table_html(tables[0], {})
    assert "main route table (rtb-main)" in main_html and "use the main one" in main_html


def test_vpc_overview_shows_the_map_and_every_route_table(fresh_lab):
    network = networking.ensure_network({}, quiet).network
    html = vpc_overview_html(network.vpc_id)
    assert html.count("<svg") == 1 and html.count("<table") == 3
    for name in (
        "vpc-private-vpc",
        DEFAULT_PUBLIC,
        DEFAULT_PRIVATE,
        "vpc-private-rtb-public",
        "vpc-private-rtb-private1-us-east-1a",
        "vpc-private-igw",
        network.main_route_table_id,
    ):
        assert name in html


# --- the notebook ---------------------------------------------------------------------------------
NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "notebooks" / "01-create-vpc-subnet-route-table.ipynb"
)


def _run_notebook() -> list[tuple[str, str]]:
    """Execute notebook 01 top to bottom; each code cell's source and the HTML it displayed."""
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with notebook_client(notebook, NOTEBOOK.parent, timeout=300) as runner:
        runner.execute()
    return [
        (
            cell.source,
            "".join(output.get("data", {}).get("text/html", "") for output in cell.outputs),
        )
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def _output_of(outputs: list[tuple[str, str]], call: str) -> str:
    """The HTML of the one cell whose source calls ``call`` (cells are found by what they do,
    not by their place: chapters gain cells)."""
    (html,) = [html for source, html in outputs if call in source]
    return html


def test_notebook_run_twice_on_one_backend_makes_one_network(fresh_lab):
    first = _run_notebook()
    after_first = (
        networking.find_lab_network(),
        len(ec2().describe_vpcs()["Vpcs"]),
        len(ec2().describe_subnets()["Subnets"]),
        len(ec2().describe_route_tables()["RouteTables"]),
    )
    second = _run_notebook()
    after_second = (
        networking.find_lab_network(),
        len(ec2().describe_vpcs()["Vpcs"]),
        len(ec2().describe_subnets()["Subnets"]),
        len(ec2().describe_route_tables()["RouteTables"]),
    )
    assert after_first[0] is not None and after_first == after_second
    assert lab_vpcs() and len(lab_vpcs()) == 1
    for outputs in (first, second):
        check_cell = _output_of(outputs, "ch.check()")
        assert "lab-check-ok" in check_cell and "lab-check-missing" not in check_cell
        refusal_cell = _output_of(outputs, "ch.attempts(")
        assert refusal_cell.count("[InvalidParameterValue]") == 1
        assert refusal_cell.count("[InvalidVpc.Range]") == 1
        assert refusal_cell.count("overlaps the addresses of VPC") == 1
        assert "[networking." not in refusal_cell  # the lab's own keys are not AWS codes
        overview = _output_of(outputs, "ch.show()")
        assert "<svg" in overview and "vpc-private-rtb-private1-us-east-1a" in overview
