"""Chapter 01's form: the console's "VPC and more" wizard, with a live preview and NAT costs."""

from __future__ import annotations

from collections.abc import Callable

from helpers.aws import networking
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.views.forms.base import (
    Field,
    FormModel,
    FormView,
    Problem,
    SubmitResult,
    problem_from,
)
from helpers.views.html import box, table

DEFAULTS = networking.DEFAULT_CHOICES
SUBNET_COUNT_FIELDS = ("public_subnets", "private_subnets")
# AWS accepts either DNS setting off; only resolution matters to the note app's path.
DNS_OFF_WARNINGS = {
    "dns_resolution": "networking.dns_resolution_off",
    "dns_hostnames": "networking.dns_hostnames_off",
}


def _count_options(multiples: tuple[int, ...]) -> Callable[[dict], list]:
    """Subnet counts the console offers for the chosen number of AZs (0, one or two per AZ)."""

    def options(values: dict) -> list[tuple[str, int]]:
        azs = int(values.get("azs") or 1)
        return [(str(azs * multiple), azs * multiple) for multiple in multiples]

    return options


def _nat_options(_values: dict) -> list[tuple[str, str]]:
    return [
        (t("networking.nat_none"), networking.NAT_NONE),
        (t("networking.nat_one_az"), networking.NAT_ONE_AZ),
        (t("networking.nat_per_az"), networking.NAT_PER_AZ),
    ]


class VpcForm(FormModel):
    chapter = networking.CHAPTER
    submit_label_key = "networking.submit"
    confirmation_fields = ("confirm_cost",)
    fields = [
        Field("name_prefix", "networking.field_name_prefix", "text", DEFAULTS["name_prefix"]),
        Field("cidr", "networking.field_cidr", "text", DEFAULTS["cidr"]),
        Field(
            "azs",
            "networking.field_azs",
            "choice",
            DEFAULTS["azs"],
            options=[(str(n), n) for n in range(1, networking.MAX_AZS + 1)],
        ),
        Field(
            "public_subnets",
            "networking.field_public_subnets",
            "choice",
            DEFAULTS["public_subnets"],
            options=_count_options((0, 1)),
            depends_on=("azs",),
        ),
        Field(
            "private_subnets",
            "networking.field_private_subnets",
            "choice",
            DEFAULTS["private_subnets"],
            options=_count_options((0, 1, 2)),
            depends_on=("azs",),
        ),
        Field(
            "nat_gateways",
            "networking.field_nat_gateways",
            "choice",
            DEFAULTS["nat_gateways"],
            options=_nat_options,
        ),
        Field("confirm_cost", "networking.field_confirm_cost", "bool", False),
        Field("dns_hostnames", "networking.field_dns_hostnames", "bool", DEFAULTS["dns_hostnames"]),
        Field(
            "dns_resolution", "networking.field_dns_resolution", "bool", DEFAULTS["dns_resolution"]
        ),
    ]

    def __init__(self):
        self._choices_in_use: dict | None = None

    # --- checking -------------------------------------------------------------------------
    def check(self, values: dict) -> list[Problem]:
        problems = [problem_from(error) for error in networking.refusals(values)]
        if problems:
            return problems
        plan = networking.plan_network(values, networking.availability_zones())
        if plan.nat_gateways and not values.get("confirm_cost"):
            problems.append(
                Problem(
                    "confirm_cost",
                    "networking.nat_cost_unconfirmed",
                    t("networking.nat_cost_unconfirmed", cost=networking.nat_cost_text(plan)),
                )
            )
        if plan.nat_gateways and not plan.choices["private_subnets"]:
            problems.append(
                Problem(
                    "nat_gateways",
                    "networking.nat_without_private",
                    t("networking.nat_without_private"),
                    "warning",
                )
            )
        problems += [problem_from(error, "warning") for error in networking.warnings(values)]
        for choice, key in DNS_OFF_WARNINGS.items():
            if not plan.choices[choice]:
                problems.append(Problem(choice, key, t(key, region=current().region), "warning"))
        existing = networking.find_lab_vpc()
        if existing and not _same_choices(networking.plan_for_existing(existing).choices, values):
            problems.append(
                Problem(
                    None,
                    "networking.reused_other_values",
                    t("networking.reused_other_values", vpc=networking.vpc_label(existing)),
                    "warning",
                )
            )
        return problems

    # --- previewing -----------------------------------------------------------------------
    def preview(self, values: dict) -> str:
        existing = networking.find_lab_vpc()
        if existing:
            return box(t("networking.preview_reuse", vpc=networking.vpc_label(existing)), "info")
        plan = networking.plan_network(values, networking.availability_zones())
        parts = [
            table(
                [
                    t("networking.column_resource"),
                    t("networking.column_name"),
                    t("networking.column_details"),
                ],
                plan_rows(plan),
                caption=t("networking.preview_title"),
            )
        ]
        if plan.nat_gateways and values.get("confirm_cost"):
            # Unconfirmed, the cost is the judgement's refusal above: said once, not twice.
            parts.append(box(networking.nat_cost_text(plan), "warning"))
        return "".join(parts)

    # --- creating -------------------------------------------------------------------------
    def create(self, values: dict) -> SubmitResult:
        result = networking.ensure_network(values, self.progress)
        self._choices_in_use = dict(result.plan.choices)
        if result.reused_existing_vpc:
            key = "networking.reused_finished" if result.created else "networking.reused"
        else:
            key = "networking.created"
        vpc = networking.vpc_label(result.vpc)  # as the click made or found it: not read again
        return SubmitResult(
            ok=True,
            created=bool(result.created),
            resource=result.network,
            # What the click did, once: the chapter's show() draws the map and route tables.
            html=box(t(key, count=len(result.created), vpc=vpc), "success"),
        )

    def journal_values(self, values: dict) -> dict:
        """The choices of the network actually in use (a reused VPC keeps its own)."""
        return dict(self._choices_in_use or networking.normalised(values))


