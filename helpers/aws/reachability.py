"""Can the Lambda function reach its DynamoDB table? The path, hop by hop, from describe calls.

Lambda function → subnet → route table → matching route → security group and network ACL →
gateway endpoint → endpoint policy → execution role → table. Only describe/get calls are
made, so the verdict on a real account is computed exactly as on the embedded backend, and
the lab's invoker uses this same verdict to decide how an invocation ends.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import unquote

from moto.iam.access_control import IAMPolicy, PermissionResult

from helpers.aws import endpoints, networking
from helpers.core import clients
from helpers.core.errors import aws_error_code
from helpers.core.messages import t
from helpers.core.settings import current

OK, FAILED, WARNING, SKIPPED = "ok", "failed", "warning", "skipped"
HOP_KEYS = (
    "function",
    "subnet",
    "route_table",
    "route",
    "firewall",
    "endpoint",
    "endpoint_policy",
    "role",
    "table",
)

# What Lambda needs on EC2 to attach a function to a VPC (AWSLambdaVPCAccessExecutionRole).
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
)
HTTPS_PORT = 443
# Linux's ephemeral port range (Lambda runs on Linux): DynamoDB's answers come back to these.
EPHEMERAL_PORTS = (32768, 60999)


@dataclass
class Hop:
    key: str  # one of HOP_KEYS
    resource: str  # the id or name the learner sees in the console
    status: str  # ok, failed, warning, skipped
    reason: str  # why, in the learner's language

    @property
    def title(self) -> str:
        return t(f"reachability.hop_{self.key}")


@dataclass
class Authorizer:
    """The two policies a DynamoDB request must pass (endpoint policy only on the endpoint path).

    Plain JSON-able data, so the invoker's sandboxed handler decides each call with it.
    """

    principal_arn: str  # the execution role
    session_arn: str  # how DynamoDB names the caller: the role's session for the function
    role_policies: list[list] = field(default_factory=list)  # [policy name, document] pairs
    endpoint_id: str | None = None
    endpoint_policy: dict | None = None
    context: dict = field(default_factory=dict)  # condition keys (lower case) → values

    def role_result(self, action: str, resource: str) -> PermissionResult:
        return _evaluate(
            [document for _, document in self.role_policies],
            action,
            resource,
            self.principal_arn,
            self.context,
        )

    def endpoint_result(self, action: str, resource: str) -> PermissionResult:
        if self.endpoint_policy is None:  # not on the endpoint path: no endpoint policy applies
            return PERMITTED
        return _evaluate([self.endpoint_policy], action, resource, self.principal_arn, self.context)

    def denial(self, action: str, resource: str) -> str | None:
        """AWS's AccessDeniedException message for ``action`` on ``resource``, or None."""
        role, endpoint = self.role_result(action, resource), self.endpoint_result(action, resource)
        if endpoint == DENIED:
            because = "with an explicit deny in a VPC endpoint policy"
        elif role == DENIED:
            because = "with an explicit deny in an identity-based policy"
        elif endpoint != PERMITTED:
            because = f"because no VPC endpoint policy allows the {action} action"
        elif role != PERMITTED:
            because = f"because no identity-based policy allows the {action} action"
        else:
            return None
        return (
            f"User: {self.session_arn} is not authorized to perform: {action} "
            f"on resource: {resource} {because}"
        )

    def denied_by(self, action: str, resource: str) -> str | None:
        """Which policy refuses: "endpoint_policy", "role", or None."""
        message = self.denial(action, resource)
        if message is None:
            return None
        return "endpoint_policy" if "VPC endpoint policy" in message else "role"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Authorizer:
        return cls(**data)


@dataclass
class Failure:
    """How the invocation ends when the path is broken, exactly as Lambda reports it."""

    kind: str  # "timeout" (function error), "access_denied" (from DynamoDB), "invoke_error"
    code: str  # AWS's error code, or "Task timed out"
    message: str
    denied_by: str | None = None  # "endpoint_policy" or "role" for access_denied


