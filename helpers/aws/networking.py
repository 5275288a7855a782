"""Chapter 01's network: the console's "VPC and more" wizard as a plan, made idempotently.

``plan_network`` turns the wizard's choices into the exact names and CIDRs the console would
use; ``refusals`` lists what the console or AWS would refuse; ``ensure_network`` makes what is
missing of a plan (finding the lab's resources by their tags, never by name) and waits for
NAT gateways on real AWS. ``find_lab_network`` and the describe helpers let later chapters
find the VPC, its subnets and route tables.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from helpers.aws.checks import Check
from helpers.core.clients import client, friendly_errors
from helpers.core.costs import monthly, nat_gateway_hourly
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import (
    CHAPTER_KEY,
    ROLE_KEY,
    as_aws,
    ec2_filters,
    from_aws,
    is_lab_resource,
    lab_tags,
    tag_specification,
)

CHAPTER = "01"

ROLE_VPC = "vpc"
ROLE_PUBLIC_SUBNET = "public-subnet"
ROLE_PRIVATE_SUBNET = "private-subnet"
ROLE_PUBLIC_ROUTE_TABLE = "public-route-table"
ROLE_PRIVATE_ROUTE_TABLE = "private-route-table"
ROLE_MAIN_ROUTE_TABLE = "main-route-table"
ROLE_INTERNET_GATEWAY = "internet-gateway"
ROLE_NAT_GATEWAY = "nat-gateway"
ROLE_ELASTIC_IP = "elastic-ip"

# Extra tags: which planned piece a resource is (so a renamed resource is still recognised),
# which VPC an internet gateway or Elastic IP belongs to (they live outside any VPC), and the
# wizard's choices on the VPC itself (a half-made network is finished as it was planned).
SLOT_KEY = "lab:slot"
VPC_KEY = "lab:vpc"
PREFIX_KEY = "lab:name-prefix"
WIZARD_KEY = "lab:wizard"

NAT_NONE = "none"
NAT_ONE_AZ = "one-az"
NAT_PER_AZ = "per-az"
NAT_OPTIONS = (NAT_NONE, NAT_ONE_AZ, NAT_PER_AZ)

MAX_AZS = 3  # the console's wizard offers 1, 2 or 3 Availability Zones
LARGEST_VPC_PREFIX = 16  # AWS: a VPC's IPv4 block is between /16 and /28
SMALLEST_VPC_PREFIX = 28
SUBNET_SPLIT_BITS = 4  # the console's subnets are 16 times smaller than the VPC (/16 → /20)
MAX_NAME_PREFIX = 128  # leaves room for the longest suffix within EC2's 256-character tag value
# EC2 tag values: letters, digits, spaces and + - = . _ : / @
NAME_PREFIX_PATTERN = re.compile(r"^[\w +\-=._:/@]+$")
EVERYWHERE = "0.0.0.0/0"
NAT_POLL_SECONDS = 15

DEFAULT_CHOICES = {
    "name_prefix": "vpc-private",
    "cidr": "10.0.0.0/16",
    "azs": 1,
    "public_subnets": 1,
    "private_subnets": 1,
    "nat_gateways": NAT_NONE,
    "dns_hostnames": True,
    "dns_resolution": True,
}


# --- the plan ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedSubnet:
    slot: str  # "public1", "private2", …
    role: str
    name: str
    cidr: str
    zone: str


@dataclass(frozen=True)
class PlannedRouteTable:
    slot: str  # "rtb-public", "rtb-private1", …
    role: str
    name: str
    subnet_slots: tuple[str, ...]
    nat_slot: str | None = None  # the NAT gateway its default route points at


@dataclass(frozen=True)
class PlannedNatGateway:
    slot: str  # "nat1", …
    name: str
    elastic_ip_name: str
    subnet_slot: str
    zone: str


@dataclass(frozen=True)
class NetworkPlan:
    choices: dict
    zones: tuple[str, ...]
    vpc_name: str
    subnets: tuple[PlannedSubnet, ...]
    route_tables: tuple[PlannedRouteTable, ...]
    internet_gateway_name: str | None
    nat_gateways: tuple[PlannedNatGateway, ...]

    @property
    def cidr(self) -> str:
        return self.choices["cidr"]

    @property
    def name_prefix(self) -> str:
        return self.choices["name_prefix"]

    def nat_hourly_usd(self) -> float:
        return nat_gateway_hourly(len(self.nat_gateways))


def normalised(choices: dict | None) -> dict:
    """The wizard's choices with defaults filled in and obvious types fixed."""
    values = {
        **DEFAULT_CHOICES,
        **{k: v for k, v in (choices or {}).items() if k in DEFAULT_CHOICES},
    }
    values["name_prefix"] = str(values["name_prefix"] or "").strip()
    values["cidr"] = str(values["cidr"] or "").strip()
    for key in ("azs", "public_subnets", "private_subnets"):
        try:
            values[key] = int(values[key])
        except (TypeError, ValueError):
            raise LabError("networking.not_a_number", field=key, value=values[key]) from None
    for key in ("dns_hostnames", "dns_resolution"):
        values[key] = bool(values[key])
    return values


