"""Can the Lambda function reach its DynamoDB table? The path, hop by hop, from describe calls.

Lambda function → subnet → route table → matching route → security group and network ACL →
gateway endpoint → endpoint policy → execution role → table. Only describe/get calls are
made, so the verdict on a real account is computed exactly as on the embedded backend, and
the lab's invoker uses this same verdict to decide how an invocation ends. Each hop has a
function of its own; whether a policy lets a request through is ``helpers.aws.policy``'s to
decide, and its ``Refusal`` says at which of the two policy hops the path breaks.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, replace
from urllib.parse import unquote

from helpers.aws import endpoints, networking
from helpers.aws.checks import Check
from helpers.aws.functions import find_lab_function, role_policies
from helpers.aws.policy import (
    NOTE_APP_ACTIONS,
    Authorizer,
    PolicyKind,
    Refusal,
    request_context,
)
from helpers.core import clients
from helpers.core.errors import LabError, none_if_missing
from helpers.core.messages import t
from helpers.core.read_cache import together
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
# The hop at which each kind of policy is judged.
POLICY_HOPS = {
    PolicyKind.ENDPOINT: "endpoint_policy",
    PolicyKind.IDENTITY: "role",
    PolicyKind.RESOURCE: "table",
}

# What Lambda needs on EC2 to attach a function to a VPC (AWSLambdaVPCAccessExecutionRole).
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
)
HTTPS_PORT = 443
# The ports a Lambda function's connections leave from, so the ports DynamoDB's answers come
# back to: "AWS Lambda functions use ports 1024-65535" (VPC User Guide, "Ephemeral ports").
LAMBDA_EPHEMERAL_PORTS = (1024, 65535)
ALL_PORTS = (0, 65535)


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
class Failure:
    """How the invocation ends when the path is broken, exactly as Lambda reports it."""

    kind: str  # "timeout" (function error), "access_denied" (from DynamoDB), "invoke_error"
    code: str  # AWS's error code, or "Task timed out"
    message: str
    refusal: Refusal | None = None  # the policy that refused, when one did


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


@dataclass(frozen=True)
class _Function:
    """What the hops read from the function's configuration."""

    name: str
    arn: str
    role_arn: str
    timeout: int
    subnet_ids: list[str]
    security_group_ids: list[str]
    table_name: str | None  # from the handler's environment variables
    table_region: str

    @classmethod
    def of(cls, configuration: dict) -> _Function:
        arn = configuration["FunctionArn"]
        vpc = configuration.get("VpcConfig", {})
        variables = configuration.get("Environment", {}).get("Variables", {})
        return cls(
            name=configuration["FunctionName"],
            arn=arn,
            role_arn=configuration["Role"],
            timeout=configuration.get("Timeout", 3),
            subnet_ids=vpc.get("SubnetIds") or [],
            security_group_ids=vpc.get("SecurityGroupIds", []),
            table_name=variables.get("AWS_DYNAMO_TABLE_NAME_VALUE"),
            table_region=variables.get("AWS_REGION_VALUE") or arn.split(":")[3],
        )

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def in_vpc(self) -> bool:
        return bool(self.subnet_ids)

    @property
    def role_name(self) -> str:
        return self.role_arn.split("/")[-1]

    @property
    def table_arn(self) -> str | None:
        if not self.table_name:
            return None
        return f"arn:aws:dynamodb:{self.table_region}:{self.account}:table/{self.table_name}"


def function_table_arn(configuration: dict) -> str | None:
    """The ARN of the table a function is configured to use (its environment variables)."""
    return _Function.of(configuration).table_arn


# --- the walk ---------------------------------------------------------------------------------
def explain(function_name: str | None = None, actions: list[str] | None = None) -> PathVerdict:
    """Follow the path from the function (default: the lab's) to its table, hop by hop.

    ``actions``: the DynamoDB actions to judge the policies on (default: all the note app's).
    """
    with clients.friendly_errors():
        return _explain(function_name, actions or list(NOTE_APP_ACTIONS))


