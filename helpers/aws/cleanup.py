"""Clean-up: delete everything the lab made (found by its tags), in dependency order.

Each run starts from a fresh inventory, so running it twice, or after a partial failure,
finishes the job. AWS releases some things slowly (a deleted Lambda function's network
interfaces, a NAT gateway): clean-up waits for them within a bounded time, showing progress,
and reports what is still pending instead of failing. Nothing without the lab's tags is
ever deleted; a VPC that still holds a learner's own resources is left with an explanation.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from helpers.aws import inventory as lab_inventory
from helpers.aws.checks import Check
from helpers.aws.inventory import KINDS, InventoryItem
from helpers.core import journal, read_cache
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError, aws_error_code, is_not_found, none_if_missing
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import is_lab_resource

# How long one clean-up run may wait, in total, for AWS to release things, and how often it
# looks again. The embedded backend releases everything at once: a busy answer there is a
# learner's own resource in the way, which waiting does not fix.
REAL_AWS_WAIT_SECONDS = 15 * 60
REAL_AWS_POLL_SECONDS = 10
LOCAL_WAIT_SECONDS = 5
LOCAL_POLL_SECONDS = 0.25

# Answers meaning "still in use, try again later".
BUSY_CODES = {
    "DependencyViolation",
    "ResourceInUseException",
    "ConcurrentModification",  # IAM's spelling
    "InvalidIPAddress.InUse",
    "IncorrectState",
}
# Besides "not found", answers meaning "already gone": clean-up's goal is reached.
_ALSO_GONE_CODES = {"Gateway.NotAttached"}

Progress = Callable[[int, int, str], None]  # (done, total, what is happening now)


def is_gone_code(code: str | None) -> bool:
    return is_not_found(code) or code in _ALSO_GONE_CODES


@dataclass
class Leftover:
    item: InventoryItem
    reason: str  # in the learner's words: why it is still there, what to do
    code: str  # AWS's error code, or the catalogue key of the reason


@dataclass
class CleanupReport:
    deleted: list[InventoryItem] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return not self.leftovers

    def headline(self) -> str:
        """The outcome in one sentence."""
        if not self.deleted and self.finished:
            return t("cleanup.report_nothing")
        if self.finished:
            return t("cleanup.report_finished", count=len(self.deleted))
        return t("cleanup.report_pending", count=len(self.deleted), left=len(self.leftovers))

    def lines(self) -> list[str]:
        """The outcome as text (the command line): the sentence, then each leftover."""
        return [
            self.headline(),
            *(
                f"  {left.item.kind_label} {left.item.id}: {left.reason} [{left.code}]"
                for left in self.leftovers
            ),
        ]


class _StillThere(Exception):
    """A resource clean-up must leave for now, with the reason for the learner."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class _Run:
    """One clean-up run: its progress, its shared waiting budget, its report."""

    def __init__(
        self, total: int, progress: Progress | None, wait_seconds: float, poll_seconds: float
    ):
        self.total = total
        self.done = 0
        self.progress = progress or (lambda done, total, message: None)
        self.wait_seconds = wait_seconds
        self.waited = 0.0
        self.poll_seconds = poll_seconds
        self.report = CleanupReport()

    def tell(self, message: str) -> None:
        self.progress(self.done, self.total, message)

    def pause(self, item: InventoryItem, since: float) -> bool:
        """Wait one poll interval for ``item``; False once the run's waiting budget is spent."""
        if self.waited + self.poll_seconds > self.wait_seconds:
            return False
        self.tell(
            t(
                "cleanup.waiting",
                kind=item.kind_label,
                id=item.id,
                seconds=int(time.monotonic() - since),
                limit=int(self.wait_seconds),
            )
        )
        time.sleep(self.poll_seconds)
        read_cache.expire()
        self.waited += self.poll_seconds
        return True

    def when_free(self, item: InventoryItem, call: Callable[[], object]):
        """``call()``, repeated while AWS answers "in use"; gone counts as done."""
        since = time.monotonic()
        while True:
            try:
                return call()
            except ClientError as error:
                code = aws_error_code(error)
                if is_gone_code(code):
                    return None
                if code not in BUSY_CODES or not self.pause(item, since):
                    raise

    def until(self, item: InventoryItem, finished: Callable[[], bool], reason_key: str) -> None:
        """Wait until ``finished()``; past the budget, ``item`` is left as pending."""
        since = time.monotonic()
        while not finished():
            if not self.pause(item, since):
                raise _StillThere(t(reason_key, id=item.id), reason_key)

    def settle(self, item: InventoryItem, delete: Callable[[_Run, InventoryItem], None]) -> None:
        self.tell(t("cleanup.deleting", kind=item.kind_label, id=item.id))
        try:
            delete(self, item)
        except _StillThere as still:
            self.report.leftovers.append(Leftover(item, still.reason, still.code))
        except ClientError as error:
            code = aws_error_code(error) or "ClientError"
            if is_gone_code(code):
                self.report.deleted.append(item)
            else:
                self.report.leftovers.append(Leftover(item, _reason(item, error), code))
        else:
            self.report.deleted.append(item)
        self.done += 1
        self.tell(t("cleanup.deleting_done", kind=item.kind_label, id=item.id))


