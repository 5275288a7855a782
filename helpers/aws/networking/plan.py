"""Chapter 01's plan: the console's "VPC and more" wizard, before anything is made.

``plan_network`` turns the wizard's choices into the exact names and CIDRs the console would
use; ``refusals`` lists what the console or AWS would refuse (it looks at the region's zones),
and ``warnings`` what AWS accepts but the learner should know first (a block overlapping another
VPC). The choices are stored on the lab's VPC (``wizard_tag``) and read back
(``wizard_choices``, ``plan_for_existing``), so a half-made network is finished as planned.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from helpers.aws.networking.find import availability_zones, is_lab_vpc, region_vpcs, vpc_label
from helpers.aws.networking.roles import (
    PREFIX_KEY,
    ROLE_PRIVATE_ROUTE_TABLE,
    ROLE_PRIVATE_SUBNET,
    ROLE_PUBLIC_ROUTE_TABLE,
    ROLE_PUBLIC_SUBNET,
    WIZARD_KEY,
)
from helpers.core.costs import monthly, nat_gateway_hourly
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import from_aws

NAT_NONE = "none"
NAT_ONE_AZ = "one-az"
NAT_PER_AZ = "per-az"
NAT_OPTIONS = (NAT_NONE, NAT_ONE_AZ, NAT_PER_AZ)

MAX_AZS = 3  # the console's wizard offers 1, 2 or 3 Availability Zones
LARGEST_VPC_PREFIX = 16  # AWS: a VPC's IPv4 block is between /16 and /28
SMALLEST_VPC_PREFIX = 28
SUBNET_SPLIT_BITS = 4  # the console's subnets are 16 times smaller than the VPC (/16 → /20)
# The lab's own limit, not AWS's: EC2 takes any character in a tag, and 256 in a tag value; a
# prefix of at most 128 leaves room for the longest suffix the wizard adds to it.
MAX_NAME_PREFIX = 128

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


def nat_cost_text(plan: NetworkPlan) -> str:
    hourly = plan.nat_hourly_usd()
    return t(
        "networking.nat_cost",
        count=len(plan.nat_gateways),
        hourly=f"{hourly:.3f}",
        monthly=f"{monthly(hourly):.2f}",
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
    """The lab's own rules for the prefix (EC2 itself takes any character in a tag value)."""
    if not prefix:
        return LabError("networking.name_prefix_empty", field="name_prefix")
    if len(prefix) > MAX_NAME_PREFIX:
        return LabError(
            "networking.name_prefix_too_long",
            field="name_prefix",
            length=len(prefix),
            limit=MAX_NAME_PREFIX,
        )
    if prefix.lower().startswith("aws:"):
        return LabError("networking.name_prefix_reserved", field="name_prefix")
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

    AWS creates a VPC whatever other VPCs hold; the overlap matters only to connect them
    (peering, VPN, a transit gateway). The lab's own VPC is left out: a second Create reuses
    it instead of making another.
    """
    overlapping = []
    for vpc in region_vpcs():
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
    return problems


def warnings(choices: dict) -> list[LabError]:
    """What AWS accepts in ``choices`` but the learner should know before the click: each VPC
    the block overlaps, with a free block to use instead."""
    try:
        network = parse_cidr(normalised(choices)["cidr"])
    except LabError:
        return []  # a refusal already says what is wrong with the block
    return [
        LabError(
            "networking.cidr_overlaps",
            field="cidr",
            cidr=str(network),
            vpc=vpc_label(vpc),
            suggestion=free_cidr(network),
        )
        for vpc in overlapping_vpcs(network)
    ]


def free_cidr(network: ipaddress.IPv4Network) -> str:
    """The first block of ``network``'s size in 10.0.0.0/8 that overlaps no VPC of the region
    (the lab's own included, so that the suggestion is free whatever the learner does next)."""
    taken = [
        ipaddress.ip_network(a["CidrBlock"])
        for vpc in region_vpcs()
        for a in vpc.get("CidrBlockAssociationSet", [])
    ]
    for candidate in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=network.prefixlen):
        if not any(candidate.overlaps(other) for other in taken):
            return str(candidate)
    return str(network)


# --- the plan stored on the lab's VPC ------------------------------------------------------
def wizard_tag(plan: NetworkPlan) -> str:
    """The VPC's wizard tag: ``plan``'s choices and zones (the name prefix has a tag of its own,
    the CIDR is the VPC's)."""
    stored = {k: v for k, v in plan.choices.items() if k not in ("name_prefix", "cidr")}
    stored["zones"] = list(plan.zones)
    return json.dumps(stored, separators=(",", ":"))


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