def _same_choices(planned: dict, values: dict) -> bool:
    submitted = networking.normalised(values)
    return all(planned.get(key) == submitted.get(key) for key in networking.DEFAULT_CHOICES)


def plan_rows(plan: networking.NetworkPlan) -> list[list[str]]:
    """``[kind, name, details]`` for everything ``plan`` makes, in the console's order."""

    def on_off(flag: bool) -> str:
        return t("networking.on") if flag else t("networking.off")

    choices = plan.choices
    subnet_names = {s.slot: s.name for s in plan.subnets}
    nat_names = {n.slot: n.name for n in plan.nat_gateways}
    rows = [
        [
            t("networking.kind_vpc"),
            plan.vpc_name,
            t(
                "networking.details_vpc",
                cidr=plan.cidr,
                hostnames=on_off(choices["dns_hostnames"]),
                resolution=on_off(choices["dns_resolution"]),
            ),
        ]
    ]
    for subnet in plan.subnets:
        kind = (
            "networking.kind_public_subnet"
            if subnet.role == networking.ROLE_PUBLIC_SUBNET
            else "networking.kind_private_subnet"
        )
        rows.append(
            [
                t(kind),
                subnet.name,
                t("networking.details_subnet", cidr=subnet.cidr, zone=subnet.zone),
            ]
        )
    if plan.internet_gateway_name:
        rows.append(
            [
                t("networking.kind_internet_gateway"),
                plan.internet_gateway_name,
                t("networking.details_internet_gateway"),
            ]
        )
    rows.append(
        [t("networking.kind_main_route_table"), "—", t("networking.details_main_route_table")]
    )
    for route_table in plan.route_tables:
        public = route_table.role == networking.ROLE_PUBLIC_ROUTE_TABLE
        target = plan.internet_gateway_name if public else nat_names.get(route_table.nat_slot)
        routes = (
            t("networking.routes_to", target=target) if target else t("networking.routes_local")
        )
        kind = (
            "networking.kind_public_route_table"
            if public
            else "networking.kind_private_route_table"
        )
        rows.append(
            [
                t(kind),
                route_table.name,
                t(
                    "networking.details_route_table",
                    routes=routes,
                    subnets=", ".join(subnet_names[s] for s in route_table.subnet_slots),
                ),
            ]
        )
    for nat in plan.nat_gateways:
        rows.append([t("networking.kind_elastic_ip"), nat.elastic_ip_name, nat.zone])
        rows.append(
            [
                t("networking.kind_nat_gateway"),
                nat.name,
                t(
                    "networking.details_nat_gateway",
                    subnet=subnet_names[nat.subnet_slot],
                    eip=nat.elastic_ip_name,
                ),
            ]
        )
    return rows


class VpcFormView(FormView):
    """The wizard's widgets: progress goes to the output, subnet counts follow the AZ count,
    and the cost confirmation shows only when a NAT gateway is chosen."""

    def __init__(self, model: VpcForm | None = None, values: dict | None = None):
        model = model or VpcForm()
        super().__init__(model, values)
        self._azs = self.controls["azs"].value
        self._show_confirmation()

    def _on_change(self, name: str) -> None:
        if name != "azs":
            super()._on_change(name)
            if name == "nat_gateways":
                self._show_confirmation()
            return
        # Keep "one per AZ" / "two per AZ" when the number of AZs changes, as the console does.
        per_az = {f: self.controls[f].value // self._azs for f in SUBNET_COUNT_FIELDS}
        self._azs = self.controls["azs"].value
        super()._on_change(name)
        self.set(**{f: multiple * self._azs for f, multiple in per_az.items()})

    def _show_confirmation(self) -> None:
        chosen = self.controls["nat_gateways"].value != networking.NAT_NONE
        self.controls["confirm_cost"].layout.display = None if chosen else "none"