@dataclass
class PathVerdict:
    function_name: str
    function_arn: str | None
    timeout_seconds: int
    table_name: str | None
    table_arn: str | None
    actions: list[str]
    hops: list[Hop]
    via: str | None  # "endpoint", "nat", "public" (not in a VPC), or None: no path
    authorizer: Authorizer | None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def hop(self, key: str) -> Hop:
        return next(h for h in self.hops if h.key == key)

    @property
    def first_failed(self) -> Hop | None:
        return next((h for h in self.hops if h.status == FAILED), None)


# --- policy evaluation: moto's IAM evaluator, fed documents in the shape it understands ---
PERMITTED, DENIED, NEUTRAL = (
    PermissionResult.PERMITTED,
    PermissionResult.DENIED,
    PermissionResult.NEUTRAL,
)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, principal_arn: str) -> bool:
    if principal is None or principal == "*":
        return True
    if not isinstance(principal, dict) or "AWS" not in principal:
        return False  # a service or federated principal is never the function's role
    account = principal_arn.split(":")[4]
    accepted = {"*", principal_arn, account, f"arn:aws:iam::{account}:root"}
    return any(p in accepted for p in _as_list(principal["AWS"]))


def _for_moto(document: dict, principal_arn: str) -> list[dict]:
    """The statements of ``document`` that concern the role, in the shape moto's evaluator reads.

    IAM matches actions and condition keys case-insensitively while moto compares them
    exactly, so both are lower-cased (and so is the action asked about). Principals are
    matched here, because moto treats a statement for another principal as a deny.
    """
    statements = []
    for statement in _as_list(document.get("Statement", [])):
        if not _principal_matches(statement.get("Principal"), principal_arn):
            continue
        statement = {k: v for k, v in statement.items() if k != "Principal"}
        for key in ("Action", "NotAction"):
            if key in statement:
                statement[key] = [a.lower() for a in _as_list(statement[key])]
        if "Condition" in statement:
            statement["Condition"] = {
                op: {k.lower(): v for k, v in values.items()}
                for op, values in statement["Condition"].items()
            }
        statements.append(statement)
    return statements


def _applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    """Whether ``statement`` matches the request (action, resource and conditions).

    moto answers "denied" both for a matching Deny and for any statement whose condition is
    not met; asking about the statement as an Allow separates the two: PERMITTED means it
    matches, whatever its real effect.
    """
    probe = {"Version": "2012-10-17", "Statement": [{**statement, "Effect": "Allow"}]}
    return (
        IAMPolicy(json.dumps(probe)).is_action_permitted(action.lower(), resource, None, context)
        == PERMITTED
    )


def _evaluate(
    documents: list[dict], action: str, resource: str, principal_arn: str, context: dict
) -> PermissionResult:
    """Explicit deny wins, then any allow, else neutral (an implicit deny)."""
    matching = [
        statement
        for document in documents
        for statement in _for_moto(document, principal_arn)
        if _applies(statement, action, resource, context)
    ]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return DENIED
    return PERMITTED if matching else NEUTRAL


def policy_permits(document: dict, action: str, resource: str, principal_arn: str) -> bool:
    """Whether ``document`` on its own lets ``principal_arn`` do ``action`` on ``resource``."""
    return _evaluate([document], action, resource, principal_arn, {}) == PERMITTED


# --- gathering the facts (describe/get calls only) ------------------------------------------
def _function_config(function_name: str | None) -> dict | None:
    if function_name is None:
        from helpers.aws.functions import find_lab_function

        return find_lab_function()
    try:
        return clients.client("lambda").get_function_configuration(FunctionName=function_name)
    except Exception as error:
        if aws_error_code(error) == "ResourceNotFoundException":
            return None
        raise


