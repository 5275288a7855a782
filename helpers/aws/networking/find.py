"""Looking chapter 01's network up: the lab's resources by their tags, never by name.

``find_lab_network`` and the describe helpers let later chapters find the VPC, its subnets and
route tables; the route helpers read AWS's route tables the way the console shows them. The
region's Availability Zones and the console's VPC labels are looked up here too, for the plan
and the forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from helpers.aws.networking.roles import (
    CHAPTER,
    PREFIX_KEY,
    ROLE_ELASTIC_IP,
    ROLE_INTERNET_GATEWAY,
    ROLE_MAIN_ROUTE_TABLE,
    ROLE_NAT_GATEWAY,
    ROLE_PRIVATE_ROUTE_TABLE,
    ROLE_PRIVATE_SUBNET,
    ROLE_PUBLIC_ROUTE_TABLE,
    ROLE_PUBLIC_SUBNET,
    ROLE_VPC,
    VPC_KEY,
    name_of,
    role_of,
    slot_of,
)
from helpers.core.clients import client, friendly_errors
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import CHAPTER_KEY, ROLE_KEY, ec2_filters, from_aws, is_lab_resource

EVERYWHERE = "0.0.0.0/0"  # a default route's destination

_zones_cache: dict[tuple, list[str]] = {}


def availability_zones() -> list[str]:
    """The lab region's Availability Zones (not Local or Wavelength Zones), in name order."""
    settings = current()
    key = (settings.backend, settings.region, settings.endpoint_url)
    if key not in _zones_cache:
        answer = client("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}]
        )
        _zones_cache[key] = sorted(
            zone["ZoneName"]
            for zone in answer["AvailabilityZones"]
            if zone.get("ZoneType", "availability-zone") == "availability-zone"
        )
    return _zones_cache[key]


def is_lab_vpc(vpc: dict) -> bool:
    found = from_aws(vpc.get("Tags"))
    return (
        is_lab_resource(found)
        and found.get(ROLE_KEY) == ROLE_VPC
        and found.get(CHAPTER_KEY) == CHAPTER
    )


def vpc_label(vpc: dict) -> str:
    """The console's way of naming a VPC in a list: ``vpc-id (Name) CIDR``."""
    name = name_of(vpc) or (t("networking.default_vpc") if vpc.get("IsDefault") else "")
    return (
        f"{vpc['VpcId']} ({name}) {vpc['CidrBlock']}"
        if name
        else f"{vpc['VpcId']} {vpc['CidrBlock']}"
    )


# One request shape per kind (every VPC of the region; a VPC's subnets; a VPC's route tables),
# the rest picked out here: an action's read cache then answers every look-up after the first.
def region_vpcs() -> list[dict]:
    """Every VPC of the region, as AWS describes them (a region holds a handful)."""
    return client("ec2").describe_vpcs()["Vpcs"]


def vpc_by_id(vpc_id: str) -> dict | None:
    return next((vpc for vpc in region_vpcs() if vpc["VpcId"] == vpc_id), None)


def vpc_choices() -> list[tuple[str, str]]:
    """Every VPC of the region as ``(label, vpc_id)``, the lab's first, the default VPC too."""
    vpcs = region_vpcs()
    vpcs.sort(key=lambda vpc: (not is_lab_vpc(vpc), not vpc.get("IsDefault"), vpc["VpcId"]))
    return [(vpc_label(vpc), vpc["VpcId"]) for vpc in vpcs]


_ROLE_ORDER = (
    ROLE_VPC,
    ROLE_MAIN_ROUTE_TABLE,
    ROLE_PUBLIC_SUBNET,
    ROLE_PUBLIC_ROUTE_TABLE,
    ROLE_PRIVATE_SUBNET,
    ROLE_PRIVATE_ROUTE_TABLE,
    ROLE_INTERNET_GATEWAY,
    ROLE_ELASTIC_IP,
    ROLE_NAT_GATEWAY,
)


def _slot_order(resource: dict) -> tuple:
    """The wizard's order: public before private, then by number (private2 before private10)."""
    role = role_of(resource)
    rank = _ROLE_ORDER.index(role) if role in _ROLE_ORDER else len(_ROLE_ORDER)
    digits = "".join(c for c in slot_of(resource) if c.isdigit())
    return (rank, int(digits) if digits else 0, name_of(resource))


def find_lab_vpc() -> dict | None:
    """The lab's VPC as AWS describes it, found by the lab's tags, or None."""
    vpcs = [vpc for vpc in region_vpcs() if is_lab_vpc(vpc) and vpc.get("State") != "deleted"]
    return min(vpcs, key=lambda vpc: vpc["VpcId"]) if vpcs else None


def _in_vpc(vpc_id: str) -> list[dict]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