# --- why something is still there --------------------------------------------------------------


def _owner_label(tags: list | None) -> str:
    return t("cleanup.owner_lab") if is_lab_resource(tags) else t("cleanup.owner_not_lab")


def _interfaces(filter_name: str, value: str) -> list[str]:
    interfaces = client("ec2").describe_network_interfaces(
        Filters=[{"Name": filter_name, "Values": [value]}]
    )["NetworkInterfaces"]
    return [
        f"{eni['NetworkInterfaceId']} ({eni.get('Description') or eni.get('InterfaceType', '')})"
        for eni in interfaces
    ]


def _vpc_contents(vpc_id: str) -> list[str]:
    """What still sits in a VPC and keeps it from being deleted, each marked lab's or not."""
    ec2 = client("ec2")
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    found = [
        f"{s['SubnetId']} {_owner_label(s.get('Tags'))}"
        for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    ]
    found += [
        f"{g['GroupId']} {_owner_label(g.get('Tags'))}"
        for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
        if g.get("GroupName") != "default"
    ]
    found += [
        f"{r['RouteTableId']} {_owner_label(r.get('Tags'))}"
        for r in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
        if not any(a.get("Main") for a in r.get("Associations", []))
    ]
    found += [
        f"{g['InternetGatewayId']} {_owner_label(g.get('Tags'))}"
        for g in ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]
    ]
    found += [
        f"{e['VpcEndpointId']} {_owner_label(e.get('Tags'))}"
        for e in ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
        if e.get("State", "").lower() != "deleted"
    ]
    found += [
        f"{g['NatGatewayId']} {_owner_label(g.get('Tags'))}"
        for g in ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"]
        if g.get("State") != "deleted"
    ]
    return found + _interfaces("vpc-id", vpc_id)


def _reason(item: InventoryItem, error: ClientError) -> str:
    code = aws_error_code(error)
    if code in BUSY_CODES:
        if item.kind == "vpc":
            return t(
                "cleanup.pending_vpc", id=item.id, things=", ".join(_vpc_contents(item.id)) or "?"
            )
        where = {"subnet": "subnet-id", "security-group": "group-id"}.get(item.kind)
        interfaces = _interfaces(where, item.id) if where else []
        if interfaces:
            return t("cleanup.pending_interfaces", id=item.id, interfaces=", ".join(interfaces))
        return t(
            "cleanup.pending_busy",
            id=item.id,
            detail=error.response.get("Error", {}).get("Message", ""),
        )
    return t("cleanup.failed", code=code, detail=error.response.get("Error", {}).get("Message", ""))


# --- deleting, one kind at a time -------------------------------------------------------------


def _delete_rest_api(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("apigateway").delete_rest_api(restApiId=item.id))


def _delete_function(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("lambda").delete_function(FunctionName=item.id))