def _prefix_list(region: str) -> tuple[str | None, list[str]]:
    """The id and CIDRs of ``region``'s DynamoDB prefix list.

    Only the lab's own region is looked up: a gateway endpoint serves its own region, so for
    a table elsewhere only a default route (0.0.0.0/0, through a NAT gateway) can carry the
    traffic, and that is what is looked for.
    """
    if region != current().region:
        return None, ["0.0.0.0/0"]
    found = endpoints.prefix_list(endpoints.dynamodb_service_name(region))
    return found.id, found.cidrs


def _route_table_of(subnet: dict) -> dict | None:
    """The subnet's explicitly associated route table, else its VPC's main one."""
    return networking.route_table_for_subnet(
        subnet["SubnetId"], networking.describe_route_tables(subnet["VpcId"])
    )


def _name(resource: dict, id_key: str) -> str:
    name = networking.name_of(resource)
    return f"{resource[id_key]} ({name})" if name else resource[id_key]


def _route_for(route_table: dict, prefix_list_id: str | None, cidr: str) -> dict | None:
    """The route traffic to ``cidr`` takes: the longest prefix wins; a prefix-list route counts
    as long as ``cidr`` itself, and on a tie the CIDR route wins (AWS's route priority)."""
    best, best_rank = None, None
    for route in route_table.get("Routes", []):
        if prefix_list_id and route.get("DestinationPrefixListId") == prefix_list_id:
            rank = (ipaddress.ip_network(cidr).prefixlen, 0)
        elif _covers(cidr, route.get("DestinationCidrBlock")):
            rank = (ipaddress.ip_network(route["DestinationCidrBlock"]).prefixlen, 1)
        else:
            continue
        if best_rank is None or rank > best_rank:
            best, best_rank = route, rank
    return best


def _covers(cidr: str, destination: str | None) -> bool:
    if not destination:
        return False
    inner, outer = ipaddress.ip_network(cidr), ipaddress.ip_network(destination)
    return inner.version == outer.version and inner.subnet_of(outer)


def _port_rule_matches(protocol: str, port_range: tuple | None, port: int) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    if str(protocol) not in ("6", "tcp"):
        return False
    return port_range is None or port_range[0] <= port <= port_range[1]


def _security_groups_allow(
    ec2, group_ids: list[str], prefix_list_id: str, cidrs: list[str]
) -> tuple[bool, str]:
    if not group_ids:
        return True, ""
    groups = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
    for cidr in cidrs:
        allowed = False
        for group in groups:
            for rule in group.get("IpPermissionsEgress", []):
                ports = (rule["FromPort"], rule["ToPort"]) if "FromPort" in rule else None
                if not _port_rule_matches(rule.get("IpProtocol", "-1"), ports, HTTPS_PORT):
                    continue
                if any(_covers(cidr, r.get("CidrIp")) for r in rule.get("IpRanges", [])) or any(
                    p.get("PrefixListId") == prefix_list_id for p in rule.get("PrefixListIds", [])
                ):
                    allowed = True
        if not allowed:
            return False, t(
                "reachability.security_group_blocks", groups=", ".join(group_ids), cidr=cidr
            )
    return True, ", ".join(group_ids)


def _network_acl_allows(ec2, subnet_id: str, cidrs: list[str]) -> tuple[bool, str]:
    acls = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["NetworkAcls"]
    if not acls:
        return True, ""
    acl = acls[0]

    def first_match(egress: bool, cidr: str, port: int) -> str:
        entries = sorted(
            (e for e in acl.get("Entries", []) if e.get("Egress") == egress),
            key=lambda e: e["RuleNumber"],
        )
        for entry in entries:
            ports = entry.get("PortRange")
            span = (ports["From"], ports["To"]) if ports else None
            if _covers(cidr, entry.get("CidrBlock")) and _port_rule_matches(
                entry.get("Protocol", "-1"), span, port
            ):
                return entry["RuleAction"]
        return "deny"

    for cidr in cidrs:
        if first_match(True, cidr, HTTPS_PORT) != "allow":
            return False, t("reachability.acl_blocks_out", acl=acl["NetworkAclId"], cidr=cidr)
        if any(first_match(False, cidr, port) != "allow" for port in EPHEMERAL_PORTS):
            return False, t("reachability.acl_blocks_back", acl=acl["NetworkAclId"], cidr=cidr)
    return True, acl["NetworkAclId"]