def _explain(function_name: str | None, actions: list[str]) -> PathVerdict:
    configuration = _function_config(function_name)
    if configuration is None:
        return _no_function(function_name, actions)
    function = _Function.of(configuration)
    # The network, the role and the table are three chains of reads that do not wait for one
    # another: a learner far from the region waits for the longest, not for all three.
    network, role, table_facts = together(
        lambda: _network(function),
        lambda: _role_facts(function.role_arn),
        lambda: _table_facts(function),
    )
    network_hops, via, endpoint, network_failure = network
    policies, role_problem = role
    table, table_policy = table_facts
    authorizer = _authorizer(function, policies, via, endpoint, table_policy)
    unjudged = authorizer.unsupported()
    role_hop, role_failure = _role_hop(function, authorizer, role_problem, actions, unjudged)
    hops = [
        _function_hop(function),
        *network_hops,
        _endpoint_policy_hop(function, authorizer, via, actions, unjudged),
        role_hop,
        _table_hop(function, table, authorizer, via, actions, unjudged),
    ]
    # Lambda refuses to run first; then a call with no way out hangs; then a policy refuses.
    failure = (
        network_failure
        or role_failure
        or _timeout(function, via)
        or _cannot_judge(unjudged)
        or _access_denied(function, authorizer, actions)
    )
    return PathVerdict(
        function.name,
        function.arn,
        function.timeout,
        function.table_name,
        function.table_arn,
        actions,
        hops,
        via,
        authorizer,
        failure,
    )


def _no_function(function_name: str | None, actions: list[str]) -> PathVerdict:
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


def _timeout(function: _Function, via: str | None) -> Failure | None:
    """With no way out, the handler's first call hangs until the function's timeout."""
    if via is not None:
        return None
    return Failure(
        "timeout", "Task timed out", f"Task timed out after {function.timeout:.2f} seconds"
    )


def _cannot_judge(unjudged: tuple[PolicyKind, LabError] | None) -> Failure | None:
    """A policy the lab cannot evaluate: it says so rather than guess what AWS would answer."""
    if unjudged is None:
        return None
    return Failure("cannot_judge", "", str(unjudged[1]))


def _access_denied(
    function: _Function, authorizer: Authorizer, actions: list[str]
) -> Failure | None:
    """DynamoDB's answer to the first of ``actions`` that a policy refuses on the table."""
    if function.table_arn is None:
        return None
    for action in actions:
        refusal = authorizer.refusal(action, function.table_arn)
        if refusal:
            return Failure(
                "access_denied",
                "AccessDeniedException",
                refusal.message(authorizer.session_arn),
                refusal,
            )
    return None


# --- gathering the facts (describe/get calls only) ------------------------------------------
def _function_config(function_name: str | None) -> dict | None:
    if function_name is None:
        return find_lab_function()
    return none_if_missing(
        lambda: clients.client("lambda").get_function_configuration(FunctionName=function_name)
    )


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


def _role_facts(role_arn: str) -> tuple[list[list], str | None]:
    """The role's policies as [name, document] pairs (inline and attached), or a reason."""
    iam = clients.client("iam")
    role_name = role_arn.split("/")[-1]
    if none_if_missing(lambda: iam.get_role(RoleName=role_name)) is None:
        return [], t("reachability.role_missing", role=role_name)

    arns, names = role_policies(role_name)

    def inline(name: str) -> list:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        return [name, _document(document)]

    def attached(arn: str) -> list:
        default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=default)
        # A policy's name is its ARN's last part: IAM's PolicyName pattern has no "/"
        return [arn.rsplit("/", 1)[-1], _document(version["PolicyVersion"]["Document"])]

    policies = together(
        *(lambda name=name: inline(name) for name in names),
        *(lambda arn=arn: attached(arn) for arn in arns),
    )
    return policies, None


def _document(document) -> dict:
    """IAM answers documents as dicts through boto3, but URL-encoded JSON over some paths."""
    return document if isinstance(document, dict) else json.loads(unquote(document))


# --- the hops, in order -----------------------------------------------------------------------
def _function_hop(function: _Function) -> Hop:
    return Hop(
        "function",
        function.name,
        OK,
        t(
            "reachability.function_ok",
            timeout=function.timeout,
            where=t("reachability.in_vpc" if function.in_vpc else "reachability.outside_vpc"),
            region=function.region,
            table_region=function.table_region,
        ),
    )