def subnet_prefix_length(vpc_prefix: int) -> int:
    return min(vpc_prefix + SUBNET_SPLIT_BITS, SMALLEST_VPC_PREFIX)


def subnets_per_half(vpc_prefix: int) -> int:
    """How many wizard-sized subnets fit in half the VPC (public half, private half)."""
    size = subnet_prefix_length(vpc_prefix)
    return 2 ** (size - vpc_prefix - 1) if size > vpc_prefix else 0


def plan_network(choices: dict, zones: list[str] | tuple[str, ...]) -> NetworkPlan:
    """The console's names and CIDRs for ``choices`` (already free of refusals).

    Public subnets fill the VPC's lower half and private subnets its upper half, each 16 times
    smaller than the VPC, as the console does: 10.0.0.0/16 → public1 10.0.0.0/20, private1
    10.0.128.0/20. Every private subnet gets its own route table; public subnets share one.
    """
    values = normalised(choices)
    prefix = values["name_prefix"]
    network = ipaddress.ip_network(values["cidr"])
    used_zones = tuple(zones[: values["azs"]])
    size = subnet_prefix_length(network.prefixlen)
    block = 2 ** (32 - size)
    half = network.num_addresses // 2

    def subnet_cidr(offset: int) -> str:
        return f"{network.network_address + offset}/{size}"

    subnets = []
    for index in range(values["public_subnets"]):
        zone = used_zones[index % len(used_zones)]
        subnets.append(
            PlannedSubnet(
                f"public{index + 1}",
                ROLE_PUBLIC_SUBNET,
                f"{prefix}-subnet-public{index + 1}-{zone}",
                subnet_cidr(index * block),
                zone,
            )
        )
    for index in range(values["private_subnets"]):
        zone = used_zones[index % len(used_zones)]
        subnets.append(
            PlannedSubnet(
                f"private{index + 1}",
                ROLE_PRIVATE_SUBNET,
                f"{prefix}-subnet-private{index + 1}-{zone}",
                subnet_cidr(half + index * block),
                zone,
            )
        )
    public = [s for s in subnets if s.role == ROLE_PUBLIC_SUBNET]
    private = [s for s in subnets if s.role == ROLE_PRIVATE_SUBNET]

    nats = []
    if values["nat_gateways"] != NAT_NONE and public:
        hosts = public[:1] if values["nat_gateways"] == NAT_ONE_AZ else public
        nats = [
            PlannedNatGateway(
                f"nat{i + 1}",
                f"{prefix}-nat-{s.slot}-{s.zone}",
                f"{prefix}-eip-{s.zone}",
                s.slot,
                s.zone,
            )
            for i, s in enumerate(hosts)
        ]

    def nat_for(zone: str) -> str | None:
        chosen = [n for n in nats if n.zone == zone] or nats
        return chosen[0].slot if chosen else None

    route_tables = []
    if public:
        route_tables.append(
            PlannedRouteTable(
                "rtb-public",
                ROLE_PUBLIC_ROUTE_TABLE,
                f"{prefix}-rtb-public",
                tuple(s.slot for s in public),
            )
        )
    for subnet in private:
        number = subnet.slot.removeprefix("private")
        route_tables.append(
            PlannedRouteTable(
                f"rtb-private{number}",
                ROLE_PRIVATE_ROUTE_TABLE,
                f"{prefix}-rtb-private{number}-{subnet.zone}",
                (subnet.slot,),
                nat_for(subnet.zone),
            )
        )
    return NetworkPlan(
        values,
        used_zones,
        f"{prefix}-vpc",
        tuple(subnets),
        tuple(route_tables),
        f"{prefix}-igw" if public else None,
        tuple(nats),
    )