def _delete_role(run: _Run, item: InventoryItem) -> None:
    """Detach managed policies, delete inline ones and instance-profile links, then the role."""
    iam = client("iam")
    role = item.id
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for policy in page["AttachedPolicies"]:
            run.when_free(
                item,
                lambda arn=policy["PolicyArn"]: iam.detach_role_policy(
                    RoleName=role, PolicyArn=arn
                ),
            )
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            run.when_free(item, lambda n=name: iam.delete_role_policy(RoleName=role, PolicyName=n))
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=role):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=role
            )
    run.when_free(item, lambda: iam.delete_role(RoleName=role))


def _delete_policy(run: _Run, item: InventoryItem) -> None:
    """A lab-made managed policy; if something not the lab's still uses it, it is left."""
    iam = client("iam")
    users = iam.list_entities_for_policy(PolicyArn=item.id)
    roles = [r["RoleName"] for r in users.get("PolicyRoles", [])]
    lab_roles = [
        role for role in roles if is_lab_resource(iam.list_role_tags(RoleName=role).get("Tags"))
    ]
    others = (
        [role for role in roles if role not in lab_roles]
        + [u["UserName"] for u in users.get("PolicyUsers", [])]
        + [g["GroupName"] for g in users.get("PolicyGroups", [])]
    )
    if others:
        raise _StillThere(
            t("cleanup.policy_attached", id=item.name, entities=", ".join(others)), "DeleteConflict"
        )
    if lab_roles:  # the lab's role could not be deleted this time
        raise _StillThere(
            t("cleanup.waits_for", id=item.name, what=", ".join(lab_roles)), "DeleteConflict"
        )
    for version in iam.list_policy_versions(PolicyArn=item.id)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=item.id, VersionId=version["VersionId"])
    run.when_free(item, lambda: iam.delete_policy(PolicyArn=item.id))


def _delete_table(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("dynamodb").delete_table(TableName=item.id))


def _raise_unsuccessful(answer: dict, operation: str) -> None:
    """Batch EC2 deletes report failures in the answer rather than as an error."""
    for failure in answer.get("Unsuccessful", []):
        error = failure.get("Error", {})
        if not is_gone_code(error.get("Code")):
            raise ClientError({"Error": error}, operation)


def _endpoint_gone(endpoint_id: str) -> bool:
    endpoints = none_if_missing(
        lambda: client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    )
    return endpoints is None or all(e.get("State", "").lower() == "deleted" for e in endpoints)


def _delete_endpoint(run: _Run, item: InventoryItem) -> None:
    """Deleting a gateway endpoint also removes its routes from the route tables."""
    answer = run.when_free(
        item, lambda: client("ec2").delete_vpc_endpoints(VpcEndpointIds=[item.id])
    )
    _raise_unsuccessful(answer or {}, "DeleteVpcEndpoints")
    run.until(item, lambda: _endpoint_gone(item.id), "cleanup.pending_endpoint")


def _nat_gateway_gone(gateway_id: str) -> bool:
    gateways = none_if_missing(
        lambda: client("ec2").describe_nat_gateways(NatGatewayIds=[gateway_id])["NatGateways"]
    )
    return gateways is None or all(g.get("State") == "deleted" for g in gateways)


def _delete_nat_gateway(run: _Run, item: InventoryItem) -> None:
    """Its Elastic IP and the internet gateway can only go once it is fully deleted."""
    run.when_free(item, lambda: client("ec2").delete_nat_gateway(NatGatewayId=item.id))
    run.until(item, lambda: _nat_gateway_gone(item.id), "cleanup.pending_nat_gateway")


def _remove_interfaces_left_by(run: _Run, item: InventoryItem, gateways: list[dict]) -> None:
    """AWS removes a deleted NAT gateway's (requester-managed) network interface itself; the
    embedded backend leaves it behind, unmanaged, where it would keep the VPC from going."""
    interface_ids = [
        address["NetworkInterfaceId"]
        for gateway in gateways
        for address in gateway.get("NatGatewayAddresses", [])
        if address.get("NetworkInterfaceId")
    ]
    if not interface_ids:
        return
    ec2 = client("ec2")
    left_behind = ec2.describe_network_interfaces(
        Filters=[{"Name": "network-interface-id", "Values": interface_ids}]
    )["NetworkInterfaces"]
    for interface in left_behind:
        if not interface.get("RequesterManaged"):
            run.when_free(
                item,
                lambda eni=interface["NetworkInterfaceId"]: ec2.delete_network_interface(
                    NetworkInterfaceId=eni
                ),
            )