def _network(function: _Function) -> tuple[list[Hop], str | None, dict | None, Failure | None]:
    """The network hops of the best subnet, how traffic leaves, and the endpoint used."""
    subnet_ids = function.subnet_ids
    if not subnet_ids:
        reason = t("reachability.not_in_vpc")
        return [Hop(key, "-", SKIPPED, reason) for key in HOP_KEYS[1:6]], "public", None, None
    ec2 = clients.client("ec2")
    subnets = none_if_missing(lambda: ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"])
    if subnets is None:
        reason = t("reachability.subnet_missing", subnets=", ".join(subnet_ids))
        failure = Failure("invoke_error", "InvalidSubnetIDException", reason)
        return _padded([Hop("subnet", ", ".join(subnet_ids), FAILED, reason)]), None, None, failure
    prefix = _prefix_list(function.table_region)
    # Each subnet's way out is its own chain of reads: all at once.
    paths = together(*(lambda s=s: _subnet_path(ec2, s, function, prefix) for s in subnets))
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


def _subnet_path(
    ec2, subnet: dict, function: _Function, prefix: tuple[str | None, list[str]]
) -> _SubnetPath:
    """One subnet's way out to DynamoDB, hop by hop up to the first that fails."""
    subnet_id, region = subnet["SubnetId"], function.table_region
    hops = [_subnet_hop(ec2, subnet)]
    if hops[-1].status == FAILED:
        return _SubnetPath(subnet_id, hops, None)
    route_table = _route_table_of(subnet)
    hops.append(_route_table_hop(subnet_id, route_table))
    if route_table is None:
        return _SubnetPath(subnet_id, hops, None)
    route_hop, via, target = _route_hop(ec2, subnet, route_table, prefix, region)
    hops.append(route_hop)
    if via is None:
        return _SubnetPath(subnet_id, hops, None)
    hops.append(_firewall_hop(ec2, subnet_id, function.security_group_ids, prefix))
    if hops[-1].status != OK:
        return _SubnetPath(subnet_id, hops, None)
    if via == "nat":
        hop, endpoint = _nat_hop(ec2, target, *prefix), None
    else:
        hop, endpoint = _endpoint_hop(ec2, target, subnet["VpcId"], region)
    hops.append(hop)
    return _SubnetPath(subnet_id, hops, via if hop.status == OK else None, endpoint)


def _subnet_hop(ec2, subnet: dict) -> Hop:
    """A subnet leads on only if its VPC resolves DNS: the handler must find DynamoDB's name.
    DNS hostnames off is a warning: AWS's "Gateway endpoints for Amazon DynamoDB" asks for it
    too, though the lookup itself is DNS resolution's."""
    label = _name(subnet, "SubnetId")
    vpc_id = subnet["VpcId"]
    dns = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    if not dns["EnableDnsSupport"]["Value"]:
        return Hop("subnet", label, FAILED, t("reachability.dns_off", vpc=vpc_id))
    where = t(
        "reachability.subnet_ok",
        vpc=vpc_id,
        cidr=subnet["CidrBlock"],
        zone=subnet["AvailabilityZone"],
    )
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    if not hostnames["EnableDnsHostnames"]["Value"]:
        return Hop("subnet", label, WARNING, f"{where} {t('reachability.dns_hostnames_off')}")
    return Hop("subnet", label, OK, where)


def _route_table_hop(subnet_id: str, route_table: dict | None) -> Hop:
    if route_table is None:
        return Hop("route_table", "-", FAILED, t("reachability.no_route_table"))
    how = t(
        "reachability.associated_table"
        if subnet_id in networking.associated_subnet_ids(route_table)
        else "reachability.main_table"
    )
    return Hop("route_table", _name(route_table, "RouteTableId"), OK, how)


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


def _firewall_hop(
    ec2, subnet_id: str, group_ids: list[str], prefix: tuple[str | None, list[str]]
) -> Hop:
    """HTTPS out through the security groups, and through the network ACL both ways."""
    prefix_list_id, cidrs = prefix
    group_ok, group_detail = _security_groups_allow(ec2, group_ids, prefix_list_id, cidrs)
    acl_ok, acl_detail = _network_acl_allows(ec2, subnet_id, cidrs)
    if not group_ok:
        return Hop("firewall", "-", FAILED, group_detail)
    if not acl_ok:
        return Hop("firewall", "-", FAILED, acl_detail)
    label = ", ".join(detail for detail in (group_detail, acl_detail) if detail)
    return Hop("firewall", label or "-", OK, t("reachability.firewall_ok"))


def _tcp_ports(protocol, port_range: tuple[int, int] | None) -> tuple[int, int] | None:
    """The TCP ports a security-group or network-ACL rule covers; None if it is not for TCP.

    Protocol "-1" (all) covers every port whatever its port range; "6" (TCP) its range.
    """
    if str(protocol) in ("-1", "all"):
        return ALL_PORTS
    if str(protocol) not in ("6", "tcp"):
        return None
    return port_range or ALL_PORTS


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
                span = _tcp_ports(
                    rule.get("IpProtocol", "-1"),
                    (rule["FromPort"], rule["ToPort"]) if "FromPort" in rule else None,
                )
                if span is None or not span[0] <= HTTPS_PORT <= span[1]:
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


# A block of TCP packets: every address of a network, on every port of a range.
Block = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, tuple[int, int]]