# --- what the console or AWS would refuse --------------------------------------------------
def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """``text`` as an IPv4 network, or a LabError saying what is wrong with it."""
    if "/" not in text:
        raise LabError(
            "networking.cidr_no_prefix", code="InvalidParameterValue", field="cidr", cidr=text
        )
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise LabError(
            "networking.cidr_malformed", code="InvalidParameterValue", field="cidr", cidr=text
        ) from None
    if network.version != 4:
        raise LabError(
            "networking.cidr_not_ipv4", code="InvalidParameterValue", field="cidr", cidr=text
        )
    if str(network) != text:
        raise LabError(
            "networking.cidr_not_network",
            code="InvalidParameterValue",
            field="cidr",
            cidr=text,
            network=str(network),
        )
    if not LARGEST_VPC_PREFIX <= network.prefixlen <= SMALLEST_VPC_PREFIX:
        raise LabError(
            "networking.cidr_size",
            code="InvalidVpc.Range",
            field="cidr",
            cidr=text,
            largest=LARGEST_VPC_PREFIX,
            smallest=SMALLEST_VPC_PREFIX,
        )
    return network


def _name_prefix_refusal(prefix: str) -> LabError | None:
    if not prefix:
        return LabError("networking.name_prefix_empty", field="name_prefix")
    if len(prefix) > MAX_NAME_PREFIX:
        return LabError(
            "networking.name_prefix_too_long",
            code="InvalidParameterValue",
            field="name_prefix",
            length=len(prefix),
            limit=MAX_NAME_PREFIX,
        )
    if prefix.lower().startswith("aws:"):
        return LabError(
            "networking.name_prefix_reserved", code="InvalidParameterValue", field="name_prefix"
        )
    if not NAME_PREFIX_PATTERN.match(prefix):
        bad = "".join(sorted({c for c in prefix if not NAME_PREFIX_PATTERN.match(c)}))
        return LabError(
            "networking.name_prefix_characters",
            code="InvalidParameterValue",
            field="name_prefix",
            characters=bad,
        )
    return None


def _count_refusals(values: dict, zones: list[str], network) -> list[LabError]:
    refusals = []
    azs = values["azs"]
    if not 1 <= azs <= MAX_AZS:
        return [LabError("networking.azs_range", field="azs", azs=azs, most=MAX_AZS)]
    if azs > len(zones):
        return [
            LabError(
                "networking.too_many_azs",
                field="azs",
                azs=azs,
                region=current().region,
                available=len(zones),
                zones=", ".join(zones),
            )
        ]
    if values["public_subnets"] not in (0, azs):
        refusals.append(
            LabError(
                "networking.public_count",
                field="public_subnets",
                count=values["public_subnets"],
                azs=azs,
            )
        )
    if values["private_subnets"] not in (0, azs, 2 * azs):
        refusals.append(
            LabError(
                "networking.private_count",
                field="private_subnets",
                count=values["private_subnets"],
                azs=azs,
                twice=2 * azs,
            )
        )
    if network is not None and not refusals:
        room = subnets_per_half(network.prefixlen)
        wanted = max(values["public_subnets"], values["private_subnets"])
        if wanted > room:
            refusals.append(
                LabError(
                    "networking.subnets_dont_fit",
                    field="cidr",
                    cidr=str(network),
                    wanted=wanted,
                    room=room,
                    size=subnet_prefix_length(network.prefixlen),
                )
            )
    if values["nat_gateways"] not in NAT_OPTIONS:
        refusals.append(
            LabError("networking.nat_unknown", field="nat_gateways", value=values["nat_gateways"])
        )
    elif values["nat_gateways"] != NAT_NONE and values["public_subnets"] == 0:
        refusals.append(LabError("networking.nat_needs_public", field="nat_gateways"))
    return refusals


def overlapping_vpcs(network: ipaddress.IPv4Network) -> list[dict]:
    """Other VPCs of this account and region whose addresses overlap ``network``.

    The lab's own VPC is left out: a second Create reuses it instead of making another.
    """
    overlapping = []
    for vpc in client("ec2").describe_vpcs()["Vpcs"]:
        if is_lab_vpc(vpc):
            continue
        for association in vpc.get("CidrBlockAssociationSet", []):
            if association.get("CidrBlockState", {}).get("State") not in (
                "associated",
                "associating",
            ):
                continue
            if ipaddress.ip_network(association["CidrBlock"]).overlaps(network):
                overlapping.append(vpc)
                break
    return overlapping