def _made_by_chapter(resource: dict) -> bool:
    tags = from_aws(resource.get("Tags"))
    return is_lab_resource(tags) and tags.get(CHAPTER_KEY) == CHAPTER


def _vpc_subnets(vpc_id: str) -> list[dict]:
    return client("ec2").describe_subnets(Filters=_in_vpc(vpc_id))["Subnets"]


def _vpc_route_tables(vpc_id: str) -> list[dict]:
    return client("ec2").describe_route_tables(Filters=_in_vpc(vpc_id))["RouteTables"]


def vpc_security_groups(vpc_id: str) -> list[dict]:
    """Every security group of ``vpc_id`` (AWS's shape)."""
    return client("ec2").describe_security_groups(Filters=_in_vpc(vpc_id))["SecurityGroups"]


def _by_id(ids, in_vpc: list[dict], key: str, describe_by_id) -> dict[str, dict]:
    """The resources with these ``ids`` that exist, by id: picked out of a VPC's (the read an
    action shares), only the others (another VPC's, or none) asked for by id."""
    found = {item[key]: item for item in in_vpc if item[key] in ids}
    elsewhere = [i for i in dict.fromkeys(ids) if i not in found]
    if elsewhere:
        found.update({item[key]: item for item in describe_by_id(elsewhere)})
    return found


def subnets_by_id(subnet_ids, vpc_id: str | None = None) -> dict[str, dict]:
    """``{subnet_id: subnet}`` for those of ``subnet_ids`` that exist (see ``_by_id``)."""
    return _by_id(
        subnet_ids,
        _vpc_subnets(vpc_id) if vpc_id and subnet_ids else [],
        "SubnetId",
        lambda ids: client("ec2").describe_subnets(Filters=[{"Name": "subnet-id", "Values": ids}])[
            "Subnets"
        ],
    )


def security_groups_by_id(group_ids, vpc_id: str | None = None) -> dict[str, dict]:
    """``{group_id: group}`` for those of ``group_ids`` that exist (see ``_by_id``)."""
    return _by_id(
        group_ids,
        vpc_security_groups(vpc_id) if vpc_id and group_ids else [],
        "GroupId",
        lambda ids: client("ec2").describe_security_groups(
            Filters=[{"Name": "group-id", "Values": ids}]
        )["SecurityGroups"],
    )


def lab_subnets(vpc_id: str) -> list[dict]:
    return sorted(filter(_made_by_chapter, _vpc_subnets(vpc_id)), key=_slot_order)


def lab_route_tables(vpc_id: str) -> list[dict]:
    return sorted(filter(_made_by_chapter, _vpc_route_tables(vpc_id)), key=_slot_order)


def lab_public_route_table_ids(vpc_id: str) -> list[str]:
    """The wizard's public route tables in ``vpc_id``, picked out of the VPC's route tables (the
    read an endpoint change makes anyway), without looking the lab's network up."""
    return [
        table["RouteTableId"]
        for table in lab_route_tables(vpc_id)
        if role_of(table) == ROLE_PUBLIC_ROUTE_TABLE
    ]


def lab_internet_gateways(vpc_id: str) -> list[dict]:
    """The lab's internet gateways made for ``vpc_id`` (attached or not yet)."""
    return client("ec2").describe_internet_gateways(
        Filters=[
            *ec2_filters(ROLE_INTERNET_GATEWAY, CHAPTER),
            {"Name": f"tag:{VPC_KEY}", "Values": [vpc_id]},
        ]
    )["InternetGateways"]


def lab_nat_gateways(vpc_id: str) -> list[dict]:
    gateways = client("ec2").describe_nat_gateways(
        Filters=[
            *ec2_filters(ROLE_NAT_GATEWAY, CHAPTER),
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "state", "Values": ["pending", "available"]},
        ]
    )["NatGateways"]
    return sorted(gateways, key=_slot_order)


def lab_elastic_ips(vpc_id: str) -> list[dict]:
    return client("ec2").describe_addresses(
        Filters=[
            *ec2_filters(ROLE_ELASTIC_IP, CHAPTER),
            {"Name": f"tag:{VPC_KEY}", "Values": [vpc_id]},
        ]
    )["Addresses"]


