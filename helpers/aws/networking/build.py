"""Making chapter 01's network: whatever is missing of a plan, idempotently.

``ensure_network`` makes what is missing of a plan (finding the lab's resources by their tags,
never by name) and waits for NAT gateways on real AWS. A lab VPC that already exists is
finished as it was planned, so a re-run or catch-up never makes a second one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from helpers.aws.networking.find import (
    EVERYWHERE,
    LabNetwork,
    associated_subnet_ids,
    availability_zones,
    describe_route_tables,
    find_lab_vpc,
    is_main,
    lab_elastic_ips,
    lab_internet_gateways,
    lab_nat_gateways,
    lab_route_tables,
    lab_subnets,
    main_route_table,
    network_from,
    route_target,
    vpc_by_id,
)
from helpers.aws.networking.plan import (
    NetworkPlan,
    PlannedRouteTable,
    PlannedSubnet,
    plan_for_existing,
    plan_network,
    refusals,
    wizard_tag,
)
from helpers.aws.networking.roles import (
    CHAPTER,
    PREFIX_KEY,
    ROLE_ELASTIC_IP,
    ROLE_INTERNET_GATEWAY,
    ROLE_MAIN_ROUTE_TABLE,
    ROLE_NAT_GATEWAY,
    ROLE_PRIVATE_ROUTE_TABLE,
    ROLE_PRIVATE_SUBNET,
    ROLE_PUBLIC_ROUTE_TABLE,
    ROLE_PUBLIC_SUBNET,
    ROLE_VPC,
    SLOT_KEY,
    VPC_KEY,
    WIZARD_KEY,
    role_of,
    slot_of,
)
from helpers.core import read_cache
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.tags import as_aws, lab_tags, tag_specification

NAT_POLL_SECONDS = 15
# botocore's VpcAvailable waiter: DescribeVpcs every 15 s, 40 times at most.
VPC_POLL_SECONDS, VPC_POLLS = 15, 40
# "DNS attributes for your VPC" (Amazon VPC User Guide): "By default, both attributes are set
# to true in a default VPC or a VPC created by the VPC wizard. By default, only the
# enableDnsSupport attribute is set to true in a VPC created any other way" (CreateVpc).
NEW_VPC_DNS = {"enableDnsSupport": True, "enableDnsHostnames": False}


@dataclass
class EnsureResult:
    network: LabNetwork
    vpc: dict  # the lab's VPC as CreateVpc answered or as it was found (its id, CIDR, tags)
    plan: NetworkPlan
    created: list[str]  # names of what this call made ([] when everything already existed)
    reused_existing_vpc: bool


def print_progress(text: str) -> None:
    print(text, flush=True)


@dataclass
class _Found:
    """What the lab already has in its VPC, read before anything is made there."""

    dns: dict[str, bool] | None  # attribute -> value (None: not read, left as it is)
    main_route_table: dict | None  # None: not read (a VPC just made: read when tagged)
    route_tables: list[dict]  # the lab's, AWS's shape
    subnets: list[dict]  # the lab's
    internet_gateways: list[dict]  # the lab's
    associations: dict[str, str]  # subnet id -> its explicit association's id, any table


# Where each kind of resource comes in the progress lines (the plan's order), and after all.
(
    PLACE_VPC,
    PLACE_SUBNETS,
    PLACE_INTERNET_GATEWAY,
    PLACE_NAT_GATEWAYS,
    PLACE_ROUTE_TABLES,
    PLACE_END,
) = range(6)


class _Builder:
    """Makes what is missing of ``plan`` in the lab's VPC, reporting each step.

    After the VPC, its parts are made in two rounds of calls made at once
    (``read_cache.together``: a learner far from the region waits for each round, not for each
    call): the DNS setting, the main route table's tag, the subnets, the internet gateway (made,
    then attached) and the route tables; then, once they exist, the associations and the
    default routes. NAT gateways (and their waits) come between the rounds. Progress is shown
    from the calling thread only (an ipywidgets Output shows its own thread's prints), in the
    plan's order, also when a call fails."""

    def __init__(
        self, plan: NetworkPlan, report: Callable[[str], None], missing_only: bool = False
    ):
        self.plan = plan
        self.report = report
        self.missing_only = missing_only  # catch-up: an existing VPC's settings left unread
        self.ec2 = client("ec2")
        self.created: list[str] = []
        # What was made and not shown yet: (place in the plan's order, name, id).
        self.unreported: list[tuple[tuple, str, str]] = []
        # A VPC this builder just made holds nothing of the lab's yet, and AWS's defaults are
        # known: nothing is looked up in it before it is made.
        self.new_vpc = False
        self.made_subnet_ids: set[str] = set()
        self.main_route_table_id = ""
        self.route_table_ids: dict[str, list[str]] = {}  # role -> ids, in the plan's order

    def tags(self, role: str, name: str | None, **extra) -> dict:
        return lab_tags(CHAPTER, role, name, {k: v for k, v in extra.items() if v})

    def made(self, place: tuple, name: str, resource_id: str) -> None:
        """Note what was made (on any thread); ``report_made`` shows it."""
        self.unreported.append((place, name, resource_id))

    def report_made(self, before: tuple = (PLACE_END,)) -> None:
        """Show what was made that comes before ``before`` in the plan's order (calling thread)."""
        for item in sorted(item for item in self.unreported if item[0] < before):
            self.unreported.remove(item)
            _, name, resource_id = item
            self.created.append(name)
            self.report(t("networking.progress_created", name=name, id=resource_id))

    def vpc(self, existing: dict | None) -> dict:
        if existing:
            return existing
        plan = self.plan
        tags = self.tags(
            ROLE_VPC, plan.vpc_name, **{PREFIX_KEY: plan.name_prefix, WIZARD_KEY: wizard_tag(plan)}
        )
        made = self.ec2.create_vpc(
            CidrBlock=plan.cidr, TagSpecifications=tag_specification("vpc", tags)
        )["Vpc"]
        vpc_id = made["VpcId"]
        if made.get("State") != "available":  # CreateVpc's own answer says when to wait
            made = self._until_available(vpc_id)
        self.new_vpc = True
        self.made((PLACE_VPC,), plan.vpc_name, vpc_id)
        self.report_made()
        return made

    def _until_available(self, vpc_id: str) -> dict:
        """The new VPC once AWS says it is ``available``. The region's VPC list is asked (the
        read the form's judgement after the click makes, which then comes from the action's
        cache), as often and as long as botocore's ``vpc_available`` waiter would ask."""
        for attempt in range(VPC_POLLS):
            if attempt:
                time.sleep(VPC_POLL_SECONDS)
            with read_cache.fresh():
                vpc = vpc_by_id(vpc_id)
            if vpc is not None and vpc["State"] == "available":
                return vpc
        raise LabError(
            "networking.vpc_not_available", id=vpc_id, state=vpc["State"] if vpc else "deleted"
        )

    def look(self, vpc_id: str) -> _Found:
        """What the lab already has in ``vpc_id``, asked at once (nothing, in a VPC just made)."""
        if self.new_vpc:
            return _Found(dict(NEW_VPC_DNS), None, [], [], [], {})

        def dns_attributes() -> dict[str, bool] | None:
            if self.missing_only:
                return None
            support, hostnames = read_cache.together(
                lambda: self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport"),
                lambda: self.ec2.describe_vpc_attribute(
                    VpcId=vpc_id, Attribute="enableDnsHostnames"
                ),
            )
            return {
                "enableDnsSupport": support["EnableDnsSupport"]["Value"],
                "enableDnsHostnames": hostnames["EnableDnsHostnames"]["Value"],
            }

        dns, every_table, subnets, internet_gateways = read_cache.together(
            dns_attributes,
            lambda: describe_route_tables(vpc_id),
            lambda: lab_subnets(vpc_id),
            lambda: lab_internet_gateways(vpc_id) if self.plan.internet_gateway_name else [],
        )
        return _Found(
            dns=dns,
            main_route_table=next(filter(is_main, every_table), None),
            route_tables=lab_route_tables(vpc_id),  # the route tables just read, the lab's
            subnets=subnets,
            internet_gateways=internet_gateways,
            associations={
                a["SubnetId"]: a["RouteTableAssociationId"]
                for table in every_table
                for a in table.get("Associations", [])
                if a.get("SubnetId")
            },
        )

    def dns(self, vpc_id: str, found: _Found) -> None:
        if found.dns is None:
            return
        # Resolution first (hostnames build on it), and one attribute per call: AWS refuses
        # two attributes in one ModifyVpcAttribute request.
        for attribute, member, choice in (
            ("enableDnsSupport", "EnableDnsSupport", "dns_resolution"),
            ("enableDnsHostnames", "EnableDnsHostnames", "dns_hostnames"),
        ):
            wanted = self.plan.choices[choice]
            if found.dns[attribute] != wanted:
                self.ec2.modify_vpc_attribute(VpcId=vpc_id, **{member: {"Value": wanted}})

    def tag_main_route_table(self, vpc_id: str, found: _Found) -> str:
        main = main_route_table(vpc_id) if self.new_vpc else found.main_route_table
        if main and role_of(main) != ROLE_MAIN_ROUTE_TABLE:
            self.ec2.create_tags(
                Resources=[main["RouteTableId"]],
                Tags=as_aws(self.tags(ROLE_MAIN_ROUTE_TABLE, None)),
            )
        return main["RouteTableId"] if main else ""

    def subnet(self, vpc_id: str, place: int, planned: PlannedSubnet) -> str:
        tags = self.tags(planned.role, planned.name, **{SLOT_KEY: planned.slot})
        subnet_id = self.ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=planned.cidr,
            AvailabilityZone=planned.zone,
            TagSpecifications=tag_specification("subnet", tags),
        )["Subnet"]["SubnetId"]
        self.made((PLACE_SUBNETS, place), planned.name, subnet_id)
        return subnet_id

    def internet_gateway(self, vpc_id: str, found: _Found) -> str | None:
        if not self.plan.internet_gateway_name:
            return None
        gateways = found.internet_gateways
        if gateways:
            gateway_id = gateways[0]["InternetGatewayId"]
        else:
            tags = self.tags(
                ROLE_INTERNET_GATEWAY, self.plan.internet_gateway_name, **{VPC_KEY: vpc_id}
            )
            gateway_id = self.ec2.create_internet_gateway(
                TagSpecifications=tag_specification("internet-gateway", tags)
            )["InternetGateway"]["InternetGatewayId"]
            self.made((PLACE_INTERNET_GATEWAY,), self.plan.internet_gateway_name, gateway_id)
            gateways = [{"Attachments": []}]
        if not any(a.get("VpcId") == vpc_id for a in gateways[0].get("Attachments", [])):
            self.ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc_id)
        return gateway_id

    def route_table(self, vpc_id: str, place: int, planned: PlannedRouteTable) -> dict:
        tags = self.tags(planned.role, planned.name, **{SLOT_KEY: planned.slot})
        table = self.ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=(tag_specification("route-table", tags))
        )["RouteTable"]
        self.made((PLACE_ROUTE_TABLES, place), planned.name, table["RouteTableId"])
        return table

    def parts(self, vpc_id: str, found: _Found) -> tuple[dict[str, str], str | None, list[dict]]:
        """The first round, at once: DNS, the main route table's tag, the internet gateway, the
        missing subnets and route tables. Returns the subnets' ids by slot, the internet
        gateway's id and the planned route tables (AWS's shape), in the plan's order."""
        subnet_ids = {slot_of(s): s["SubnetId"] for s in found.subnets}
        tables = {
            slot_of(table): table
            for table in found.route_tables
            if role_of(table) in (ROLE_PUBLIC_ROUTE_TABLE, ROLE_PRIVATE_ROUTE_TABLE)
        }
        new_subnets = [(i, s) for i, s in enumerate(self.plan.subnets) if s.slot not in subnet_ids]
        new_tables = [(i, r) for i, r in enumerate(self.plan.route_tables) if r.slot not in tables]
        main_id, gateway_id, _, *made = read_cache.together(
            lambda: self.tag_main_route_table(vpc_id, found),
            lambda: self.internet_gateway(vpc_id, found),
            lambda: self.dns(vpc_id, found),
            *(lambda i=i, s=s: self.subnet(vpc_id, i, s) for i, s in new_subnets),
            *(lambda i=i, r=r: self.route_table(vpc_id, i, r) for i, r in new_tables),
        )
        self.main_route_table_id = main_id
        for (_, planned), subnet_id in zip(new_subnets, made[: len(new_subnets)], strict=True):
            subnet_ids[planned.slot] = subnet_id
            self.made_subnet_ids.add(subnet_id)
        for (_, planned), table in zip(new_tables, made[len(new_subnets) :], strict=True):
            tables[planned.slot] = table
        return subnet_ids, gateway_id, [tables[planned.slot] for planned in self.plan.route_tables]

    def nat_gateways(self, vpc_id: str, subnet_ids: dict[str, str]) -> dict[str, str]:
        if not self.plan.nat_gateways:
            return {}
        gateways = {} if self.new_vpc else {slot_of(g): g for g in lab_nat_gateways(vpc_id)}
        addresses = {} if self.new_vpc else {slot_of(a): a for a in lab_elastic_ips(vpc_id)}
        for place, planned in enumerate(self.plan.nat_gateways):
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
                place_of_address = (PLACE_NAT_GATEWAYS, place, 0)
                self.made(place_of_address, planned.elastic_ip_name, address["AllocationId"])
            tags = self.tags(ROLE_NAT_GATEWAY, planned.name, **{SLOT_KEY: planned.slot})
            gateway = self.ec2.create_nat_gateway(
                SubnetId=subnet_ids[planned.subnet_slot],
                AllocationId=address["AllocationId"],
                ConnectivityType="public",
                TagSpecifications=tag_specification("natgateway", tags),
            )["NatGateway"]
            gateways[planned.slot] = gateway
            self.made((PLACE_NAT_GATEWAYS, place, 1), planned.name, gateway["NatGatewayId"])
            self.report_made(before=(PLACE_ROUTE_TABLES,))
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
            read_cache.expire()
            state = self.ec2.describe_nat_gateways(NatGatewayIds=[gateway_id])["NatGateways"][0][
                "State"
            ]
        if state != "available":
            raise LabError("networking.nat_failed", id=gateway_id, state=state)
        return gateway_id

    def connect(
        self,
        subnet_ids: dict[str, str],
        gateway_id: str | None,
        nat_ids: dict[str, str],
        tables: list[dict],
        found: _Found,
    ) -> None:
        """The second round, at once: each planned route table's subnets and default route."""
        steps = []
        for planned, table in zip(self.plan.route_tables, tables, strict=True):
            table_id = table["RouteTableId"]
            self.route_table_ids.setdefault(planned.role, []).append(table_id)
            already = set(associated_subnet_ids(table))
            for subnet_id in (subnet_ids[slot] for slot in planned.subnet_slots):
                if subnet_id not in already:
                    steps.append(partial(self._associate, table_id, subnet_id, found))
            target = (
                {"GatewayId": gateway_id}
                if planned.role == ROLE_PUBLIC_ROUTE_TABLE
                else {"NatGatewayId": nat_ids[planned.nat_slot]}
                if planned.nat_slot
                else None
            )
            if target:
                steps.append(partial(self._default_route, table, target))
        read_cache.together(*steps)

    def _associate(self, table_id: str, subnet_id: str, found: _Found) -> None:
        # "Subnet route tables": a subnet not explicitly associated with a route table uses the
        # main one; a subnet made just now has no association to replace.
        made_now = subnet_id in self.made_subnet_ids
        current_association = None if made_now else found.associations.get(subnet_id)
        if current_association:
            self.ec2.replace_route_table_association(
                AssociationId=current_association, RouteTableId=table_id
            )
        else:
            self.ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)

    def network(self, vpc_id: str, subnet_ids: dict[str, str]) -> LabNetwork:
        """The network this builder made in a new VPC, as ``find_lab_network`` would find it
        (nothing else of the lab's can be in a VPC made by this click)."""

        def subnets(role: str) -> list[str]:
            return [subnet_ids[s.slot] for s in self.plan.subnets if s.role == role]

        return LabNetwork(
            vpc_id=vpc_id,
            name_prefix=self.plan.name_prefix,
            cidr=self.plan.cidr,
            public_subnet_ids=subnets(ROLE_PUBLIC_SUBNET),
            private_subnet_ids=subnets(ROLE_PRIVATE_SUBNET),
            public_route_table_ids=self.route_table_ids.get(ROLE_PUBLIC_ROUTE_TABLE, []),
            private_route_table_ids=self.route_table_ids.get(ROLE_PRIVATE_ROUTE_TABLE, []),
            main_route_table_id=self.main_route_table_id,
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


def ensure_network(
    choices: dict | None = None,
    report: Callable[[str], None] = print_progress,
    missing_only: bool = False,
) -> EnsureResult:
    """Make whatever is missing of the lab's network; reuse the lab's VPC when there is one.

    A lab VPC found by its tags is finished as it was planned (its own stored choices), so
    a second Create, a re-run, or catch-up never makes a second VPC. Without one, ``choices``
    are checked first and LabError is raised for the first refusal (nothing is created).
    ``missing_only`` (a later chapter's catch-up): an existing VPC's DNS settings are neither
    read nor set back (the wizard's own click does, and chapter 01's check reports them).
    """
    # One action: what ``look`` reads at once is read once, whoever calls (a click, catch-up).
    with read_cache.action(), friendly_errors():
        existing = find_lab_vpc()
        if existing:
            plan = plan_for_existing(existing)
        else:
            problems = refusals(choices or {})
            if problems:
                raise problems[0]
            plan = plan_network(choices or {}, availability_zones())
        builder = _Builder(plan, report, missing_only)
        try:
            vpc = builder.vpc(existing)
            vpc_id = vpc["VpcId"]
            found = builder.look(vpc_id)
            subnet_ids, gateway_id, tables = builder.parts(vpc_id, found)
            builder.report_made(before=(PLACE_NAT_GATEWAYS,))
            nat_ids = builder.nat_gateways(vpc_id, subnet_ids)
            builder.report_made()
            builder.connect(subnet_ids, gateway_id, nat_ids, tables, found)
        finally:
            builder.report_made()  # what calls made at once made before one of them failed
        network = (
            builder.network(vpc_id, subnet_ids) if builder.new_vpc else network_from(find_lab_vpc())
        )
    return EnsureResult(network, vpc, plan, builder.created, existing is not None)


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
