"""What the lab made in the account: every resource carrying the lab's tags, and its cost.

Only resources tagged ``lab=vpc-endpoint-lab`` are listed, never anything found by name
alone, so a learner's own look-alikes (same Name, no lab tag) never appear here and are
never cleaned up. Each kind of resource has one finder; clean-up reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.core import costs
from helpers.core.clients import client, friendly_errors
from helpers.core.messages import t
from helpers.core.tags import CHAPTER_KEY, ROLE_KEY, ec2_filters, from_aws, is_lab_resource

# In the order the lab creates them (the inventory's order).
KINDS = (
    "vpc",
    "subnet",
    "route-table",
    "internet-gateway",
    "elastic-ip",
    "nat-gateway",
    "vpc-endpoint",
    "security-group",
    "iam-policy",
    "iam-role",
    "lambda-function",
    "dynamodb-table",
    "rest-api",
)

# Kinds AWS does not charge for by the hour or by use (an internet gateway is free; the
# public IPv4 addresses behind it are the Elastic IPs, listed with their own price).
FREE_KINDS = {
    "vpc",
    "subnet",
    "route-table",
    "internet-gateway",
    "security-group",
    "iam-role",
    "iam-policy",
}

# EC2 states of resources that are gone but still listed for a while.
_GONE_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}


@dataclass(frozen=True)
class InventoryItem:
    kind: str  # one of KINDS
    id: str
    name: str
    chapter: str
    role: str
    hourly_usd: float | None = None  # None: no hourly charge, billed per use instead
    details: dict = field(default_factory=dict, compare=False, hash=False)  # AWS's description

    @property
    def kind_label(self) -> str:
        return t("cleanup.kind_" + self.kind.replace("-", "_"))


def _item(
    kind: str,
    resource_id: str,
    tags: dict,
    fallback_name: str = "",
    hourly_usd: float | None = None,
    details: dict | None = None,
) -> InventoryItem:
    if kind in FREE_KINDS:
        hourly_usd = 0.0
    return InventoryItem(
        kind=kind,
        id=resource_id,
        name=tags.get("Name") or fallback_name,
        chapter=tags.get(CHAPTER_KEY, ""),
        role=tags.get(ROLE_KEY, ""),
        hourly_usd=hourly_usd,
        details=details or {},
    )


def _pages(service_client, operation: str, result_key: str, **arguments) -> list[dict]:
    if service_client.can_paginate(operation):
        pages = service_client.get_paginator(operation).paginate(**arguments)
        return [entry for page in pages for entry in page.get(result_key, [])]
    return getattr(service_client, operation)(**arguments).get(result_key, [])


def _ec2(operation: str, result_key: str, filter_argument: str = "Filters") -> list[dict]:
    """Lab-tagged EC2 resources; the tag check repeats the filter (some backends ignore it)."""
    found = _pages(client("ec2"), operation, result_key, **{filter_argument: ec2_filters()})
    return [entry for entry in found if is_lab_resource(entry.get("Tags"))]


# --- EC2 ---------------------------------------------------------------------------------------


def _free_ec2_resources(kind: str, operation: str, result_key: str, id_key: str):
    """A finder for an EC2 resource that costs nothing by itself (VPC, subnet, …)."""

    def find_them():
        return [
            _item(kind, resource[id_key], from_aws(resource.get("Tags")), details=resource)
            for resource in _ec2(operation, result_key)
        ]

    return find_them


_vpcs = _free_ec2_resources("vpc", "describe_vpcs", "Vpcs", "VpcId")
_subnets = _free_ec2_resources("subnet", "describe_subnets", "Subnets", "SubnetId")
_route_tables = _free_ec2_resources(
    "route-table", "describe_route_tables", "RouteTables", "RouteTableId"
)
_internet_gateways = _free_ec2_resources(
    "internet-gateway", "describe_internet_gateways", "InternetGateways", "InternetGatewayId"
)


def _elastic_ips():
    hourly = costs.price("public_ipv4_hour").usd
    return [
        _item(
            "elastic-ip",
            address["AllocationId"],
            from_aws(address.get("Tags")),
            address.get("PublicIp", ""),
            hourly,
            address,
        )
        for address in _ec2("describe_addresses", "Addresses")
    ]


def _nat_gateways():
    hourly = costs.price("nat_gateway_hour").usd
    return [
        _item(
            "nat-gateway",
            gateway["NatGatewayId"],
            from_aws(gateway.get("Tags")),
            hourly_usd=hourly,
            details=gateway,
        )
        for gateway in _ec2("describe_nat_gateways", "NatGateways", "Filter")
        if gateway.get("State") not in _GONE_STATES
    ]


def _endpoint_hourly(endpoint: dict) -> float:
    if endpoint.get("VpcEndpointType") == "Interface":
        return costs.interface_endpoint_hourly(len(endpoint.get("SubnetIds", [])))
    return costs.price("gateway_endpoint_hour").usd


def _vpc_endpoints():
    return [
        _item(
            "vpc-endpoint",
            endpoint["VpcEndpointId"],
            from_aws(endpoint.get("Tags")),
            endpoint.get("ServiceName", ""),
            _endpoint_hourly(endpoint),
            endpoint,
        )
        for endpoint in _ec2("describe_vpc_endpoints", "VpcEndpoints")
        if endpoint.get("State", "").lower() not in _GONE_STATES
    ]


def _security_groups():
    return [
        _item(
            "security-group",
            group["GroupId"],
            from_aws(group.get("Tags")),
            group.get("GroupName", ""),
            details=group,
        )
        for group in _ec2("describe_security_groups", "SecurityGroups")
    ]


# --- IAM, Lambda, DynamoDB, API Gateway ------------------------------------------------------


def _iam_tagged(
    kind: str,
    listing: str,
    result_key: str,
    tag_listing: str,
    id_key: str,
    id_argument: str,
    name_key: str,
    **list_arguments,
) -> list[InventoryItem]:
    """Lab-tagged IAM roles or policies: IAM lists them first, tags come one by one."""
    iam = client("iam")
    found = []
    for entry in _pages(iam, listing, result_key, **list_arguments):
        tags = from_aws(_pages(iam, tag_listing, "Tags", **{id_argument: entry[id_key]}))
        if is_lab_resource(tags):
            found.append(_item(kind, entry[id_key], tags, entry[name_key], details=entry))
    return found


def _iam_roles():
    return _iam_tagged(
        "iam-role", "list_roles", "Roles", "list_role_tags", "RoleName", "RoleName", "RoleName"
    )


def _iam_policies():
    """Customer-managed policies the lab made (AWS-managed ones are never the lab's)."""
    return _iam_tagged(
        "iam-policy",
        "list_policies",
        "Policies",
        "list_policy_tags",
        "Arn",
        "PolicyArn",
        "PolicyName",
        Scope="Local",
    )


def _lambda_functions():
    functions = client("lambda")
    found = []
    for function in _pages(functions, "list_functions", "Functions"):
        tags = functions.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
        if is_lab_resource(tags):
            found.append(
                _item(
                    "lambda-function",
                    function["FunctionName"],
                    tags,
                    function["FunctionName"],
                    details=function,
                )
            )
    return found


def _table_hourly(table_description: dict) -> float | None:
    billing = table_description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if billing != "PROVISIONED":
        return None  # on-demand: pay per request
    capacity = table_description.get("ProvisionedThroughput", {})
    table_class = table_description.get("TableClassSummary", {}).get("TableClass", "STANDARD")
    return costs.dynamodb_provisioned_hourly(
        table_class, capacity.get("ReadCapacityUnits", 0), capacity.get("WriteCapacityUnits", 0)
    )


def _dynamodb_tables():
    dynamodb = client("dynamodb")
    found = []
    for name in _pages(dynamodb, "list_tables", "TableNames"):
        description = dynamodb.describe_table(TableName=name)["Table"]
        if description.get("TableStatus") == "DELETING":
            continue
        tags = from_aws(
            _pages(dynamodb, "list_tags_of_resource", "Tags", ResourceArn=description["TableArn"])
        )
        if is_lab_resource(tags):
            found.append(
                _item("dynamodb-table", name, tags, name, _table_hourly(description), description)
            )
    return found


def _rest_apis():
    return [
        _item("rest-api", api["id"], api.get("tags", {}), api.get("name", ""), details=api)
        for api in _pages(client("apigateway"), "get_rest_apis", "items")
        if is_lab_resource(api.get("tags", {}))
    ]


_FINDERS = {
    "vpc": _vpcs,
    "subnet": _subnets,
    "route-table": _route_tables,
    "internet-gateway": _internet_gateways,
    "elastic-ip": _elastic_ips,
    "nat-gateway": _nat_gateways,
    "vpc-endpoint": _vpc_endpoints,
    "security-group": _security_groups,
    "iam-policy": _iam_policies,
    "iam-role": _iam_roles,
    "lambda-function": _lambda_functions,
    "dynamodb-table": _dynamodb_tables,
    "rest-api": _rest_apis,
}


def find(kind: str) -> list[InventoryItem]:
    """The lab's resources of one kind (one of KINDS)."""
    return _FINDERS[kind]()


def inventory() -> list[InventoryItem]:
    """Everything carrying the lab's tags, by chapter, in the order the lab creates it."""
    with friendly_errors():
        items = [item for kind in KINDS for item in find(kind)]
    return sorted(items, key=lambda item: (item.chapter, KINDS.index(item.kind)))


def hourly_total(items: list[InventoryItem]) -> float:
    return sum(item.hourly_usd or 0.0 for item in items)