def refusals(choices: dict) -> list[LabError]:
    """Every reason the wizard (or AWS) would refuse ``choices``; [] means it can be made."""
    values = normalised(choices)
    problems = []
    name_problem = _name_prefix_refusal(values["name_prefix"])
    if name_problem:
        problems.append(name_problem)
    network = None
    try:
        network = parse_cidr(values["cidr"])
    except LabError as error:
        problems.append(error)
    problems += _count_refusals(values, availability_zones(), network)
    if network is not None:
        for vpc in overlapping_vpcs(network):
            problems.append(
                LabError(
                    "networking.cidr_overlaps",
                    field="cidr",
                    cidr=str(network),
                    vpc=vpc_label(vpc),
                    suggestion=free_cidr(network),
                )
            )
    return problems


def free_cidr(network: ipaddress.IPv4Network) -> str:
    """The first block of ``network``'s size in 10.0.0.0/8 that overlaps no VPC."""
    taken = [
        ipaddress.ip_network(a["CidrBlock"])
        for vpc in client("ec2").describe_vpcs()["Vpcs"]
        if not is_lab_vpc(vpc)
        for a in vpc.get("CidrBlockAssociationSet", [])
    ]
    for candidate in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=network.prefixlen):
        if not any(candidate.overlaps(other) for other in taken):
            return str(candidate)
    return str(network)


# --- looking things up ---------------------------------------------------------------------
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


def name_of(resource: dict) -> str:
    return from_aws(resource.get("Tags")).get("Name", "")


def _role(resource: dict) -> str | None:
    return from_aws(resource.get("Tags")).get(ROLE_KEY)


def _slot(resource: dict) -> str:
    return from_aws(resource.get("Tags")).get(SLOT_KEY, "")


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


def vpc_label_of(vpc_id: str) -> str:
    with friendly_errors():
        return vpc_label(client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0])


def vpc_choices() -> list[tuple[str, str]]:
    """Every VPC of the region as ``(label, vpc_id)``, the lab's first, the default VPC too."""
    vpcs = client("ec2").describe_vpcs()["Vpcs"]
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
    role = _role(resource)
    rank = _ROLE_ORDER.index(role) if role in _ROLE_ORDER else len(_ROLE_ORDER)
    digits = "".join(c for c in _slot(resource) if c.isdigit())
    return (rank, int(digits) if digits else 0, name_of(resource))


def find_lab_vpc() -> dict | None:
    """The lab's VPC as AWS describes it, found by the lab's tags, or None."""
    vpcs = client("ec2").describe_vpcs(Filters=ec2_filters(ROLE_VPC, CHAPTER))["Vpcs"]
    vpcs = [vpc for vpc in vpcs if vpc.get("State") != "deleted"]
    return min(vpcs, key=lambda vpc: vpc["VpcId"]) if vpcs else None


def _in_vpc(vpc_id: str) -> list[dict]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}, *ec2_filters(chapter=CHAPTER)]


def _lab_subnets(vpc_id: str) -> list[dict]:
    subnets = client("ec2").describe_subnets(Filters=_in_vpc(vpc_id))["Subnets"]
    return sorted(subnets, key=_slot_order)


def _lab_route_tables(vpc_id: str) -> list[dict]:
    tables = client("ec2").describe_route_tables(Filters=_in_vpc(vpc_id))["RouteTables"]
    return sorted(tables, key=_slot_order)


def _lab_internet_gateways(vpc_id: str) -> list[dict]:
    """The lab's internet gateways made for ``vpc_id`` (attached or not yet)."""
    return client("ec2").describe_internet_gateways(
        Filters=[
            *ec2_filters(ROLE_INTERNET_GATEWAY, CHAPTER),
            {"Name": f"tag:{VPC_KEY}", "Values": [vpc_id]},
        ]
    )["InternetGateways"]


def _lab_nat_gateways(vpc_id: str) -> list[dict]:
    gateways = client("ec2").describe_nat_gateways(
        Filters=[
            *ec2_filters(ROLE_NAT_GATEWAY, CHAPTER),
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "state", "Values": ["pending", "available"]},
        ]
    )["NatGateways"]
    return sorted(gateways, key=_slot_order)


def _lab_elastic_ips(vpc_id: str) -> list[dict]:
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
    internet_gateway_id: str | None = None
    nat_gateway_ids: list[str] = field(default_factory=list)


def main_route_table(vpc_id: str) -> dict | None:
    tables = client("ec2").describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    return tables[0] if tables else None