@dataclass
class _SubnetPath:
    """What the network says for one of the function's subnets."""

    subnet: str
    hops: list[Hop]
    via: str | None
    endpoint: dict | None = None

    @property
    def progress(self) -> int:
        return sum(1 for h in self.hops if h.status == OK)


def _endpoint_hop(ec2, endpoint_id: str, vpc_id: str, region: str) -> tuple[Hop, dict | None]:
    try:
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    except Exception as error:
        if aws_error_code(error) not in (
            "InvalidVpcEndpointId.NotFound",
            "InvalidVpcEndpointId.Malformed",
        ):
            raise
        found = []
    if not found or found[0]["State"].lower() in ("deleted", "deleting"):
        return Hop(
            "endpoint",
            endpoint_id,
            FAILED,
            t("reachability.endpoint_deleted", endpoint=endpoint_id),
        ), None
    endpoint = found[0]
    label = _name(endpoint, "VpcEndpointId")
    expected_service = f"com.amazonaws.{region}.dynamodb"
    if endpoint["State"].lower() != "available":
        return Hop(
            "endpoint",
            label,
            FAILED,
            t("reachability.endpoint_not_available", state=endpoint["State"]),
        ), endpoint
    if endpoint["ServiceName"] != expected_service:
        return Hop(
            "endpoint",
            label,
            FAILED,
            t(
                "reachability.endpoint_wrong_service",
                service=endpoint["ServiceName"],
                expected=expected_service,
            ),
        ), endpoint
    if endpoint["VpcId"] != vpc_id:
        return Hop(
            "endpoint",
            label,
            FAILED,
            t("reachability.endpoint_other_vpc", vpc=endpoint["VpcId"], expected=vpc_id),
        ), endpoint
    return Hop(
        "endpoint",
        label,
        OK,
        t("reachability.endpoint_ok", service=expected_service, state=endpoint["State"]),
    ), endpoint


def _nat_hop(ec2, nat_id: str, prefix_list_id: str, cidrs: list[str]) -> Hop:
    """A NAT gateway leads to DynamoDB's public endpoint if it sits in a public subnet."""
    found = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
    if not found or found[0]["State"] != "available":
        state = found[0]["State"] if found else "deleted"
        return Hop("endpoint", nat_id, FAILED, t("reachability.nat_not_available", state=state))
    nat = found[0]
    subnet = ec2.describe_subnets(SubnetIds=[nat["SubnetId"]])["Subnets"][0]
    route_table = _route_table_of(subnet)
    for cidr in cidrs:
        route = _route_for(route_table or {}, prefix_list_id, cidr)
        if (
            not route
            or not networking.route_target(route).startswith("igw-")
            or route.get("State") != "active"
        ):
            return Hop(
                "endpoint", nat_id, FAILED, t("reachability.nat_not_public", subnet=nat["SubnetId"])
            )
    return Hop("endpoint", nat_id, OK, t("reachability.nat_ok", subnet=nat["SubnetId"]))


def _other_endpoints_hint(ec2, vpc_id: str, route_table_id: str, region: str) -> str:
    """Why the route is missing, when an endpoint exists but is not where it should be."""
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
        ]
    )["VpcEndpoints"]
    hints = []
    for endpoint in endpoints:
        if endpoint["State"].lower() in ("deleted", "deleting") or not endpoint[
            "ServiceName"
        ].endswith(".dynamodb"):
            continue
        if endpoint["ServiceName"] != f"com.amazonaws.{region}.dynamodb":
            hints.append(
                t(
                    "reachability.hint_other_region",
                    endpoint=endpoint["VpcEndpointId"],
                    service=endpoint["ServiceName"],
                    region=region,
                )
            )
        elif route_table_id not in endpoint.get("RouteTableIds", []):
            tables = ", ".join(endpoint.get("RouteTableIds", []))
            key = "hint_other_tables" if tables else "hint_no_tables"
            hints.append(
                t(
                    f"reachability.{key}",
                    endpoint=endpoint["VpcEndpointId"],
                    tables=tables,
                    route_table=route_table_id,
                )
            )
    return " ".join(hints) or t("reachability.hint_no_endpoint")


