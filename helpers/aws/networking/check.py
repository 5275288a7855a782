"""Chapter 01's "Check your work": what the chapter should have made, checked on the backend.

The lab's VPC is found by its tags and compared with the plan it was made with (its own stored
choices): DNS settings, every planned piece, and the routing of private and public subnets.
"""

from __future__ import annotations

from helpers.aws.checks import Check
from helpers.aws.networking.find import (
    EVERYWHERE,
    LabNetwork,
    describe_route_tables,
    find_lab_vpc,
    is_main,
    lab_internet_gateways,
    lab_nat_gateways,
    lab_route_tables,
    lab_subnets,
    network_from,
    route_table_for_subnet,
    route_target,
    subnet_names,
    vpc_label,
)
from helpers.aws.networking.plan import NetworkPlan, plan_for_existing
from helpers.aws.networking.roles import ROLE_PRIVATE_ROUTE_TABLE, role_of, slot_of
from helpers.core.clients import client, friendly_errors
from helpers.core.messages import t


def check_chapter() -> list[Check]:
    """What chapter 01 should have made, checked on the backend, in the learner's words."""
    with friendly_errors():
        vpc = find_lab_vpc()
        if vpc is None:
            return [Check(t("networking.check_vpc"), False, t("networking.check_vpc_missing"))]
        network = network_from(vpc)
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
    """Both DNS settings on: AWS's "Gateway endpoints for Amazon DynamoDB" asks for DNS
    hostnames and DNS resolution when the VPC uses the Amazon DNS server. Resolution is the one
    the function's lookup of DynamoDB's name depends on, so its message comes first."""
    ec2 = client("ec2")
    support = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
        "EnableDnsSupport"
    ]["Value"]
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"
    ]["Value"]
    if not support:
        detail = t("networking.check_dns_off")
    elif not hostnames:
        detail = t("networking.check_dns_hostnames_off")
    else:
        detail = ""
    return Check(t("networking.check_dns"), support and hostnames, detail)


def _check_planned(plan: NetworkPlan, vpc_id: str) -> Check:
    found = (
        {slot_of(s) for s in lab_subnets(vpc_id)}
        | {slot_of(r) for r in lab_route_tables(vpc_id)}
        # NAT gateways are looked for only when the plan has some (none can be missing else)
        | ({slot_of(n) for n in lab_nat_gateways(vpc_id)} if plan.nat_gateways else set())
    )
    planned = [*plan.subnets, *plan.route_tables, *plan.nat_gateways]
    missing = [item.name for item in planned if item.slot not in found]
    if plan.internet_gateway_name and not lab_internet_gateways(vpc_id):
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
        if table is None or is_main(table) or role_of(table) != ROLE_PRIVATE_ROUTE_TABLE:
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