@dataclass
class AclVerdict:
    """What a network ACL does with a block of TCP packets, split by the rule that decides."""

    allowed: list[Block]
    dropped: list[Block]  # by a deny rule, or by the final "*" rule no packet escapes

    @property
    def dropped_ports(self) -> str:
        """The dropped ports, merged, e.g. "1024–32767, 61000–65535"."""
        merged: list[list[int]] = []
        for low, high in sorted(ports for _, ports in self.dropped):
            if merged and low <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        return ", ".join(f"{low}–{high}" if low != high else str(low) for low, high in merged)

    @property
    def dropped_addresses(self) -> str:
        return ", ".join(
            str(n) for n in ipaddress.collapse_addresses(network for network, _ in self.dropped)
        )


def acl_verdict(entries: list[dict], egress: bool, cidr: str, ports: tuple[int, int]) -> AclVerdict:
    """Which TCP packets between ``cidr`` and the subnet, on ``ports``, the ACL lets through.

    ``ports`` are the destination ports: 443 going out to DynamoDB, the function's own
    (ephemeral) ports for the answers coming in. Entries are taken in rule-number order and
    the first one that matches a packet decides it (VPC User Guide, "Network ACL rules"); a
    packet no entry matches is denied. So a rule allows the whole range only if allowing
    rules cover all of it before any deny rule covers a part of it.
    """
    undecided: list[Block] = [(ipaddress.ip_network(cidr), ports)]
    verdict = AclVerdict([], [])
    for entry in sorted((e for e in entries if e.get("Egress") == egress), key=_rule_number):
        rule_block = _rule_block(entry)
        if rule_block is None:
            continue
        still_undecided = []
        for block in undecided:
            matched, rest = _split(block, rule_block)
            still_undecided += rest
            if matched:
                (verdict.allowed if entry["RuleAction"] == "allow" else verdict.dropped).append(
                    matched
                )
        undecided = still_undecided
    verdict.dropped += undecided
    return verdict


def _rule_number(entry: dict) -> int:
    return entry["RuleNumber"]


def _rule_block(entry: dict) -> Block | None:
    """The TCP packets a network ACL entry matches (None: it matches no TCP packet)."""
    ports = entry.get("PortRange")
    span = _tcp_ports(entry.get("Protocol", "-1"), (ports["From"], ports["To"]) if ports else None)
    cidr = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    if span is None or not cidr:
        return None
    return ipaddress.ip_network(cidr), span


def _split(block: Block, rule: Block) -> tuple[Block | None, list[Block]]:
    """``block`` split into the part ``rule`` matches (or None) and the parts it does not."""
    (network, (low, high)), (rule_network, (rule_low, rule_high)) = block, rule
    if (
        network.version != rule_network.version
        or not network.overlaps(rule_network)
        or rule_high < low
        or rule_low > high
    ):
        return None, [block]
    # Two CIDR blocks that overlap are nested: the smaller lies inside the larger.
    if network.subnet_of(rule_network):
        shared, rest = network, []
    else:
        shared = rule_network
        rest = [(part, (low, high)) for part in network.address_exclude(rule_network)]
    if rule_low > low:
        rest.append((shared, (low, rule_low - 1)))
    if rule_high < high:
        rest.append((shared, (rule_high + 1, high)))
    return (shared, (max(low, rule_low), min(high, rule_high))), rest