def _route_hop(
    ec2, subnet: dict, route_table: dict, prefix: tuple[str | None, list[str]], region: str
) -> tuple[Hop, str | None, str | None]:
    """The route DynamoDB's addresses take; how it leaves ("endpoint", "nat") and its target."""
    prefix_list_id, cidrs = prefix
    destination_label = prefix_list_id or cidrs[0]
    routes = [_route_for(route_table, prefix_list_id, cidr) for cidr in cidrs]
    missing = [cidr for cidr, route in zip(cidrs, routes, strict=False) if route is None]
    if missing:
        hint = _other_endpoints_hint(ec2, subnet["VpcId"], route_table["RouteTableId"], region)
        return (
            Hop(
                "route",
                t("reachability.route_missing_label", prefix_list=destination_label),
                FAILED,
                t(
                    "reachability.route_missing",
                    route_table=route_table["RouteTableId"],
                    prefix_list=destination_label,
                    cidr=missing[0],
                    hint=hint,
                ),
            ),
            None,
            None,
        )
    targets = {networking.route_target(route) for route in routes}
    destination = routes[0].get("DestinationPrefixListId") or routes[0].get("DestinationCidrBlock")
    target = networking.route_target(routes[0])
    label = f"{destination} → {target}"
    if len(targets) > 1:
        reason = t("reachability.route_split", targets=", ".join(sorted(targets)))
    elif any(r.get("State") != "active" for r in routes):
        reason = t("reachability.route_blackhole", target=target)
    elif target.startswith("igw-"):
        reason = t("reachability.route_to_igw", target=target)
    elif not target.startswith(("vpce-", "nat-")):
        reason = t("reachability.route_elsewhere", target=target)
    else:
        return (
            Hop(
                "route",
                label,
                OK,
                t(
                    "reachability.route_ok",
                    cidrs=", ".join(cidrs),
                    prefix_list=destination_label,
                    target=target,
                ),
            ),
            ("endpoint" if target.startswith("vpce-") else "nat"),
            target,
        )
    return Hop("route", label, FAILED, reason), None, None


def _subnet_path(
    ec2, subnet: dict, function: dict, prefix: tuple[str | None, list[str]], region: str
) -> _SubnetPath:
    subnet_id = subnet["SubnetId"]
    hops = []
    dns = ec2.describe_vpc_attribute(VpcId=subnet["VpcId"], Attribute="enableDnsSupport")
    if not dns["EnableDnsSupport"]["Value"]:
        hops.append(
            Hop(
                "subnet",
                _name(subnet, "SubnetId"),
                FAILED,
                t("reachability.dns_off", vpc=subnet["VpcId"]),
            )
        )
        return _SubnetPath(subnet_id, hops, None)
    hops.append(
        Hop(
            "subnet",
            _name(subnet, "SubnetId"),
            OK,
            t(
                "reachability.subnet_ok",
                vpc=subnet["VpcId"],
                cidr=subnet["CidrBlock"],
                zone=subnet["AvailabilityZone"],
            ),
        )
    )
    route_table = _route_table_of(subnet)
    if route_table is None:
        hops.append(Hop("route_table", "-", FAILED, t("reachability.no_route_table")))
        return _SubnetPath(subnet_id, hops, None)
    table_label = _name(route_table, "RouteTableId")
    how = t(
        "reachability.associated_table"
        if subnet_id in networking.associated_subnet_ids(route_table)
        else "reachability.main_table"
    )
    hops.append(Hop("route_table", table_label, OK, how))
    prefix_list_id, cidrs = prefix
    route_hop, via, target = _route_hop(ec2, subnet, route_table, prefix, region)
    hops.append(route_hop)
    if via is None:
        return _SubnetPath(subnet_id, hops, None)
    group_ok, group_detail = _security_groups_allow(
        ec2, function.get("VpcConfig", {}).get("SecurityGroupIds", []), prefix_list_id, cidrs
    )
    acl_ok, acl_detail = _network_acl_allows(ec2, subnet_id, cidrs)
    firewall_label = ", ".join(x for x in (group_detail, acl_detail) if x and group_ok and acl_ok)
    if not group_ok or not acl_ok:
        hops.append(Hop("firewall", "-", FAILED, group_detail if not group_ok else acl_detail))
        return _SubnetPath(subnet_id, hops, None)
    hops.append(Hop("firewall", firewall_label or "-", OK, t("reachability.firewall_ok")))
    if via == "nat":
        hop = _nat_hop(ec2, target, prefix_list_id, cidrs)
        hops.append(hop)
        return _SubnetPath(subnet_id, hops, via if hop.status == OK else None)
    hop, endpoint = _endpoint_hop(ec2, target, subnet["VpcId"], region)
    hops.append(hop)
    return _SubnetPath(subnet_id, hops, via if hop.status == OK else None, endpoint)