def _release_address(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("ec2").release_address(AllocationId=item.id))


def _delete_subnet(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("ec2").delete_subnet(SubnetId=item.id))


def _delete_internet_gateway(run: _Run, item: InventoryItem) -> None:
    ec2 = client("ec2")
    for attachment in item.details.get("Attachments", []):
        run.when_free(
            item,
            lambda vpc=attachment["VpcId"]: ec2.detach_internet_gateway(
                InternetGatewayId=item.id, VpcId=vpc
            ),
        )
    run.when_free(item, lambda: ec2.delete_internet_gateway(InternetGatewayId=item.id))


def _delete_route_table(run: _Run, item: InventoryItem) -> None:
    """Disassociate it from what is left (subnets already gone took their links along)."""
    ec2 = client("ec2")
    current_tables = ec2.describe_route_tables(
        Filters=[{"Name": "route-table-id", "Values": [item.id]}]
    )["RouteTables"]
    for route_table in current_tables:
        for association in route_table.get("Associations", []):
            run.when_free(
                item,
                lambda a=association["RouteTableAssociationId"]: ec2.disassociate_route_table(
                    AssociationId=a
                ),
            )
    run.when_free(item, lambda: ec2.delete_route_table(RouteTableId=item.id))


def _revoke_rules_naming(group: dict, lab_group_ids: set[str]) -> None:
    """Rules pointing at another of the lab's groups would keep that group from going.

    A failure here is not reported: deleting the group right after reports it.
    """
    ec2 = client("ec2")
    for permissions_key, revoke in (
        ("IpPermissions", ec2.revoke_security_group_ingress),
        ("IpPermissionsEgress", ec2.revoke_security_group_egress),
    ):
        naming = [
            rule
            for rule in group.get(permissions_key, [])
            if any(
                pair.get("GroupId") in lab_group_ids for pair in rule.get("UserIdGroupPairs", [])
            )
        ]
        if naming:
            with contextlib.suppress(ClientError):
                revoke(GroupId=group["GroupId"], IpPermissions=naming)


def _delete_security_group(run: _Run, item: InventoryItem) -> None:
    run.when_free(item, lambda: client("ec2").delete_security_group(GroupId=item.id))


def _delete_vpc(run: _Run, item: InventoryItem) -> None:
    """Only an empty VPC goes (AWS's rule, which the embedded backend does not fully apply:
    it would delete a VPC around a learner's own security group)."""
    deleted_lab_gateways = [
        gateway
        for gateway in client("ec2").describe_nat_gateways(
            Filter=[{"Name": "vpc-id", "Values": [item.id]}]
        )["NatGateways"]
        if gateway.get("State") == "deleted" and is_lab_resource(gateway.get("Tags"))
    ]
    _remove_interfaces_left_by(run, item, deleted_lab_gateways)
    since = time.monotonic()
    while contents := _vpc_contents(item.id):
        if not run.pause(item, since):
            raise _StillThere(
                t("cleanup.pending_vpc", id=item.id, things=", ".join(contents)),
                "DependencyViolation",
            )
    run.when_free(item, lambda: client("ec2").delete_vpc(VpcId=item.id))


# In dependency order: each kind only once everything that depends on it is gone.
_DELETERS = (
    ("rest-api", _delete_rest_api),
    ("lambda-function", _delete_function),
    ("iam-role", _delete_role),
    ("iam-policy", _delete_policy),
    ("dynamodb-table", _delete_table),
    ("vpc-endpoint", _delete_endpoint),
    ("nat-gateway", _delete_nat_gateway),
    ("elastic-ip", _release_address),
    ("subnet", _delete_subnet),
    ("internet-gateway", _delete_internet_gateway),
    ("route-table", _delete_route_table),
    ("security-group", _delete_security_group),
    ("vpc", _delete_vpc),
)


