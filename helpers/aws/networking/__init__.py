"""Chapter 01's network: the console's "VPC and more" wizard as a plan, made idempotently.

This package is the concept's front door: other modules use ``networking.<name>`` and never
reach into the parts, which import one way (roles ← find ← plan ← build; check reads find and
plan):

- ``roles``: the tags the lab's network is known by (roles, slots, the stored choices).
- ``find``: the lab's VPC, subnets and route tables found by those tags, never by name, and
  the describe helpers later chapters use to read routing.
- ``plan``: the wizard's choices as the exact names and CIDRs the console would use, what
  the console or AWS would refuse, and what AWS accepts with a warning.
- ``build``: ``ensure_network`` makes what is missing of a plan and waits for NAT gateways on
  real AWS.
- ``check``: chapter 01's "Check your work".
"""

from helpers.aws.networking.build import ensure_network, summary
from helpers.aws.networking.check import check_chapter
from helpers.aws.networking.find import (
    LabNetwork,
    associated_subnet_ids,
    availability_zones,
    describe_route_tables,
    describe_subnets,
    find_lab_network,
    find_lab_vpc,
    is_lab_vpc,
    is_main,
    lab_public_route_table_ids,
    main_route_table,
    region_vpcs,
    route_destination,
    route_table_for_subnet,
    route_target,
    security_groups_by_id,
    subnet_names,
    subnets_by_id,
    vpc_by_id,
    vpc_choices,
    vpc_label,
    vpc_security_groups,
)
from helpers.aws.networking.plan import (
    DEFAULT_CHOICES,
    MAX_AZS,
    NAT_NONE,
    NAT_ONE_AZ,
    NAT_PER_AZ,
    NetworkPlan,
    nat_cost_text,
    normalised,
    plan_for_existing,
    plan_network,
    refusals,
    warnings,
    wizard_choices,
)
from helpers.aws.networking.roles import (
    CHAPTER,
    ROLE_PUBLIC_ROUTE_TABLE,
    ROLE_PUBLIC_SUBNET,
    name_of,
)

__all__ = [
    "CHAPTER",
    "DEFAULT_CHOICES",
    "MAX_AZS",
    "NAT_NONE",
    "NAT_ONE_AZ",
    "NAT_PER_AZ",
    "ROLE_PUBLIC_ROUTE_TABLE",
    "ROLE_PUBLIC_SUBNET",
    "LabNetwork",
    "NetworkPlan",
    "associated_subnet_ids",
    "availability_zones",
    "check_chapter",
    "describe_route_tables",
    "describe_subnets",
    "ensure_network",
    "find_lab_network",
    "find_lab_vpc",
    "is_lab_vpc",
    "is_main",
    "lab_public_route_table_ids",
    "main_route_table",
    "name_of",
    "nat_cost_text",
    "normalised",
    "plan_for_existing",
    "plan_network",
    "refusals",
    "region_vpcs",
    "route_destination",
    "route_table_for_subnet",
    "route_target",
    "security_groups_by_id",
    "subnet_names",
    "subnets_by_id",
    "summary",
    "vpc_by_id",
    "vpc_choices",
    "vpc_label",
    "vpc_security_groups",
    "warnings",
    "wizard_choices",
]