def _network(
    function: dict, region: str
) -> tuple[list[Hop], str | None, dict | None, Failure | None]:
    """The network hops of the best subnet, how traffic leaves, and the endpoint used."""
    subnet_ids = function.get("VpcConfig", {}).get("SubnetIds") or []
    if not subnet_ids:
        reason = t("reachability.not_in_vpc")
        return [Hop(key, "-", SKIPPED, reason) for key in HOP_KEYS[1:6]], "public", None, None
    ec2 = clients.client("ec2")
    try:
        subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    except Exception as error:
        if aws_error_code(error) != "InvalidSubnetID.NotFound":
            raise
        reason = t("reachability.subnet_missing", subnets=", ".join(subnet_ids))
        failure = Failure(
            "invoke_error",
            "InvalidSubnetIDException",
            t("reachability.subnet_missing", subnets=", ".join(subnet_ids)),
        )
        return _padded([Hop("subnet", ", ".join(subnet_ids), FAILED, reason)]), None, None, failure
    prefix = _prefix_list(region)
    paths = [_subnet_path(ec2, subnet, function, prefix, region) for subnet in subnets]
    working = [p for p in paths if p.via]
    chosen = working[0] if working else max(paths, key=lambda p: p.progress)
    hops = list(chosen.hops)
    broken = [p.subnet for p in paths if not p.via]
    if working and broken:
        hops[0] = replace(
            hops[0],
            status=WARNING,
            reason=hops[0].reason
            + " "
            + t("reachability.some_subnets_broken", subnets=", ".join(broken)),
        )
    return _padded(hops), chosen.via, chosen.endpoint, None


def _padded(hops: list[Hop]) -> list[Hop]:
    """Every network hop, in order; those after a failure are shown as not reached."""
    found = {hop.key: hop for hop in hops}
    return [
        found.get(key) or Hop(key, "-", SKIPPED, t("reachability.not_reached"))
        for key in HOP_KEYS[1:6]
    ]


def _role_facts(role_arn: str) -> tuple[list[list], str | None]:
    """The role's policies as [name, document] pairs (inline and attached), or a reason."""
    iam = clients.client("iam")
    role_name = role_arn.split("/")[-1]
    try:
        iam.get_role(RoleName=role_name)
    except Exception as error:
        if aws_error_code(error) == "NoSuchEntity":
            return [], t("reachability.role_missing", role=role_name)
        raise
    policies = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            policies.append([name, _document(document)])
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for attached in page["AttachedPolicies"]:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
            )
            policies.append(
                [attached["PolicyName"], _document(version["PolicyVersion"]["Document"])]
            )
    return policies, None