def _network_from(vpc: dict) -> LabNetwork:
    vpc_id = vpc["VpcId"]
    subnets = _lab_subnets(vpc_id)
    tables = _lab_route_tables(vpc_id)
    main = main_route_table(vpc_id)
    gateways = [
        g
        for g in _lab_internet_gateways(vpc_id)
        if any(a.get("VpcId") == vpc_id for a in g.get("Attachments", []))
    ]

    def ids(items, role, key):
        return [item[key] for item in items if _role(item) == role]

    return LabNetwork(
        vpc_id=vpc_id,
        name_prefix=from_aws(vpc.get("Tags")).get(PREFIX_KEY, ""),
        cidr=vpc["CidrBlock"],
        public_subnet_ids=ids(subnets, ROLE_PUBLIC_SUBNET, "SubnetId"),
        private_subnet_ids=ids(subnets, ROLE_PRIVATE_SUBNET, "SubnetId"),
        public_route_table_ids=ids(tables, ROLE_PUBLIC_ROUTE_TABLE, "RouteTableId"),
        private_route_table_ids=ids(tables, ROLE_PRIVATE_ROUTE_TABLE, "RouteTableId"),
        main_route_table_id=main["RouteTableId"] if main else "",
        internet_gateway_id=gateways[0]["InternetGatewayId"] if gateways else None,
        nat_gateway_ids=[g["NatGatewayId"] for g in _lab_nat_gateways(vpc_id)],
    )


def find_lab_network() -> LabNetwork | None:
    """The lab's VPC and its parts, found by the lab's tags only (look-alikes are ignored)."""
    with friendly_errors():
        vpc = find_lab_vpc()
        return _network_from(vpc) if vpc else None


def describe_route_tables(vpc_id: str) -> list[dict]:
    """Every route table of ``vpc_id`` (AWS's shape): the main one first, then by name."""
    with friendly_errors():
        tables = client("ec2").describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )["RouteTables"]
    return sorted(
        tables, key=lambda table: (not is_main(table), _slot_order(table), table["RouteTableId"])
    )


def describe_subnets(vpc_id: str) -> list[dict]:
    """Every subnet of ``vpc_id`` (AWS's shape), the lab's in wizard order."""
    with friendly_errors():
        subnets = client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "Subnets"
        ]
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


def wizard_choices(vpc: dict) -> dict | None:
    """The wizard choices a lab VPC was made with (stored in its tags), or None."""
    found = from_aws(vpc.get("Tags"))
    try:
        stored = json.loads(found[WIZARD_KEY])
    except (KeyError, ValueError):
        return None
    zones = stored.pop("zones", None)
    choices = normalised(
        {**stored, "name_prefix": found.get(PREFIX_KEY, ""), "cidr": vpc["CidrBlock"]}
    )
    return {**choices, "zones": zones} if zones else choices


def _wizard_tag(plan: NetworkPlan) -> str:
    stored = {k: v for k, v in plan.choices.items() if k not in ("name_prefix", "cidr")}
    stored["zones"] = list(plan.zones)
    return json.dumps(stored, separators=(",", ":"))


# --- making it ------------------------------------------------------------------------------
@dataclass
class EnsureResult:
    network: LabNetwork
    plan: NetworkPlan
    created: list[str]  # names of what this call made ([] when everything already existed)
    reused_existing_vpc: bool


def print_progress(text: str) -> None:
    print(text, flush=True)