def _network_acl_allows(ec2, subnet_id: str, cidrs: list[str]) -> tuple[bool, str]:
    """HTTPS out to each of DynamoDB's CIDRs, and every possible answer back, through the ACL."""
    acls = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["NetworkAcls"]
    if not acls:
        return True, ""
    acl_id, entries = acls[0]["NetworkAclId"], acls[0].get("Entries", [])
    lambda_ports = "–".join(map(str, LAMBDA_EPHEMERAL_PORTS))
    for cidr in cidrs:
        out = acl_verdict(entries, True, cidr, (HTTPS_PORT, HTTPS_PORT))
        if out.dropped:
            key = "acl_blocks_out_partly" if out.allowed else "acl_blocks_out"
            return False, t(
                f"reachability.{key}", acl=acl_id, cidr=cidr, addresses=out.dropped_addresses
            )
        back = acl_verdict(entries, False, cidr, LAMBDA_EPHEMERAL_PORTS)
        if back.dropped:
            key = "acl_blocks_back_partly" if back.allowed else "acl_blocks_back"
            return False, t(
                f"reachability.{key}",
                acl=acl_id,
                cidr=cidr,
                ports=back.dropped_ports,
                lambda_ports=lambda_ports,
            )
    return True, acl_id


def _endpoint_hop(ec2, endpoint_id: str, vpc_id: str, region: str) -> tuple[Hop, dict | None]:
    found = none_if_missing(  # an id too mangled to exist is as missing as a deleted one
        lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"],
        "InvalidVpcEndpointId.NotFound",
        "InvalidVpcEndpointId.Malformed",
    )
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


def _authorizer(
    function: _Function,
    policies: list[list],
    via: str | None,
    endpoint: dict | None,
    table_policy: dict | None,
) -> Authorizer:
    """The policies a DynamoDB call from the function meets, and what their conditions read."""
    on_endpoint = via == "endpoint"
    return Authorizer(
        principal_arn=function.role_arn,
        session_arn=(
            f"arn:aws:sts::{function.account}:assumed-role/{function.role_name}/{function.name}"
        ),
        role_policies=policies,
        endpoint_id=endpoint["VpcEndpointId"] if on_endpoint else None,
        endpoint_policy=(
            json.loads(endpoint.get("PolicyDocument") or '{"Statement": []}')
            if on_endpoint
            else None
        ),
        table_policies={function.table_arn: table_policy} if table_policy else {},
        context=request_context(
            function.role_arn,
            endpoint["VpcEndpointId"] if on_endpoint else None,
            endpoint["VpcId"] if on_endpoint else None,
        ),
    )


def _endpoint_policy_hop(
    function: _Function,
    authorizer: Authorizer,
    via: str | None,
    actions: list[str],
    unjudged: tuple[PolicyKind, LabError] | None,
) -> Hop:
    if function.table_arn is None:
        return Hop("endpoint_policy", "-", SKIPPED, t("reachability.no_table_variable"))
    if via != "endpoint":
        reason = (
            t("reachability.endpoint_policy_not_on_path") if via else t("reachability.not_reached")
        )
        return Hop("endpoint_policy", "-", SKIPPED, reason)
    return _policy_hop(
        PolicyKind.ENDPOINT,
        authorizer.endpoint_id,
        authorizer,
        actions,
        function.table_arn,
        "reachability.endpoint_policy_ok",
        unjudged,
    )


