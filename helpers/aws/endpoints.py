"""Chapter 02's AWS logic: the lab's VPC endpoint to DynamoDB — find, check, create, change.

The embedded backend (moto) accepts requests AWS refuses and leaves routes alone when an
endpoint's route tables change. So every request is checked here first, the way AWS would
(answering with AWS's error codes), and routes are kept in agreement with the endpoint's
``RouteTableIds`` — the lab then behaves the same on moto and on AWS.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from botocore.exceptions import ClientError

from helpers.aws import networking
from helpers.aws.checks import Check
from helpers.aws.functions import DEFAULT_ROLE_NAME, IAM_PATH, table_arn
from helpers.aws.policy import (
    NOTE_APP_ACTIONS,
    PolicyKind,
    policy_permits,
    principal_is_everyone,
    request_context,
    statements,
    unsupported_condition,
)
from helpers.aws.tables import DEFAULT_TABLE_NAME
from helpers.core import costs, read_cache, tags
from helpers.core.clients import account_id, client
from helpers.core.errors import LabError, aws_error_code, json_problem, none_if_missing
from helpers.core.messages import t
from helpers.core.settings import current

CHAPTER = "02"
ROLE = "dynamodb-endpoint"
OTHER_SERVICE_ROLE = "endpoint"  # any other endpoint the learner made (service or type)
DEFAULT_NAME = "vpc-endpoint-lambda-dynamodb"
GATEWAY, INTERFACE = "Gateway", "Interface"
FULL_ACCESS_POLICY = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
# AWS's limits (VPC endpoint policies; EC2 tags).
POLICY_MAX_CHARS = 20480
POLICY_VERSIONS = ("2008-10-17", "2012-10-17")
TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX = 128, 256, 50
GONE_STATES = {"deleting", "deleted", "failed", "rejected", "expired"}
WAIT_SECONDS, POLL_SECONDS = 600, 5
LAB_TAG_KEYS = {tags.LAB_KEY, tags.CHAPTER_KEY, tags.ROLE_KEY}


@dataclass(frozen=True)
class EndpointService:
    name: str
    owner: str
    types: tuple[str, ...]  # "Gateway", "Interface" (a service may offer both)
    # Whether its interface endpoints can have private DNS: AWS lists a private DNS name for
    # the service (DynamoDB has none: clients use the endpoint's own vpce-… DNS name).
    private_dns: bool = False


class PrefixList(NamedTuple):
    id: str
    name: str
    cidrs: list[str]


@dataclass
class EndpointRequest:
    """What the Create-endpoint form asks AWS for."""

    vpc_id: str
    service_name: str
    endpoint_type: str = GATEWAY
    route_table_ids: list[str] = field(default_factory=list)  # Gateway only
    subnet_ids: list[str] = field(default_factory=list)  # Interface only
    security_group_ids: list[str] = field(default_factory=list)  # Interface only
    private_dns: bool = True  # Interface only
    cost_confirmed: bool = False  # Interface endpoints cost money per AZ-hour
    policy: str | None = None  # JSON text; None means Full access
    name: str = DEFAULT_NAME
    extra_tags: dict[str, str] = field(default_factory=dict)


@dataclass
class EndpointSnapshot:
    """An endpoint and its route tables before and after a change (``before`` may be empty)."""

    endpoint: dict
    prefix_list: PrefixList | None
    after: list[dict]
    before: list[dict] = field(default_factory=list)
    created: bool = False
    subnet_names: dict[str, str] = field(default_factory=dict)


# --- services and prefix lists ---------------------------------------------------------------
def dynamodb_service_name(region: str | None = None) -> str:
    return f"com.amazonaws.{region or current().region}.dynamodb"


# The services AWS offers as both Gateway and Interface endpoints, and whether their interface
# endpoints can have private DNS (see ``_with_both_types``).
GATEWAY_AND_INTERFACE_SERVICES = {"dynamodb": False, "s3": True}

_services_cache: dict[tuple, list[EndpointService]] = {}


def endpoint_services() -> list[EndpointService]:
    """Every endpoint service of the region, one entry per name (types merged), sorted."""
    settings = current()
    key = (settings.backend, settings.region, settings.endpoint_url)
    if key not in _services_cache:
        merged: dict[str, EndpointService] = {}
        for detail in _pages(client("ec2").describe_vpc_endpoint_services, "ServiceDetails"):
            name = detail["ServiceName"]
            types = {t_["ServiceType"] for t_ in detail.get("ServiceType", [])}
            known = merged.get(name)
            merged[name] = EndpointService(
                name,
                detail.get("Owner", ""),
                tuple(sorted(types | set(known.types if known else ()))),
                (known is not None and known.private_dns)
                or (INTERFACE in types and bool(detail.get("PrivateDnsName"))),
            )
        _with_both_types(merged, settings.region)
        _services_cache[key] = sorted(merged.values(), key=lambda s: s.name)
    return _services_cache[key]


def _with_both_types(services: dict[str, EndpointService], region: str) -> None:
    """Give DynamoDB and S3 the endpoint type the backend leaves out, in place.

    AWS offers both services as Gateway *and* Interface endpoints (DynamoDB Developer Guide,
    "AWS PrivateLink for DynamoDB": "You can use two types of Amazon VPC endpoints to access
    Amazon DynamoDB: gateway endpoints and interface endpoints"; Amazon S3 User Guide, "AWS
    PrivateLink for Amazon S3", the same for S3). The embedded backend (moto 5) lists DynamoDB
    as Gateway only, so without this the lab would refuse an interface endpoint AWS accepts.
    On AWS both types are listed already and nothing is added twice (types are a set).
    DynamoDB's interface endpoints have no private DNS: "AWS PrivateLink for Amazon DynamoDB
    does not support ... Private and Hybrid Domain Name System (DNS) services" (same page).
    """
    for short_name, private_dns in GATEWAY_AND_INTERFACE_SERVICES.items():
        name = f"com.amazonaws.{region}.{short_name}"
        known = services.get(name)
        if known is None or (INTERFACE in known.types and GATEWAY in known.types):
            continue
        services[name] = replace(
            known,
            types=(GATEWAY, INTERFACE),
            private_dns=known.private_dns if INTERFACE in known.types else private_dns,
        )


def find_service(name: str) -> EndpointService | None:
    return next((s for s in endpoint_services() if s.name == name), None)


def _managed_prefix_list(service_name: str) -> dict:
    found = client("ec2").describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [service_name]}]
    )["PrefixLists"]
    if not found:
        raise LabError("endpoints.no_prefix_list", code="InvalidServiceName", service=service_name)
    return found[0]


def prefix_list_id_of(service_name: str) -> str:
    """The id (``pl-…``) of the AWS-managed prefix list a gateway endpoint's route points at:
    what a route needs, without the list's CIDRs (one call less)."""
    return _managed_prefix_list(service_name)["PrefixListId"]


def prefix_list(service_name: str) -> PrefixList:
    """The AWS-managed prefix list (id, name, CIDRs) a gateway endpoint's route points at."""
    found = _managed_prefix_list(service_name)
    entries = _pages(
        client("ec2").get_managed_prefix_list_entries,
        "Entries",
        PrefixListId=found["PrefixListId"],
    )
    return PrefixList(
        found["PrefixListId"], found["PrefixListName"], [entry["Cidr"] for entry in entries]
    )


def _pages(call: Callable, key: str, **params) -> list:
    items, token = [], None
    while True:
        page = call(**params, **({"NextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items


# --- finding the lab's endpoints ---------------------------------------------------------------
def role_for(request: EndpointRequest) -> str:
    """The lab's role tag: ``ROLE`` only for the Gateway endpoint to DynamoDB, the one the
    chapters use; an Interface endpoint to DynamoDB is "another" endpoint, like SQS's."""
    is_lab_endpoint = (
        request.service_name == dynamodb_service_name() and request.endpoint_type == GATEWAY
    )
    return ROLE if is_lab_endpoint else OTHER_SERVICE_ROLE


def _lab_endpoints(role: str | None = None, extra_filters: list | None = None) -> list[dict]:
    found = client("ec2").describe_vpc_endpoints(
        Filters=tags.ec2_filters(role=role, chapter=CHAPTER) + (extra_filters or [])
    )
    alive = [e for e in found["VpcEndpoints"] if e["State"].lower() not in GONE_STATES]
    return sorted(alive, key=lambda e: str(e.get("CreationTimestamp", "")))


def find_lab_endpoint() -> dict | None:
    """The lab's DynamoDB endpoint (by its lab tags, preferring the one in the lab's VPC)."""
    candidates = _lab_endpoints(ROLE)
    if len(candidates) < 2:  # nothing to prefer: the lab's VPC is not looked up
        return (candidates or [None])[0]
    vpc = networking.find_lab_vpc()
    in_lab_vpc = [e for e in candidates if vpc and e["VpcId"] == vpc["VpcId"]]
    return (in_lab_vpc or candidates)[0]


def find_existing(request: EndpointRequest) -> dict | None:
    """The endpoint the lab made earlier for this very request (same VPC, service and type)."""
    return next(
        iter(
            _lab_endpoints(
                role_for(request),
                [
                    {"Name": "vpc-id", "Values": [request.vpc_id]},
                    {"Name": "service-name", "Values": [request.service_name]},
                    {"Name": "vpc-endpoint-type", "Values": [request.endpoint_type]},
                ],
            )
        ),
        None,
    )


def endpoint(endpoint_id: str) -> dict:
    found = none_if_missing(
        lambda: client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    )
    if found is None:
        raise LabError(
            "endpoints.endpoint_missing",
            code="InvalidVpcEndpointId.NotFound",
            endpoint_id=endpoint_id,
        )
    return found[0]


# --- route tables ------------------------------------------------------------------------------
def route_tables(route_table_ids, vpc_id: str | None = None) -> list[dict]:
    """The route tables with these ids that exist (missing ones are left out), in that order.

    With ``vpc_id`` they are picked out of that VPC's route tables, the read the rest of an
    action shares; only ids not found there (another VPC's, or none) are asked for by id.
    """
    ids = list(dict.fromkeys(route_table_ids))
    if not ids:
        return []
    by_id = (
        {table["RouteTableId"]: table for table in networking.describe_route_tables(vpc_id)}
        if vpc_id
        else {}
    )
    elsewhere = [i for i in ids if i not in by_id]
    if elsewhere:
        found = client("ec2").describe_route_tables(
            Filters=[{"Name": "route-table-id", "Values": elsewhere}]
        )["RouteTables"]
        by_id.update({table["RouteTableId"]: table for table in found})
    return [by_id[i] for i in ids if i in by_id]


def endpoint_route(table: dict, prefix_list_id: str) -> dict | None:
    """The route of ``table`` whose destination is the service's prefix list, if any."""
    return next(
        (r for r in table.get("Routes", []) if r.get("DestinationPrefixListId") == prefix_list_id),
        None,
    )


# --- checking a request as AWS would -----------------------------------------------------------
def parse_policy(text: str) -> dict:
    """The policy as a dict, or LabError InvalidPolicyDocument saying what is wrong — or, for
    a condition the lab cannot evaluate, a LabError saying so (AWS itself would judge it)."""

    def refuse(reason_key: str, **values):
        return LabError(
            "endpoints.policy_invalid",
            code="InvalidPolicyDocument",
            field="policy",
            reason=t(reason_key, **values),
        )

    if len(text) > POLICY_MAX_CHARS:
        raise refuse("endpoints.policy_too_long", limit=POLICY_MAX_CHARS, length=len(text))
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as error:
        raise refuse("endpoints.policy_not_json", problem=json_problem(error)) from None
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise refuse("endpoints.policy_no_statement")
    if "Version" in policy and policy["Version"] not in POLICY_VERSIONS:
        raise refuse("endpoints.policy_bad_version", versions=", ".join(POLICY_VERSIONS))
    statements = policy["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise refuse("endpoints.policy_no_statement")
    for number, statement in enumerate(statements, start=1):
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise refuse("endpoints.policy_bad_effect", number=number)
        if "Action" not in statement and "NotAction" not in statement:
            raise refuse("endpoints.policy_no_action", number=number)
        # "Control access to VPC endpoints using endpoint policies": an endpoint policy "must
        # contain a Principal element".
        if "Principal" not in statement:
            raise refuse("endpoints.policy_no_principal", number=number)
        condition = statement.get("Condition", {})
        if not isinstance(condition, dict) or not all(
            isinstance(block, dict) for block in condition.values()
        ):
            raise refuse("endpoints.policy_bad_condition", number=number)
    unsupported = unsupported_condition(policy)
    if unsupported:
        raise unsupported
    return policy


def note_app_role_arn() -> str:
    return f"arn:aws:iam::{account_id()}:role{IAM_PATH}{DEFAULT_ROLE_NAME}"


def note_app_actions_refused(
    policy: dict, endpoint_id: str | None = None, vpc_id: str | None = None
) -> list[str]:
    """The note app's DynamoDB actions that ``policy`` (a gateway endpoint's policy) would
    refuse to the lab's function on the lab's table — decided as the explainer decides it, with
    the condition keys a call through the endpoint ``endpoint_id`` of ``vpc_id`` carries."""
    context = request_context(note_app_role_arn(), endpoint_id, vpc_id)
    return [
        action
        for action in NOTE_APP_ACTIONS
        if not policy_permits(
            policy, PolicyKind.ENDPOINT, action, table_arn(DEFAULT_TABLE_NAME), context
        )
    ]


def principal_warnings(policy: dict) -> list[LabError]:
    """Statements of a gateway endpoint's policy whose principal is not everyone: AWS grants
    an account or ``…:root`` principal there to the root user alone ("Principals for gateway
    endpoints"), so the note app's role is not among them."""
    return [
        LabError(
            "endpoints.policy_principal_gateway",
            field="policy",
            number=number,
            principal=json.dumps(statement["Principal"]),
            role_arn=note_app_role_arn(),
        )
        for number, statement in enumerate(statements(policy), start=1)
        if "Principal" in statement and not principal_is_everyone(statement["Principal"])
    ]


def tag_problems(pairs: dict[str, str], field_name: str = "tags") -> list[LabError]:
    """AWS's rules for each tag: key ≤ 128, value ≤ 256 characters, no ``aws:`` prefix."""
    problems = []
    for key, value in pairs.items():
        if not key.strip():
            problems.append(
                LabError("endpoints.tag_key_empty", code="InvalidParameterValue", field=field_name)
            )
        elif key.lower().startswith("aws:"):
            problems.append(
                LabError(
                    "endpoints.tag_key_reserved",
                    code="InvalidParameterValue",
                    field=field_name,
                    tag_key=key,
                )
            )
        elif key in LAB_TAG_KEYS:
            problems.append(LabError("endpoints.tag_key_lab", field=field_name, tag_key=key))
        if len(key) > TAG_KEY_MAX:
            problems.append(
                LabError(
                    "endpoints.tag_key_too_long",
                    code="InvalidParameterValue",
                    field=field_name,
                    tag_key=key[:20],
                    length=len(key),
                    limit=TAG_KEY_MAX,
                )
            )
        if len(value) > TAG_VALUE_MAX:
            problems.append(
                LabError(
                    "endpoints.tag_value_too_long",
                    code="InvalidParameterValue",
                    field=field_name,
                    tag_key=key[:20],
                    length=len(value),
                    limit=TAG_VALUE_MAX,
                )
            )
    return problems


def all_tags(request: EndpointRequest) -> dict[str, str]:
    return tags.lab_tags(
        CHAPTER,
        role_for(request),
        request.name.strip() or None,
        extra=request.extra_tags,
    )


def refusals(request: EndpointRequest) -> list[LabError]:
    """Every reason AWS (or the lab, for costs) would refuse ``request``; [] if none."""
    problems = tag_problems({"Name": request.name}, "name") + tag_problems(request.extra_tags)
    if len(all_tags(request)) > TAGS_MAX:
        problems.append(
            LabError(
                "endpoints.too_many_tags",
                code="TagLimitExceeded",
                field="tags",
                limit=TAGS_MAX - len(LAB_TAG_KEYS) - 1,
            )
        )
    if request.policy is not None:
        try:
            parse_policy(request.policy)
        except LabError as error:
            problems.append(error)
    service = find_service(request.service_name)
    region = current().region
    if not request.service_name:
        problems.append(
            LabError("endpoints.service_missing", code="MissingParameter", field="service")
        )
    elif service is None:
        problems.append(
            LabError(
                "endpoints.unknown_service",
                code="InvalidServiceName",
                field="service",
                service=request.service_name,
                region=region,
            )
        )
    elif request.endpoint_type not in service.types:
        problems.append(
            LabError(
                "endpoints.type_not_offered",
                code="InvalidParameter",
                field="endpoint_type",
                service=service.name,
                endpoint_type=request.endpoint_type,
                offered=", ".join(service.types),
            )
        )
    if networking.vpc_by_id(request.vpc_id or "-") is None:
        problems.append(
            LabError(
                "endpoints.vpc_missing",
                code="InvalidVpcID.NotFound",
                field="vpc",
                vpc_id=request.vpc_id,
            )
        )
        return problems
    if request.endpoint_type == GATEWAY:
        problems += route_table_problems(
            request.vpc_id,
            request.route_table_ids,
            request.service_name,
            ignore_endpoint=find_existing(request),
        )
    elif request.endpoint_type == INTERFACE:
        problems += _interface_problems(request, service)
    return problems


def route_table_problems(
    vpc_id: str, route_table_ids, service_name: str, ignore_endpoint: dict | None = None
) -> list[LabError]:
    """Missing route tables, another VPC's tables, and routes to the service already there."""
    problems = []
    found = route_tables(route_table_ids, vpc_id)
    found_ids = {table["RouteTableId"] for table in found}
    for missing in [i for i in route_table_ids if i not in found_ids]:
        problems.append(
            LabError(
                "endpoints.route_table_missing",
                code="InvalidRouteTableID.NotFound",
                field="route_tables",
                route_table_id=missing,
            )
        )
    for table in found:
        if table["VpcId"] != vpc_id:
            problems.append(
                LabError(
                    "endpoints.route_table_other_vpc",
                    code="InvalidParameter",
                    field="route_tables",
                    route_table_id=table["RouteTableId"],
                    other_vpc=table["VpcId"],
                    vpc_id=vpc_id,
                )
            )
    service = find_service(service_name)
    if not found or not service or GATEWAY not in service.types:
        return problems
    prefix_list_id = prefix_list_id_of(service_name)
    own = ignore_endpoint["VpcEndpointId"] if ignore_endpoint else None
    for table in found:
        route = endpoint_route(table, prefix_list_id)
        target = networking.route_target(route) if route else None
        if route and target != own:
            problems.append(
                LabError(
                    "endpoints.route_exists",
                    code="RouteAlreadyExists",
                    field="route_tables",
                    route_table_id=table["RouteTableId"],
                    prefix_list_id=prefix_list_id,
                    target=target,
                )
            )
    return problems


def _interface_problems(
    request: EndpointRequest, service: EndpointService | None
) -> list[LabError]:
    ec2 = client("ec2")
    problems = []
    if not request.subnet_ids:
        problems.append(LabError("endpoints.subnet_required", field="subnets"))
    subnets = (
        ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": request.subnet_ids}])[
            "Subnets"
        ]
        if request.subnet_ids
        else []
    )
    found = {s["SubnetId"]: s for s in subnets}
    zones_seen: dict[str, str] = {}
    for subnet_id in request.subnet_ids:
        subnet = found.get(subnet_id)
        if subnet is None:
            problems.append(
                LabError(
                    "endpoints.subnet_missing",
                    code="InvalidSubnetID.NotFound",
                    field="subnets",
                    subnet_id=subnet_id,
                )
            )
        elif subnet["VpcId"] != request.vpc_id:
            problems.append(
                LabError(
                    "endpoints.subnet_other_vpc",
                    code="InvalidParameter",
                    field="subnets",
                    subnet_id=subnet_id,
                    vpc_id=request.vpc_id,
                )
            )
        elif subnet["AvailabilityZone"] in zones_seen:
            problems.append(
                LabError(
                    "endpoints.subnets_same_zone",
                    code="DuplicateSubnetsInSameZone",
                    field="subnets",
                    first=zones_seen[subnet["AvailabilityZone"]],
                    second=subnet_id,
                    zone=subnet["AvailabilityZone"],
                )
            )
        else:
            zones_seen[subnet["AvailabilityZone"]] = subnet_id
    groups = (
        ec2.describe_security_groups(
            Filters=[{"Name": "group-id", "Values": request.security_group_ids}]
        )["SecurityGroups"]
        if request.security_group_ids
        else []
    )
    group_vpcs = {g["GroupId"]: g["VpcId"] for g in groups}
    for group_id in request.security_group_ids:
        if group_id not in group_vpcs:
            problems.append(
                LabError(
                    "endpoints.group_missing",
                    code="InvalidGroup.NotFound",
                    field="security_groups",
                    group_id=group_id,
                )
            )
        elif group_vpcs[group_id] != request.vpc_id:
            problems.append(
                LabError(
                    "endpoints.group_other_vpc",
                    code="InvalidParameter",
                    field="security_groups",
                    group_id=group_id,
                    vpc_id=request.vpc_id,
                )
            )
    if request.private_dns and service is not None and not service.private_dns:
        # AWS's own refusal (moto creates the endpoint anyway).
        problems.append(
            LabError(
                "endpoints.private_dns_not_offered",
                code="InvalidParameter",
                field="private_dns",
                service=service.name,
            )
        )
    elif request.private_dns and not _dns_enabled(request.vpc_id):
        problems.append(
            LabError(
                "endpoints.private_dns_needs_vpc_dns",
                code="InvalidParameter",
                field="private_dns",
                vpc_id=request.vpc_id,
            )
        )
    if not request.cost_confirmed:
        problems.append(
            LabError(
                "endpoints.cost_not_confirmed",
                field="confirm_cost",
                **interface_cost(len(zones_seen) or 1),
            )
        )
    return problems


def _dns_enabled(vpc_id: str) -> bool:
    ec2 = client("ec2")
    return all(
        ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"]
        for attribute, key in (
            ("enableDnsSupport", "EnableDnsSupport"),
            ("enableDnsHostnames", "EnableDnsHostnames"),
        )
    )


def interface_cost(zones: int) -> dict:
    """The values the cost messages quote for an interface endpoint in ``zones`` AZs."""
    hourly = costs.interface_endpoint_hourly(zones)
    gb_price = costs.price("interface_endpoint_gb")
    return {
        "zones": zones,
        "hourly": f"{hourly:.3f}",
        "monthly": f"{costs.monthly(hourly):.2f}",
        "per_gb": f"{gb_price.usd:.2f}",
        "source": gb_price.source,
        "date": costs.PRICES_RECORDED,
    }


def warnings(request: EndpointRequest) -> list[LabError]:
    """What AWS accepts but would leave the note app's Lambda function unable to reach DynamoDB."""
    dynamodb = dynamodb_service_name()
    problems = []
    # A service the region does not offer is already refused (or missing), with DynamoDB's name.
    if find_service(request.service_name) and request.service_name != dynamodb:
        problems.append(
            LabError(
                "endpoints.not_dynamodb",
                field="service",
                service=request.service_name,
                dynamodb=dynamodb,
            )
        )
    if request.endpoint_type == INTERFACE and request.service_name == dynamodb:
        problems.append(
            LabError(
                "endpoints.interface_not_used_by_note_app",
                field="endpoint_type",
                service=dynamodb,
                region=current().region,
            )
        )
    if request.endpoint_type != GATEWAY:
        return problems
    problems += _custom_policy_warnings(request)
    if not request.route_table_ids:
        problems.append(
            LabError("endpoints.no_route_table", field="route_tables", service=request.service_name)
        )
        return problems
    network = networking.find_lab_network()
    if network is None or network.vpc_id != request.vpc_id:
        return problems
    vpc_tables = networking.describe_route_tables(network.vpc_id)
    names = networking.subnet_names(network.vpc_id)
    for subnet_id in network.private_subnet_ids:
        table = networking.route_table_for_subnet(subnet_id, vpc_tables)
        if table and table["RouteTableId"] not in request.route_table_ids:
            problems.append(
                LabError(
                    "endpoints.private_subnet_not_covered",
                    field="route_tables",
                    subnet=names.get(subnet_id, subnet_id),
                    route_table_id=table["RouteTableId"],
                    route_table=tags.from_aws(table.get("Tags")).get("Name", table["RouteTableId"]),
                    service=request.service_name,
                )
            )
    return problems


def _custom_policy_warnings(request: EndpointRequest) -> list[LabError]:
    """A custom gateway-endpoint policy that AWS accepts but that would keep the note app out."""
    if request.policy is None:
        return []
    try:
        policy = parse_policy(request.policy)
    except LabError:
        return []  # already refused
    problems = principal_warnings(policy)
    refused = note_app_actions_refused(policy, vpc_id=request.vpc_id)
    if refused:
        problems.append(
            LabError(
                "endpoints.policy_refuses_note_app", field="policy", actions=", ".join(refused)
            )
        )
    return problems


# --- creating and changing -------------------------------------------------------------------
def create_endpoint(
    request: EndpointRequest, progress: Callable[[str], None] = print
) -> EndpointSnapshot:
    """Create the endpoint unless the lab made it already; refuse as AWS would first."""
    problems = refusals(request)
    if problems:
        raise problems[0]
    existing = find_existing(request)
    if existing:
        return snapshot(existing)
    before = route_tables(request.route_table_ids, request.vpc_id)
    # Read before the write, so the checks' read serves: an endpoint renames no subnet.
    names = networking.subnet_names(request.vpc_id)
    params = {
        "VpcId": request.vpc_id,
        "ServiceName": request.service_name,
        "VpcEndpointType": request.endpoint_type,
        "TagSpecifications": tags.tag_specification("vpc-endpoint", all_tags(request)),
        # One token per click: botocore's own retries cannot make a second endpoint.
        "ClientToken": uuid.uuid4().hex,
    }
    if request.endpoint_type == GATEWAY:
        params["RouteTableIds"] = list(request.route_table_ids)
        params["PolicyDocument"] = request.policy or json.dumps(FULL_ACCESS_POLICY)
    else:
        params.update(SubnetIds=list(request.subnet_ids), PrivateDnsEnabled=request.private_dns)
        if request.security_group_ids:
            params["SecurityGroupIds"] = list(request.security_group_ids)
        if request.policy is not None:
            params["PolicyDocument"] = request.policy
    ec2 = client("ec2")
    if current().is_real_aws:
        _dry_run(ec2, params)
    created = ec2.create_vpc_endpoint(**params)["VpcEndpoint"]
    # CreateVpcEndpoint answers with the endpoint as DescribeVpcEndpoints would: asked again
    # only while it is not yet available.
    ready = (
        created
        if created["State"].lower() == "available"
        else wait_until_available(created["VpcEndpointId"], progress)
    )
    result = snapshot(ready, before=before, subnet_names=names, tables=sync_routes(ready, progress))
    result.created = True
    return result


def _dry_run(ec2, params: dict) -> None:
    """Ask AWS whether the request would succeed (permissions, limits) before making anything.

    Only on AWS: moto ignores DryRun and would create the endpoint.
    """
    try:
        ec2.create_vpc_endpoint(
            DryRun=True, **{k: v for k, v in params.items() if k != "ClientToken"}
        )
    except ClientError as error:
        if aws_error_code(error) != "DryRunOperation":
            raise


def wait_until_available(endpoint_id: str, progress: Callable[[str], None] = print) -> dict:
    """Poll until the endpoint is ``available`` (at once on moto), telling the learner."""
    started = time.monotonic()
    while True:
        found = endpoint(endpoint_id)
        state = found["State"].lower()
        if state == "available":
            return found
        if state in GONE_STATES or time.monotonic() - started > WAIT_SECONDS:
            raise LabError("endpoints.not_available", endpoint_id=endpoint_id, state=state)
        progress(
            t(
                "endpoints.waiting",
                endpoint_id=endpoint_id,
                state=state,
                seconds=int(time.monotonic() - started),
            )
        )
        time.sleep(POLL_SECONDS)
        read_cache.expire()


def route_mismatches(found: dict, tables: list[dict]) -> tuple[list[str], list[str]]:
    """Of the VPC's route ``tables``, those that should hold the endpoint's route but do not,
    and the reverse."""
    prefix_list_id = prefix_list_id_of(found["ServiceName"])
    wanted = set(found.get("RouteTableIds", []))
    missing, stale = [], []
    for table in tables:
        route = endpoint_route(table, prefix_list_id)
        has_own = route is not None and networking.route_target(route) == found["VpcEndpointId"]
        if table["RouteTableId"] in wanted and not has_own:
            missing.append(table["RouteTableId"])
        elif table["RouteTableId"] not in wanted and has_own:
            stale.append(table["RouteTableId"])
    return missing, stale


def sync_routes(found: dict, progress: Callable[[str], None] = print) -> list[dict]:
    """Make the route tables' routes agree with the endpoint's ``RouteTableIds``; the VPC's
    route tables as they are then (none for an interface endpoint).

    AWS does this itself (the lab waits until it has: the tables last read are the ones
    returned). moto's ``modify_vpc_endpoint`` only edits the list, so on other backends the lab
    adds the missing ``pl-… → vpce-…`` routes and removes stale ones (deleting the endpoint
    later then finds every route it expects), and returns the tables it read with its own
    edits made, rather than reading them once more.
    """
    if found.get("VpcEndpointType") != GATEWAY:
        return []
    endpoint_id = found["VpcEndpointId"]
    started = time.monotonic()
    while True:
        tables = networking.describe_route_tables(found["VpcId"])
        missing, stale = route_mismatches(found, tables)
        if not missing and not stale:
            return tables
        if not current().is_real_aws:
            break
        if time.monotonic() - started > WAIT_SECONDS:
            raise LabError(
                "endpoints.routes_not_updated",
                endpoint_id=endpoint_id,
                route_tables=", ".join(missing + stale),
            )
        progress(
            t(
                "endpoints.waiting_routes",
                endpoint_id=endpoint_id,
                seconds=int(time.monotonic() - started),
            )
        )
        time.sleep(POLL_SECONDS)
        read_cache.expire()
    ec2 = client("ec2")
    prefix_list_id = prefix_list_id_of(found["ServiceName"])
    for route_table_id in missing:
        ec2.create_route(
            RouteTableId=route_table_id,
            DestinationPrefixListId=prefix_list_id,
            GatewayId=endpoint_id,
        )
    for route_table_id in stale:
        ec2.delete_route(RouteTableId=route_table_id, DestinationPrefixListId=prefix_list_id)
    return [_with_endpoint_route(t, found, prefix_list_id, missing, stale) for t in tables]


def _with_endpoint_route(
    table: dict, found: dict, prefix_list_id: str, added: list[str], removed: list[str]
) -> dict:
    """``table`` after the lab's own CreateRoute (``added``) or DeleteRoute (``removed``) of the
    endpoint's route, both of which succeeded: the route as DescribeRouteTables shows it."""
    table_id = table["RouteTableId"]
    if table_id not in added and table_id not in removed:
        return table
    routes = [
        route
        for route in table.get("Routes", [])
        if route.get("DestinationPrefixListId") != prefix_list_id
    ]
    if table_id in added:
        routes.append(
            {
                "DestinationPrefixListId": prefix_list_id,
                "GatewayId": found["VpcEndpointId"],
                "Origin": "CreateRoute",
                "State": "active",
            }
        )
    return {**table, "Routes": routes}


def described(endpoint_or_id: str | dict) -> dict:
    """The endpoint as AWS describes it: ``endpoint_or_id`` itself when the caller has just
    read it (a chapter verb that found the lab's endpoint), else read by its id."""
    return endpoint_or_id if isinstance(endpoint_or_id, dict) else endpoint(endpoint_or_id)


def set_route_tables(endpoint_or_id: str | dict, add=(), remove=()) -> EndpointSnapshot:
    """Attach (``add``) or detach (``remove``) route tables; the routes really change."""
    found = described(endpoint_or_id)
    endpoint_id = found["VpcEndpointId"]
    if found.get("VpcEndpointType") != GATEWAY:
        raise LabError(
            "endpoints.route_tables_gateway_only", code="InvalidParameter", endpoint_id=endpoint_id
        )
    attached = set(found.get("RouteTableIds", []))
    add = [i for i in dict.fromkeys(add) if i not in attached]
    remove = [i for i in dict.fromkeys(remove) if i in attached]
    problems = route_table_problems(
        found["VpcId"], add, found["ServiceName"], ignore_endpoint=found
    )
    if problems:
        raise problems[0]
    before = route_tables([*found.get("RouteTableIds", []), *add], found["VpcId"])
    names = networking.subnet_names(found["VpcId"])  # before the writes (see create_endpoint)
    if add or remove:
        changes = {}
        if add:
            changes["AddRouteTableIds"] = add
        if remove:
            changes["RemoveRouteTableIds"] = remove
        client("ec2").modify_vpc_endpoint(VpcEndpointId=endpoint_id, **changes)
        # The change succeeded: AWS's RouteTableIds are now the old ones less ``remove`` plus
        # ``add`` (ModifyVpcEndpoint, Amazon EC2 API Reference), so they are not read again;
        # the routes themselves are read (and waited for) by sync_routes.
        kept = [i for i in found.get("RouteTableIds", []) if i not in remove]
        found = {**found, "RouteTableIds": [*kept, *add]}
        tables = sync_routes(found)
    else:
        tables = None
    return snapshot(
        found,
        before=before,
        shown_ids=[table["RouteTableId"] for table in before],
        subnet_names=names,
        tables=tables,
    )


@dataclass(frozen=True)
class EndpointChange:
    """What differs between an existing gateway endpoint and a request for it, as the console's
    *Manage route tables* and *Manage policy* would change it."""

    endpoint_id: str
    add: list[str]
    remove: list[str]
    policy: str | None  # the new policy text (Full access written out), or None: unchanged

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.policy)


def _same_policy(current: str | None, wanted: str) -> bool:
    try:
        return json.loads(current or json.dumps(FULL_ACCESS_POLICY)) == json.loads(wanted)
    except ValueError:
        return False


def change_for(request: EndpointRequest) -> EndpointChange | None:
    """The change that would make the lab's existing endpoint for ``request`` what the request
    asks (None: no such endpoint, or not a gateway endpoint)."""
    existing = find_existing(request)
    if existing is None or existing.get("VpcEndpointType") != GATEWAY:
        return None
    attached = existing.get("RouteTableIds", [])
    wanted = request.policy if request.policy is not None else json.dumps(FULL_ACCESS_POLICY)
    return EndpointChange(
        existing["VpcEndpointId"],
        add=[i for i in request.route_table_ids if i not in attached],
        remove=[i for i in attached if i not in request.route_table_ids],
        policy=None if _same_policy(existing.get("PolicyDocument"), wanted) else wanted,
    )


def apply_change(change: EndpointChange) -> EndpointSnapshot:
    """Apply ``change``: route tables first (their before/after is what the learner sees)."""
    result = set_route_tables(change.endpoint_id, add=change.add, remove=change.remove)
    if change.policy is not None:
        result = replace(result, endpoint=set_policy(change.endpoint_id, change.policy))
    return result


def set_policy(endpoint_or_id: str | dict, policy_document: str | dict | None) -> dict:
    """Replace the endpoint policy (None: Full access); refused as AWS would if invalid. The
    endpoint afterwards: as described before the change, with the policy the lab sent (the
    change succeeded, and a policy changes nothing else of the endpoint nor any route table,
    so nothing is read again)."""
    if policy_document is None:
        text = json.dumps(FULL_ACCESS_POLICY)
    else:
        text = (
            policy_document
            if isinstance(policy_document, str)
            else json.dumps(policy_document, indent=2)
        )
        parse_policy(text)
    found = described(endpoint_or_id)
    client("ec2").modify_vpc_endpoint(VpcEndpointId=found["VpcEndpointId"], PolicyDocument=text)
    return {**found, "PolicyDocument": text}


def snapshot(
    found: dict,
    before: list[dict] | None = None,
    shown_ids: list[str] | None = None,
    subnet_names: dict[str, str] | None = None,
    tables: list[dict] | None = None,
) -> EndpointSnapshot:
    """The endpoint now, its route tables now, and (if given) what they were before; the
    subnets' names and the VPC's route ``tables`` are read unless the caller has them."""
    gateway = found.get("VpcEndpointType") == GATEWAY
    ids = shown_ids if shown_ids is not None else found.get("RouteTableIds", [])
    if gateway and tables is not None:
        by_id = {table["RouteTableId"]: table for table in tables}
        after = [by_id[i] for i in ids if i in by_id]
    else:
        after = route_tables(ids, found["VpcId"]) if gateway else []
    return EndpointSnapshot(
        endpoint=found,
        prefix_list=prefix_list(found["ServiceName"]) if gateway else None,
        after=after,
        before=before or [],
        subnet_names=(
            subnet_names if subnet_names is not None else networking.subnet_names(found["VpcId"])
        ),
    )


def current_snapshot() -> EndpointSnapshot:
    """The lab's DynamoDB endpoint as it is now, with the route tables it is attached to."""
    found = find_lab_endpoint()
    if found is None:
        raise LabError("endpoints.check_exists_missing")
    return snapshot(found)


# --- the chapter as a whole ------------------------------------------------------------------
def _route_table_reference(table: dict) -> dict:
    """How the journal names a route table: by its lab role and Name (ids change)."""
    found = tags.from_aws(table.get("Tags"))
    return {"role": found.get(tags.ROLE_KEY), "name": found.get("Name")}


def route_table_references(route_table_ids, vpc_id: str | None = None) -> list[dict]:
    return [
        _route_table_reference(table)
        for table in route_tables(route_table_ids, vpc_id)
        if tags.is_lab_resource(table.get("Tags"))
    ]


def route_tables_referenced(vpc_id: str, references: list[dict]) -> list[str]:
    """The ids, today, of the route tables the journal names (see ``route_table_references``)."""
    return [
        table["RouteTableId"]
        for table in networking.describe_route_tables(vpc_id)
        if tags.is_lab_resource(table.get("Tags")) and _route_table_reference(table) in references
    ]


def default_route_tables(vpc_id: str) -> list[str]:
    """The route tables the form pre-checks: the lab's private ones, if this is the lab's VPC."""
    network = networking.find_lab_network()
    if network is None or network.vpc_id != vpc_id:
        return []
    return list(network.private_route_table_ids)


def check_chapter() -> list[Check]:
    """What chapter 02 should have made, and what is missing (for "Check your work")."""
    service = dynamodb_service_name()
    found = find_lab_endpoint()
    if found is None:
        return [Check(t("endpoints.check_exists"), False, t("endpoints.check_exists_missing"))]
    endpoint_id = found["VpcEndpointId"]
    network = networking.find_lab_network()
    checks = [
        Check(
            t("endpoints.check_exists"),
            found["State"].lower() == "available",
            t("endpoints.check_state", endpoint_id=endpoint_id, state=found["State"]),
        ),
        Check(
            t("endpoints.check_service", service=service),
            found["ServiceName"] == service and found.get("VpcEndpointType") == GATEWAY,
            f"{found['ServiceName']} ({found.get('VpcEndpointType')})",
        ),
        Check(
            t("endpoints.check_vpc"),
            bool(network and found["VpcId"] == network.vpc_id),
            t(
                "endpoints.check_vpc_detail",
                vpc_id=found["VpcId"],
                lab_vpc=network.vpc_id if network else "-",
            ),
        ),
    ]
    if network:
        prefix_list_id = prefix_list_id_of(service)
        vpc_tables = networking.describe_route_tables(network.vpc_id)
        names = networking.subnet_names(network.vpc_id)
        for subnet_id in network.private_subnet_ids:
            table = networking.route_table_for_subnet(subnet_id, vpc_tables)
            route = endpoint_route(table, prefix_list_id) if table else None
            ok = bool(route and networking.route_target(route) == endpoint_id)
            detail_key = "endpoints.check_route_ok" if ok else "endpoints.check_route_missing"
            checks.append(
                Check(
                    t("endpoints.check_route", subnet=names.get(subnet_id, subnet_id)),
                    ok,
                    t(
                        detail_key,
                        route_table_id=table["RouteTableId"] if table else "-",
                        prefix_list_id=prefix_list_id,
                        endpoint_id=endpoint_id,
                    ),
                )
            )
    policy = json.loads(found.get("PolicyDocument") or json.dumps(FULL_ACCESS_POLICY))
    refused = note_app_actions_refused(policy, endpoint_id, found["VpcId"])
    checks.append(
        Check(
            t("endpoints.check_policy"),
            not refused,
            t("endpoints.check_policy_refuses", actions=", ".join(refused))
            if refused
            else t("endpoints.check_policy_ok", actions=", ".join(NOTE_APP_ACTIONS)),
        )
    )
    return checks