@dataclass
class LabNetwork:
    """The lab's VPC and what the wizard made in it, found by the lab's tags."""

    vpc_id: str
    name_prefix: str
    cidr: str
    public_subnet_ids: list[str] = field(default_factory=list)
    private_subnet_ids: list[str] = field(default_factory=list)
    public_route_table_ids: list[str] = field(default_factory=list)
    private_route_table_ids: list[str] = field(default_factory=list)
    main_route_table_id: str = ""

    # The gateways are read when first asked for: most callers (a form's judgement, a later
    # chapter) need the subnets and route tables alone, and each is one more call.
    @cached_property
    def internet_gateway_id(self) -> str | None:
        """The lab's internet gateway attached to this VPC, if any."""
        attached = [
            g
            for g in lab_internet_gateways(self.vpc_id)
            if any(a.get("VpcId") == self.vpc_id for a in g.get("Attachments", []))
        ]
        return attached[0]["InternetGatewayId"] if attached else None

    @cached_property
    def nat_gateway_ids(self) -> list[str]:
        return [g["NatGatewayId"] for g in lab_nat_gateways(self.vpc_id)]


def main_route_table(vpc_id: str) -> dict | None:
    return next(filter(is_main, _vpc_route_tables(vpc_id)), None)


def network_from(vpc: dict) -> LabNetwork:
    """The lab's network in ``vpc`` (a lab VPC as AWS describes it)."""
    vpc_id = vpc["VpcId"]
    subnets = lab_subnets(vpc_id)
    tables = lab_route_tables(vpc_id)
    main = main_route_table(vpc_id)

    def ids(items, role, key):
        return [item[key] for item in items if role_of(item) == role]

    return LabNetwork(
        vpc_id=vpc_id,
        name_prefix=from_aws(vpc.get("Tags")).get(PREFIX_KEY, ""),
        cidr=vpc["CidrBlock"],
        public_subnet_ids=ids(subnets, ROLE_PUBLIC_SUBNET, "SubnetId"),
        private_subnet_ids=ids(subnets, ROLE_PRIVATE_SUBNET, "SubnetId"),
        public_route_table_ids=ids(tables, ROLE_PUBLIC_ROUTE_TABLE, "RouteTableId"),
        private_route_table_ids=ids(tables, ROLE_PRIVATE_ROUTE_TABLE, "RouteTableId"),
        main_route_table_id=main["RouteTableId"] if main else "",
    )


def find_lab_network() -> LabNetwork | None:
    """The lab's VPC and its parts, found by the lab's tags only (look-alikes are ignored)."""
    with friendly_errors():
        vpc = find_lab_vpc()
        return network_from(vpc) if vpc else None


def describe_route_tables(vpc_id: str) -> list[dict]:
    """Every route table of ``vpc_id`` (AWS's shape): the main one first, then by name."""
    with friendly_errors():
        tables = _vpc_route_tables(vpc_id)
    return sorted(
        tables, key=lambda table: (not is_main(table), _slot_order(table), table["RouteTableId"])
    )


def describe_subnets(vpc_id: str) -> list[dict]:
    """Every subnet of ``vpc_id`` (AWS's shape), the lab's in wizard order."""
    with friendly_errors():
        subnets = _vpc_subnets(vpc_id)
    return sorted(subnets, key=lambda subnet: (_slot_order(subnet), subnet["SubnetId"]))


def subnet_names(vpc_id: str) -> dict[str, str]:
    """``{subnet_id: Name}`` for every subnet of ``vpc_id`` (the id when it has no Name)."""
    return {s["SubnetId"]: name_of(s) or s["SubnetId"] for s in describe_subnets(vpc_id)}


def is_main(route_table: dict) -> bool:
    return any(a.get("Main") for a in route_table.get("Associations", []))


def associated_subnet_ids(route_table: dict) -> list[str]:
    """Subnets explicitly associated with ``route_table`` (subnets without one use the main)."""
    return [
        a["SubnetId"]
        for a in route_table.get("Associations", [])
        if a.get("SubnetId")
        and a.get("AssociationState", {}).get("State", "associated") == "associated"
    ]


def route_table_for_subnet(subnet_id: str, route_tables: list[dict]) -> dict | None:
    """The route table that routes ``subnet_id``'s traffic: its own, else the main one."""
    for table in route_tables:
        if subnet_id in associated_subnet_ids(table):
            return table
    return next((table for table in route_tables if is_main(table)), None)


def route_destination(route: dict) -> str:
    return (
        route.get("DestinationCidrBlock")
        or route.get("DestinationIpv6CidrBlock")
        or route.get("DestinationPrefixListId")
        or "?"
    )


def route_target(route: dict) -> str:
    """Where a route sends traffic: ``local``, ``igw-…``, ``nat-…``, ``vpce-…``, …"""
    for key in (
        "GatewayId",
        "NatGatewayId",
        "VpcEndpointId",
        "TransitGatewayId",
        "VpcPeeringConnectionId",
        "NetworkInterfaceId",
        "InstanceId",
        "EgressOnlyInternetGatewayId",
        "CarrierGatewayId",
        "LocalGatewayId",
    ):
        if route.get(key):
            return route[key]
    return "?"
