"""The tags chapter 01's network is known by, shared by every part of it.

The lab's resources are found by their tags, never by their names: ``ROLE_*`` says which kind
of piece a resource is, the extra keys below say which planned piece it is and where it
belongs, and ``name_of``, ``role_of`` and ``slot_of`` read them back from AWS's shape.
"""

from __future__ import annotations

from helpers.core.tags import ROLE_KEY, from_aws

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


def name_of(resource: dict) -> str:
    return from_aws(resource.get("Tags")).get("Name", "")


def role_of(resource: dict) -> str | None:
    return from_aws(resource.get("Tags")).get(ROLE_KEY)


def slot_of(resource: dict) -> str:
    return from_aws(resource.get("Tags")).get(SLOT_KEY, "")