class _Builder:
    """Makes what is missing of ``plan`` in the lab's VPC, reporting each step."""

    def __init__(self, plan: NetworkPlan, report: Callable[[str], None]):
        self.plan = plan
        self.report = report
        self.ec2 = client("ec2")
        self.created: list[str] = []

    def tags(self, role: str, name: str | None, **extra) -> dict:
        return lab_tags(CHAPTER, role, name, {k: v for k, v in extra.items() if v})

    def made(self, name: str, resource_id: str) -> None:
        self.created.append(name)
        self.report(t("networking.progress_created", name=name, id=resource_id))

    def vpc(self, existing: dict | None) -> str:
        if existing:
            return existing["VpcId"]
        plan = self.plan
        tags = self.tags(
            ROLE_VPC, plan.vpc_name, **{PREFIX_KEY: plan.name_prefix, WIZARD_KEY: _wizard_tag(plan)}
        )
        vpc_id = self.ec2.create_vpc(
            CidrBlock=plan.cidr, TagSpecifications=tag_specification("vpc", tags)
        )["Vpc"]["VpcId"]
        self.ec2.get_waiter("vpc_available").wait(VpcIds=[vpc_id])
        self.made(plan.vpc_name, vpc_id)
        return vpc_id

    def dns(self, vpc_id: str) -> None:
        # Resolution first (hostnames build on it), and one attribute per call: AWS refuses
        # two attributes in one ModifyVpcAttribute request.
        for attribute, member, choice in (
            ("enableDnsSupport", "EnableDnsSupport", "dns_resolution"),
            ("enableDnsHostnames", "EnableDnsHostnames", "dns_hostnames"),
        ):
            wanted = self.plan.choices[choice]
            found = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
            if found[member]["Value"] != wanted:
                self.ec2.modify_vpc_attribute(VpcId=vpc_id, **{member: {"Value": wanted}})

    def tag_main_route_table(self, vpc_id: str) -> None:
        main = main_route_table(vpc_id)
        if main and _role(main) != ROLE_MAIN_ROUTE_TABLE:
            self.ec2.create_tags(
                Resources=[main["RouteTableId"]],
                Tags=as_aws(self.tags(ROLE_MAIN_ROUTE_TABLE, None)),
            )

    def subnets(self, vpc_id: str) -> dict[str, str]:
        existing = {_slot(s): s["SubnetId"] for s in _lab_subnets(vpc_id)}
        for planned in self.plan.subnets:
            if planned.slot in existing:
                continue
            tags = self.tags(planned.role, planned.name, **{SLOT_KEY: planned.slot})
            subnet_id = self.ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=planned.cidr,
                AvailabilityZone=planned.zone,
                TagSpecifications=tag_specification("subnet", tags),
            )["Subnet"]["SubnetId"]
            existing[planned.slot] = subnet_id
            self.made(planned.name, subnet_id)
        return existing

    def internet_gateway(self, vpc_id: str) -> str | None:
        if not self.plan.internet_gateway_name:
            return None
        gateways = _lab_internet_gateways(vpc_id)
        if gateways:
            gateway_id = gateways[0]["InternetGatewayId"]
        else:
            tags = self.tags(
                ROLE_INTERNET_GATEWAY, self.plan.internet_gateway_name, **{VPC_KEY: vpc_id}
            )
            gateway_id = self.ec2.create_internet_gateway(
                TagSpecifications=tag_specification("internet-gateway", tags)
            )["InternetGateway"]["InternetGatewayId"]
            self.made(self.plan.internet_gateway_name, gateway_id)
            gateways = [{"Attachments": []}]
        if not any(a.get("VpcId") == vpc_id for a in gateways[0].get("Attachments", [])):
            self.ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc_id)
        return gateway_id

    def nat_gateways(self, vpc_id: str, subnet_ids: dict[str, str]) -> dict[str, str]:
        if not self.plan.nat_gateways:
            return {}
        gateways = {_slot(g): g for g in _lab_nat_gateways(vpc_id)}
        addresses = {_slot(a): a for a in _lab_elastic_ips(vpc_id)}
        for planned in self.plan.nat_gateways:
            if planned.slot in gateways:
                continue
            address = addresses.get(planned.slot)
            if address is None or address.get("AssociationId"):
                tags = self.tags(
                    ROLE_ELASTIC_IP,
                    planned.elastic_ip_name,
                    **{SLOT_KEY: planned.slot, VPC_KEY: vpc_id},
                )
                address = self.ec2.allocate_address(
                    Domain="vpc", TagSpecifications=tag_specification("elastic-ip", tags)
                )
                self.made(planned.elastic_ip_name, address["AllocationId"])
            tags = self.tags(ROLE_NAT_GATEWAY, planned.name, **{SLOT_KEY: planned.slot})
            gateway = self.ec2.create_nat_gateway(
                SubnetId=subnet_ids[planned.subnet_slot],
                AllocationId=address["AllocationId"],
                ConnectivityType="public",
                TagSpecifications=tag_specification("natgateway", tags),
            )["NatGateway"]
            gateways[planned.slot] = gateway
            self.made(planned.name, gateway["NatGatewayId"])
        return {slot: self._wait_available(gateway) for slot, gateway in gateways.items()}

    def _wait_available(self, gateway: dict) -> str:
        """Wait for a NAT gateway to be ``available`` (a few minutes on AWS), showing progress."""
        gateway_id = gateway["NatGatewayId"]
        started = time.monotonic()
        state = gateway["State"]
        while state == "pending":
            self.report(
                t(
                    "networking.progress_nat_waiting",
                    id=gateway_id,
                    seconds=int(time.monotonic() - started),
                )
            )
            time.sleep(NAT_POLL_SECONDS)
            state = self.ec2.describe_nat_gateways(NatGatewayIds=[gateway_id])["NatGateways"][0][
                "State"
            ]
        if state != "available":
            raise LabError(
                "networking.nat_failed", code="NatGatewayFailed", id=gateway_id, state=state
            )
        return gateway_id

    def route_tables(
        self,
        vpc_id: str,
        subnet_ids: dict[str, str],
        gateway_id: str | None,
        nat_ids: dict[str, str],
    ) -> None:
        existing = {
            _slot(table): table
            for table in _lab_route_tables(vpc_id)
            if _role(table) in (ROLE_PUBLIC_ROUTE_TABLE, ROLE_PRIVATE_ROUTE_TABLE)
        }
        for planned in self.plan.route_tables:
            table = existing.get(planned.slot)
            if table is None:
                tags = self.tags(planned.role, planned.name, **{SLOT_KEY: planned.slot})
                table = self.ec2.create_route_table(
                    VpcId=vpc_id, TagSpecifications=(tag_specification("route-table", tags))
                )["RouteTable"]
                self.made(planned.name, table["RouteTableId"])
            self._associate(table, [subnet_ids[slot] for slot in planned.subnet_slots], vpc_id)
            target = (
                {"GatewayId": gateway_id}
                if planned.role == ROLE_PUBLIC_ROUTE_TABLE
                else {"NatGatewayId": nat_ids[planned.nat_slot]}
                if planned.nat_slot
                else None
            )
            if target:
                self._default_route(table, target)

    def _associate(self, table: dict, subnet_ids: list[str], vpc_id: str) -> None:
        already = set(associated_subnet_ids(table))
        tables = None
        for subnet_id in subnet_ids:
            if subnet_id in already:
                continue
            tables = (
                tables
                or client("ec2").describe_route_tables(
                    Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
                )["RouteTables"]
            )
            current_association = next(
                (
                    a
                    for other in tables
                    for a in other.get("Associations", [])
                    if a.get("SubnetId") == subnet_id
                ),
                None,
            )
            if current_association:
                self.ec2.replace_route_table_association(
                    AssociationId=current_association["RouteTableAssociationId"],
                    RouteTableId=table["RouteTableId"],
                )
            else:
                self.ec2.associate_route_table(
                    RouteTableId=table["RouteTableId"], SubnetId=subnet_id
                )

    def _default_route(self, table: dict, target: dict) -> None:
        current_route = next(
            (r for r in table.get("Routes", []) if r.get("DestinationCidrBlock") == EVERYWHERE),
            None,
        )
        if (
            current_route
            and route_target(current_route) == next(iter(target.values()))
            and current_route.get("State") == "active"
        ):
            return
        call = self.ec2.replace_route if current_route else self.ec2.create_route
        call(RouteTableId=table["RouteTableId"], DestinationCidrBlock=EVERYWHERE, **target)