def _role_hop(
    function: _Function,
    authorizer: Authorizer,
    role_problem: str | None,
    actions: list[str],
    unjudged: tuple[PolicyKind, LabError] | None,
) -> tuple[Hop, Failure | None]:
    """The execution role: Lambda refuses to invoke without it or, in a VPC, without its EC2
    permissions; the handler's calls need it to allow ``actions`` on the table."""
    name = function.role_name
    if role_problem:
        failure = Failure("invoke_error", "AccessDeniedException", role_problem)
        return Hop("role", name, FAILED, role_problem), failure
    if unjudged and unjudged[0] is PolicyKind.IDENTITY:  # the lab cannot judge the role
        return Hop("role", name, WARNING, str(unjudged[1])), None
    vpc_refusals = [
        refusal
        for action in (VPC_ACCESS_ACTIONS if function.in_vpc else ())
        if (refusal := authorizer.role_refusal(action, "*"))
    ]
    if vpc_refusals:
        message = t(
            "reachability.role_no_vpc_access",
            role=name,
            actions=", ".join(refusal.action for refusal in vpc_refusals),
        )
        failure = Failure("invoke_error", "EC2AccessDeniedException", message, vpc_refusals[0])
        return Hop("role", name, FAILED, message), failure
    if function.table_arn is None:
        return Hop("role", name, SKIPPED, t("reachability.no_table_variable")), None
    hop = _policy_hop(
        PolicyKind.IDENTITY,
        name,
        authorizer,
        actions,
        function.table_arn,
        "reachability.role_ok",
        unjudged,
    )
    return hop, None


def _policy_hop(
    kind: PolicyKind,
    label: str,
    authorizer: Authorizer,
    actions: list[str],
    resource: str,
    ok_key: str,
    unjudged: tuple[PolicyKind, LabError] | None,
    found: str = "",
) -> Hop:
    """The hop of ``kind``'s policy: failed with the actions that policy is the one to refuse,
    a warning if the lab cannot evaluate one of the policies (it says which). ``found``: what
    the hop found before its policy (the table's status), put first in the reason."""
    key = POLICY_HOPS[kind]
    lead = f"{found} " if found else ""
    if unjudged and unjudged[0] is kind:
        return Hop(key, label, WARNING, lead + str(unjudged[1]))
    # With a policy the lab cannot judge, each other policy is judged on its own.
    kinds = {kind} if unjudged else None
    refusals = (authorizer.refusal(action, resource, kinds) for action in actions)
    refused = [refusal.action for refusal in refusals if refusal and refusal.policy is kind]
    if refused:
        return Hop(
            key,
            label,
            FAILED,
            lead + t(f"reachability.{key}_denies", actions=", ".join(refused), resource=resource),
        )
    return Hop(key, label, OK, lead + t(ok_key, actions=", ".join(actions)))


def _table_facts(function: _Function) -> tuple[dict | None, dict | None]:
    """The function's table (None if missing) and its resource-based policy (None if none)."""
    if not function.table_name:
        return None, None
    dynamodb = clients.client("dynamodb", replace(current(), region=function.table_region))
    table = none_if_missing(lambda: dynamodb.describe_table(TableName=function.table_name)["Table"])
    if table is None:
        return None, None
    policy = none_if_missing(
        lambda: dynamodb.get_resource_policy(ResourceArn=table["TableArn"])["Policy"],
        "PolicyNotFoundException",
    )
    return table, json.loads(policy) if policy else None


def _table_hop(
    function: _Function,
    table: dict | None,
    authorizer: Authorizer,
    via: str | None,
    actions: list[str],
    unjudged: tuple[PolicyKind, LabError] | None,
) -> Hop:
    """The table exists and is active, and its own policy (if any) does not deny the calls."""
    name, region = function.table_name, function.table_region
    if not name:
        return Hop("table", "-", FAILED, t("reachability.no_table_variable"))
    if table is None:
        return Hop(
            "table", name, FAILED, t("reachability.table_missing", table=name, region=region)
        )
    found = t("reachability.table_found", status=table["TableStatus"], region=region)
    if via is None:
        return Hop("table", name, SKIPPED, found)
    if table["TableStatus"] != "ACTIVE":
        return Hop("table", name, FAILED, found)
    if function.table_arn in authorizer.table_policies:
        return _policy_hop(
            PolicyKind.RESOURCE,
            name,
            authorizer,
            actions,
            function.table_arn,
            "reachability.table_policy_ok",
            unjudged,
            found,
        )
    return Hop("table", name, OK, found)


# --- what the verdict says -------------------------------------------------------------------
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


def check_chapter() -> list[Check]:
    """Chapter 07's "Check your work": the private path works, through the endpoint."""
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