def _goes_with_vpc(item: InventoryItem) -> bool:
    """The VPC's main route table and default security group are deleted with the VPC only."""
    if item.kind == "route-table":
        return item.role == "main-route-table" or any(
            association.get("Main") for association in item.details.get("Associations", [])
        )
    return item.kind == "security-group" and item.details.get("GroupName") == "default"


def _settle_with_vpcs(run: _Run, items: list[InventoryItem]) -> None:
    gone_vpcs = {item.id for item in run.report.deleted if item.kind == "vpc"}
    for item in items:
        if item.details.get("VpcId") in gone_vpcs:
            run.report.deleted.append(item)
        else:
            run.report.leftovers.append(
                Leftover(
                    item,
                    t("cleanup.goes_with_vpc", id=item.id, vpc=item.details.get("VpcId", "?")),
                    "cleanup.goes_with_vpc",
                )
            )
        run.done += 1


def reset_lab(progress: Progress | None = None) -> CleanupReport:
    """The lab as on first use: what it made is deleted (lab-tagged only, as in ``clean_up``)
    and, once nothing is left, every choice made in its forms is forgotten. Resources without
    the lab's tags are never touched."""
    report = clean_up(progress)
    if report.finished:
        journal.forget()
    return report


def clean_up(progress: Progress | None = None, wait_seconds: float | None = None) -> CleanupReport:
    """Delete every resource carrying the lab's tags; report what was deleted and what is left.

    ``progress(done, total, message)`` is told about every step and every wait.
    ``wait_seconds`` bounds the total time spent waiting for AWS to release things
    (default: 15 minutes on real AWS, a few seconds on the embedded backend).
    """
    settings = current()
    built_in = journal.lab_region()
    if built_in and built_in != settings.region:  # IAM is global: never take the other lab's role
        raise LabError(
            "chapters.region_mismatch",
            lab_region=built_in,
            region=settings.region,
        )
    if wait_seconds is None:
        wait_seconds = REAL_AWS_WAIT_SECONDS if settings.is_real_aws else LOCAL_WAIT_SECONDS
    poll_seconds = REAL_AWS_POLL_SECONDS if settings.is_real_aws else LOCAL_POLL_SECONDS
    with friendly_errors():
        items = lab_inventory.inventory()
        run = _Run(len(items), progress, wait_seconds, poll_seconds)
        with_vpc = [item for item in items if _goes_with_vpc(item)]
        lab_group_ids = {item.id for item in items if item.kind == "security-group"}
        for kind, delete in _DELETERS:
            batch = [item for item in items if item.kind == kind and item not in with_vpc]
            if kind == "security-group":
                for item in batch:
                    _revoke_rules_naming(item.details, lab_group_ids)
            for item in batch:
                run.settle(item, delete)
        _settle_with_vpcs(run, with_vpc)
        run.tell(t("cleanup.progress_finished"))
    if run.report.finished:
        journal.forget_region()
    return run.report


# --- the chapter's cells -----------------------------------------------------------------------


def check_chapter() -> list[Check]:
    """After clean-up: nothing with the lab's tags is left, and nothing of the lab costs money."""
    items = lab_inventory.inventory()
    region = current().region
    checks = [
        Check(
            t("cleanup.check_kind_gone", kind=t("cleanup.kind_" + kind.replace("-", "_"))),
            ok=False,
            detail=", ".join(item.id for item in items if item.kind == kind),
        )
        for kind in KINDS
        if any(item.kind == kind for item in items)
    ]
    checks.insert(
        0,
        Check(
            t("cleanup.check_nothing_left", region=region),
            not items,
            t("cleanup.check_left_detail", count=len(items)) if items else "",
        ),
    )
    hourly = lab_inventory.hourly_total(items)
    checks.append(
        Check(
            t("cleanup.check_no_charges"),
            hourly == 0,
            t("cleanup.cost_hourly", usd=hourly) if hourly else "",
        )
    )
    return checks