def plan_for_existing(vpc: dict) -> NetworkPlan:
    """The plan a lab VPC was made with (its own tags), to finish it as it was planned."""
    stored = wizard_choices(vpc) or normalised(
        {
            "cidr": vpc["CidrBlock"],
            "name_prefix": (
                from_aws(vpc.get("Tags")).get(PREFIX_KEY) or DEFAULT_CHOICES["name_prefix"]
            ),
        }
    )
    zones = stored.pop("zones", None) or availability_zones()
    return plan_network(stored, zones)


def ensure_network(
    choices: dict | None = None, report: Callable[[str], None] = print_progress
) -> EnsureResult:
    """Make whatever is missing of the lab's network; reuse the lab's VPC when there is one.

    A lab VPC found by its tags is finished as it was planned (its own stored choices), so
    a second Create, a re-run, or catch-up never makes a second VPC. Without one, ``choices``
    are checked first and LabError is raised for the first refusal (nothing is created).
    """
    with friendly_errors():
        existing = find_lab_vpc()
        if existing:
            plan = plan_for_existing(existing)
        else:
            problems = refusals(choices or {})
            if problems:
                raise problems[0]
            plan = plan_network(choices or {}, availability_zones())
        builder = _Builder(plan, report)
        vpc_id = builder.vpc(existing)
        builder.dns(vpc_id)
        builder.tag_main_route_table(vpc_id)
        subnet_ids = builder.subnets(vpc_id)
        gateway_id = builder.internet_gateway(vpc_id)
        nat_ids = builder.nat_gateways(vpc_id, subnet_ids)
        builder.route_tables(vpc_id, subnet_ids, gateway_id, nat_ids)
        network = _network_from(find_lab_vpc())
    return EnsureResult(network, plan, builder.created, existing is not None)


def summary(result: EnsureResult) -> str:
    """One line for the learner: which VPC, and whether it was made or reused."""
    network = result.network
    key = "networking.summary_created" if result.created else "networking.summary_reused"
    return t(
        key,
        name=result.plan.vpc_name,
        id=network.vpc_id,
        cidr=network.cidr,
        subnets=len(network.public_subnet_ids) + len(network.private_subnet_ids),
        created=len(result.created),
    )