def _document(document) -> dict:
    """IAM answers documents as dicts through boto3, but URL-encoded JSON over some paths."""
    return document if isinstance(document, dict) else json.loads(unquote(document))


def _policy_hop(
    key: str, label: str, authorizer: Authorizer, actions: list[str], resource: str, ok_key: str
) -> Hop:
    refused = [a for a in actions if authorizer.denied_by(a, resource) == key]
    if refused:
        return Hop(
            key,
            label,
            FAILED,
            t(f"reachability.{key}_denies", actions=", ".join(refused), resource=resource),
        )
    return Hop(key, label, OK, t(ok_key, actions=", ".join(actions)))


def note_app_actions() -> list[str]:
    """The DynamoDB actions the note app's handler uses, one per API method."""
    from note_app.handler import dynamodb_action

    actions = []
    for method in ("GET", "POST", "PUT", "DELETE"):
        action = dynamodb_action({"httpMethod": method, "resource": "/notes", "path": "/notes"})
        if action and action not in actions:
            actions.append(action)
    return actions


def explain(function_name: str | None = None, actions: list[str] | None = None) -> PathVerdict:
    """Follow the path from the function (default: the lab's) to its table, hop by hop."""
    with clients.friendly_errors():
        return _explain(function_name, actions or note_app_actions())


def _explain(function_name: str | None, actions: list[str]) -> PathVerdict:
    function = _function_config(function_name)
    if function is None:
        name = function_name or "-"
        failure = Failure(
            "invoke_error",
            "ResourceNotFoundException",
            t("reachability.function_missing", function=function_name)
            if function_name
            else t("reachability.no_lab_function"),
        )
        return PathVerdict(
            name,
            None,
            0,
            None,
            None,
            actions,
            [Hop("function", name, FAILED, failure.message)],
            None,
            None,
            failure,
        )
    arn = function["FunctionArn"]
    region, account = arn.split(":")[3], arn.split(":")[4]
    variables = function.get("Environment", {}).get("Variables", {})
    table_name = variables.get("AWS_DYNAMO_TABLE_NAME_VALUE")
    table_region = variables.get("AWS_REGION_VALUE") or region
    table_arn = (
        f"arn:aws:dynamodb:{table_region}:{account}:table/{table_name}" if table_name else None
    )
    in_vpc = bool(function.get("VpcConfig", {}).get("SubnetIds"))
    hops = [
        Hop(
            "function",
            function["FunctionName"],
            OK,
            t(
                "reachability.function_ok",
                timeout=function.get("Timeout", 3),
                where=t("reachability.in_vpc" if in_vpc else "reachability.outside_vpc"),
                region=region,
                table_region=table_region,
            ),
        )
    ]
    network_hops, via, endpoint, failure = _network(function, table_region)
    hops += network_hops
    role_arn = function["Role"]
    role_name = role_arn.split("/")[-1]
    policies, role_problem = _role_facts(role_arn)
    authorizer = Authorizer(
        principal_arn=role_arn,
        session_arn=f"arn:aws:sts::{account}:assumed-role/{role_name}/{function['FunctionName']}",
        role_policies=policies,
        endpoint_id=endpoint["VpcEndpointId"] if via == "endpoint" else None,
        endpoint_policy=(
            json.loads(endpoint.get("PolicyDocument") or '{"Statement": []}')
            if via == "endpoint"
            else None
        ),
        context={
            "aws:principalarn": role_arn,
            "aws:principalaccount": account,
            **(
                {"aws:sourcevpce": endpoint["VpcEndpointId"], "aws:sourcevpc": endpoint["VpcId"]}
                if via == "endpoint"
                else {}
            ),
        },
    )
    if table_arn is None:
        hops.append(Hop("endpoint_policy", "-", SKIPPED, t("reachability.no_table_variable")))
    elif via == "endpoint":
        hops.append(
            _policy_hop(
                "endpoint_policy",
                authorizer.endpoint_id,
                authorizer,
                actions,
                table_arn,
                "reachability.endpoint_policy_ok",
            )
        )
    else:
        reason = (
            t("reachability.endpoint_policy_not_on_path") if via else t("reachability.not_reached")
        )
        hops.append(Hop("endpoint_policy", "-", SKIPPED, reason))
    vpc_refused = [
        a for a in VPC_ACCESS_ACTIONS if in_vpc and authorizer.role_result(a, "*") != PERMITTED
    ]
    if role_problem:
        hops.append(Hop("role", role_name, FAILED, role_problem))
        failure = failure or Failure("invoke_error", "AccessDeniedException", role_problem, "role")
    elif vpc_refused:
        message = t(
            "reachability.role_no_vpc_access", role=role_name, actions=", ".join(vpc_refused)
        )
        hops.append(Hop("role", role_name, FAILED, message))
        failure = failure or Failure("invoke_error", "EC2AccessDeniedException", message, "role")
    elif table_arn:
        hops.append(
            _policy_hop("role", role_name, authorizer, actions, table_arn, "reachability.role_ok")
        )
    hops.append(_table_hop(table_name, table_region, via))
    if failure is None and via is None:
        timeout = function.get("Timeout", 3)
        failure = Failure(
            "timeout", "Task timed out", f"Task timed out after {timeout:.2f} seconds"
        )
    if failure is None and table_arn:
        for action in actions:
            message = authorizer.denial(action, table_arn)
            if message:
                failure = Failure(
                    "access_denied",
                    "AccessDeniedException",
                    message,
                    authorizer.denied_by(action, table_arn),
                )
                break
    return PathVerdict(
        function["FunctionName"],
        arn,
        function.get("Timeout", 3),
        table_name,
        table_arn,
        actions,
        hops,
        via,
        authorizer,
        failure,
    )


def _table_hop(table_name: str | None, region: str, via: str | None) -> Hop:
    if not table_name:
        return Hop("table", "-", FAILED, t("reachability.no_table_variable"))
    dynamodb = clients.client("dynamodb", replace(current(), region=region))
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
    except Exception as error:
        if aws_error_code(error) != "ResourceNotFoundException":
            raise
        return Hop(
            "table",
            table_name,
            FAILED,
            t("reachability.table_missing", table=table_name, region=region),
        )
    status = OK if table["TableStatus"] == "ACTIVE" else FAILED
    if via is None:
        status = SKIPPED
    return Hop(
        "table",
        table_name,
        status,
        t("reachability.table_found", status=table["TableStatus"], region=region),
    )


def rows(verdict: PathVerdict) -> list[list[str]]:
    """The explainer as table rows: hop, resource, verdict, reason."""
    marks = {OK: "✔", FAILED: "✘", WARNING: "!", SKIPPED: "–"}
    return [[hop.title, hop.resource, marks[hop.status], hop.reason] for hop in verdict.hops]


def summary(verdict: PathVerdict) -> str:
    """One sentence: does the note app work, and if not, what fails first."""
    if verdict.ok:
        return t(
            "reachability.summary_ok",
            function=verdict.function_name,
            via=t(f"reachability.via_{verdict.via}"),
        )
    failed = verdict.first_failed
    failure = verdict.failure
    told = (
        failure.message
        if failure.message.startswith(failure.code)
        else f"{failure.code}: {failure.message}"
    )
    return t(
        "reachability.summary_failed",
        function=verdict.function_name,
        failure=told,
        hop=failed.title if failed else "-",
    )


def check_chapter() -> list:
    """Chapter 07's "Check your work": the private path works, through the endpoint."""
    from helpers.aws.checks import Check

    verdict = explain()
    checks = [
        Check(hop.title, hop.status in (OK, WARNING), f"{hop.resource}: {hop.reason}")
        for hop in verdict.hops
        if hop.status != SKIPPED
    ]
    checks.append(
        Check(t("reachability.check_via_endpoint"), verdict.via == "endpoint", summary(verdict))
    )
    return checks