def nat_cost_text(plan: NetworkPlan) -> str:
    hourly = plan.nat_hourly_usd()
    return t(
        "networking.nat_cost",
        count=len(plan.nat_gateways),
        hourly=f"{hourly:.3f}",
        monthly=f"{monthly(hourly):.2f}",
    )


# --- "Check your work" -----------------------------------------------------------------------
def check_chapter() -> list[Check]:
    """What chapter 01 should have made, checked on the backend, in the learner's words."""
    with friendly_errors():
        vpc = find_lab_vpc()
        if vpc is None:
            return [Check(t("networking.check_vpc"), False, t("networking.check_vpc_missing"))]
        network = _network_from(vpc)
        plan = plan_for_existing(vpc)
        checks = [Check(t("networking.check_vpc"), True, vpc_label(vpc))]
        checks.append(_check_dns(vpc["VpcId"]))
        checks.append(_check_planned(plan, vpc["VpcId"]))
        tables = describe_route_tables(vpc["VpcId"])
        checks += _check_private_routing(network, tables)
        if plan.internet_gateway_name:
            checks.append(_check_public_routing(network, tables))
    return checks


def _check_dns(vpc_id: str) -> Check:
    ec2 = client("ec2")
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
        "EnableDnsSupport"
    ]["Value"]
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"
    ]["Value"]
    off = [
        label
        for label, on in (
            (t("networking.dns_resolution"), support),
            (t("networking.dns_hostnames"), hostnames),
        )
        if not on
    ]
    detail = t("networking.check_dns_off", settings=", ".join(off)) if off else ""
    return Check(t("networking.check_dns"), not off, detail)


def _check_planned(plan: NetworkPlan, vpc_id: str) -> Check:
    found = (
        {_slot(s) for s in _lab_subnets(vpc_id)}
        | {_slot(r) for r in _lab_route_tables(vpc_id)}
        | {_slot(n) for n in _lab_nat_gateways(vpc_id)}
    )
    planned = [*plan.subnets, *plan.route_tables, *plan.nat_gateways]
    missing = [item.name for item in planned if item.slot not in found]
    if plan.internet_gateway_name and not _lab_internet_gateways(vpc_id):
        missing.append(plan.internet_gateway_name)
    detail = (
        t("networking.check_planned_missing", names=", ".join(missing))
        if missing
        else t(
            "networking.check_planned_ok",
            count=len(plan.subnets)
            + len(plan.route_tables)
            + len(plan.nat_gateways)
            + (1 if plan.internet_gateway_name else 0),
        )
    )
    return Check(t("networking.check_planned"), not missing, detail)


def _check_private_routing(network: LabNetwork, tables: list[dict]) -> list[Check]:
    if not network.private_subnet_ids:
        return [
            Check(
                t("networking.check_private_subnet"),
                False,
                t("networking.check_private_subnet_missing"),
            )
        ]
    names = subnet_names(network.vpc_id)
    own_table, no_internet = [], []
    for subnet_id in network.private_subnet_ids:
        table = route_table_for_subnet(subnet_id, tables)
        if table is None or is_main(table) or _role(table) != ROLE_PRIVATE_ROUTE_TABLE:
            own_table.append(names.get(subnet_id, subnet_id))
        elif any(route_target(r).startswith("igw-") for r in table.get("Routes", [])):
            no_internet.append(names.get(subnet_id, subnet_id))
    return [
        Check(
            t("networking.check_private_table"),
            not own_table,
            t("networking.check_private_table_wrong", names=", ".join(own_table))
            if own_table
            else "",
        ),
        Check(
            t("networking.check_private_no_igw"),
            not no_internet,
            t("networking.check_private_has_igw", names=", ".join(no_internet))
            if no_internet
            else "",
        ),
    ]


def _check_public_routing(network: LabNetwork, tables: list[dict]) -> Check:
    by_id = {table["RouteTableId"]: table for table in tables}
    ok = bool(network.internet_gateway_id) and any(
        route.get("DestinationCidrBlock") == EVERYWHERE
        and route_target(route) == network.internet_gateway_id
        and route.get("State") == "active"
        for table_id in network.public_route_table_ids
        for route in by_id.get(table_id, {}).get("Routes", [])
    )
    return Check(
        t("networking.check_public_route"),
        ok,
        "" if ok else t("networking.check_public_route_missing"),
    )
