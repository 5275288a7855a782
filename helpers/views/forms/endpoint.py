"""The console's "Create endpoint" form (chapter 02): its model and its widget view.

The model turns the fields into an ``endpoints.EndpointRequest``; ``helpers.aws.endpoints``
decides what AWS would refuse or warn about and does the creating. The view adds what the
base view lacks: a searchable services list, a key/value tag editor, and fields that show
only for the chosen endpoint type (route tables for Gateway, subnets and costs for Interface;
private DNS only for a service that has a private DNS name, which DynamoDB has not).
"""

from __future__ import annotations

import json
import threading

import ipywidgets as widgets
import traitlets

from helpers.aws import endpoints, networking
from helpers.aws.endpoints import GATEWAY, INTERFACE
from helpers.core import read_cache
from helpers.core.errors import LabError, problem_from
from helpers.core.messages import t
from helpers.views.forms.base import (
    LABEL_STYLE,
    Field,
    FormModel,
    FormView,
    Problem,
    SubmitResult,
    column_label,
)
from helpers.views.html import box, text
from helpers.views.routes import render_snapshot, route_table_label

AWS_SERVICES = "aws-services"
SERVICE_CATEGORIES = (
    AWS_SERVICES,
    "partner-services",
    "marketplace-services",
    "instance-connect",
    "other-services",
)
ALL_TYPES = ""
FULL_ACCESS, CUSTOM_POLICY = "full", "custom"
GATEWAY_FIELDS = ("route_tables",)
# Warnings about an endpoint the note app could not use: a click must be confirmed.
BROKEN_RESULT_WARNINGS = (
    "endpoints.no_route_table",
    "endpoints.private_subnet_not_covered",
    "endpoints.policy_refuses_note_app",
)
INTERFACE_FIELDS = ("subnets", "security_groups", "private_dns", "confirm_cost")
SERVICE_FIELDS = ("service_search", "service_type_filter", "service", "endpoint_type")
FULL_SERVICE_NAME_START = "com.amazonaws."


def tag_pairs(value) -> list[tuple[str, str]]:
    """The tag editor's rows (or a dict) as (key, value) pairs, blank rows left out."""
    items = value.items() if isinstance(value, dict) else (value or [])
    pairs = [(str(k).strip(), str(v)) for k, v in items]
    return [(k, v) for k, v in pairs if k or v.strip()]


def service_columns() -> list[tuple[str, int]]:
    """The services list's columns: (heading, width in characters). Each column is as wide as
    its longest entry or its heading, in the learner's language ("Chủ sở hữu" is longer
    than any owner), so the headings sit over their columns."""
    services = endpoints.endpoint_services()
    values = ([s.name for s in services], [s.owner for s in services])
    headings = (t("endpoints.column_service_name"), t("endpoints.column_owner"))
    columns = [
        (heading, max(len(heading), *(len(v) for v in column), 1))
        for heading, column in zip(headings, values, strict=True)
    ]
    return [*columns, (t("endpoints.column_type"), 0)]


def _service_row(columns: list[tuple[str, int]], *cells: str) -> str:
    """One line of the services list: each cell padded to its column's width, one space
    between columns (the list uses a monospace font)."""
    return " ".join(
        cell.ljust(width) for cell, (_heading, width) in zip(cells, columns, strict=True)
    )


# The list and its headings share one monospace font; the headings are laid out in ``ch``
# (the width of one character of that font), so a wider glyph in a heading cannot shift the
# next column. The list's own padding is fixed so that the headings can start where its text
# does: one px of border and SERVICES_PADDING.
SERVICES_FONT = "font-family:'DejaVu Sans Mono',monospace;font-size:13px"
SERVICES_PADDING = "4px"
SERVICES_STYLE = (
    "<style>"
    f".lab-services select{{{SERVICES_FONT};padding:{SERVICES_PADDING} {SERVICES_PADDING}}}"
    ".lab-services select option{padding:0}"
    f".lab-services-header{{{SERVICES_FONT};white-space:pre;margin:0;"
    f"padding-left:calc({SERVICES_PADDING} + 1px)}}"
    "</style>"
)


def services_header_html(columns: list[tuple[str, int]]) -> str:
    """The headings over the services list, one per column, each as wide as its column."""
    cells = "".join(
        f"<span class='lab-services-column' style='display:inline-block;"
        f"{f'width:{width + 1}ch' if width else ''}'>{text(heading)}</span>"
        for heading, width in columns
    )
    return f"{SERVICES_STYLE}<div class='lab-services-header'>{cells}</div>"


def _service_options(values: dict) -> list[tuple[str, str]]:
    if values.get("service_category") != AWS_SERVICES:
        return []
    search = (values.get("service_search") or "").strip().lower()
    wanted_type = values.get("service_type_filter") or ALL_TYPES
    columns = service_columns()
    return [
        (_service_row(columns, s.name, s.owner, ", ".join(s.types)), s.name)
        for s in endpoints.endpoint_services()
        if search in s.name.lower() and (not wanted_type or wanted_type in s.types)
    ]


def chosen_service_name(values: dict) -> str:
    """The ticked service, or the search text when it is a full service name the ticked one
    does not match: a learner who types another region's name then hears AWS's
    InvalidServiceName, not "no service is chosen" from a list that has emptied."""
    ticked = (values.get("service") or "").strip()
    typed = (values.get("service_search") or "").strip()
    if typed.lower().startswith(FULL_SERVICE_NAME_START) and typed.lower() not in ticked.lower():
        return typed
    return ticked


def offers_private_dns(values: dict) -> bool:
    """Whether the chosen service's interface endpoints can have private DNS. The console offers
    the choice only then (DynamoDB has no private DNS name), and so does this form."""
    service = endpoints.find_service(chosen_service_name(values))
    return service is None or service.private_dns


def _type_options(values: dict) -> list[tuple[str, str]]:
    service = endpoints.find_service(values.get("service") or "")
    types = service.types if service else (GATEWAY, INTERFACE)
    return [(t(f"endpoints.type_{kind.lower()}"), kind) for kind in types]


def _route_table_options(values: dict) -> list[tuple[str, str]]:
    vpc_id = values.get("vpc")
    if not vpc_id:
        return []
    names = networking.subnet_names(vpc_id)
    return [
        (route_table_label(rt, names), rt["RouteTableId"])
        for rt in networking.describe_route_tables(vpc_id)
    ]


def _subnet_options(values: dict) -> list[tuple[str, str]]:
    vpc_id = values.get("vpc")
    if not vpc_id:
        return []
    return [
        (
            f"{s['SubnetId']} ({networking.name_of(s) or '-'}) {s['AvailabilityZone']} "
            f"{s['CidrBlock']}",
            s["SubnetId"],
        )
        for s in networking.describe_subnets(vpc_id)
    ]


def _security_group_options(values: dict) -> list[tuple[str, str]]:
    """The VPC's security groups, read only while they are shown: an Interface endpoint's."""
    vpc_id = values.get("vpc")
    if not vpc_id or values.get("endpoint_type") != INTERFACE:
        return []
    groups = networking.vpc_security_groups(vpc_id)
    return [(f"{g['GroupId']} ({g['GroupName']})", g["GroupId"]) for g in groups]


def _default_vpc() -> str | None:
    """The console's default VPC here: the lab's, else the region's first."""
    network = networking.find_lab_network()
    choices = networking.vpc_choices()
    return network.vpc_id if network else (choices[0][1] if choices else None)


class EndpointForm(FormModel):
    """Create endpoint: Name tag, service, VPC, route tables (or subnets), policy, tags."""

    chapter = endpoints.CHAPTER
    submit_label_key = "endpoints.create_button"
    confirmation_fields = ("confirm_cost",)
    fields = [
        Field("name", "endpoints.label_name", "text", endpoints.DEFAULT_NAME),
        Field(
            "service_category",
            "endpoints.label_category",
            "choice",
            AWS_SERVICES,
            options=lambda values: [
                (t(f"endpoints.category_{c.replace('-', '_')}"), c) for c in SERVICE_CATEGORIES
            ],
        ),
        Field("service_search", "endpoints.label_search", "text", ""),
        Field(
            "service_type_filter",
            "endpoints.label_type_filter",
            "choice",
            ALL_TYPES,
            options=lambda values: [
                (t("endpoints.type_all"), ALL_TYPES),
                (t("endpoints.type_gateway"), GATEWAY),
                (t("endpoints.type_interface"), INTERFACE),
            ],
        ),
        Field(
            "service",
            "endpoints.label_service",
            "choice",
            default_factory=endpoints.dynamodb_service_name,
            options=_service_options,
            depends_on=("service_category", "service_search", "service_type_filter"),
        ),
        Field(
            "endpoint_type",
            "endpoints.label_type",
            "choice",
            GATEWAY,
            options=_type_options,
            depends_on=("service",),
        ),
        Field(
            "vpc",
            "endpoints.label_vpc",
            "choice",
            default_factory=_default_vpc,
            options=lambda values: networking.vpc_choices(),
        ),
        Field(
            "route_tables",
            "endpoints.label_route_tables",
            "multi",
            default_factory=lambda: EndpointForm.route_table_defaults(_default_vpc()),
            options=_route_table_options,
            depends_on=("vpc",),
        ),
        Field(
            "subnets",
            "endpoints.label_subnets",
            "multi",
            [],
            options=_subnet_options,
            depends_on=("vpc",),
        ),
        Field(
            "security_groups",
            "endpoints.label_security_groups",
            "multi",
            [],
            options=_security_group_options,
            depends_on=("vpc", "endpoint_type"),
        ),
        Field("private_dns", "endpoints.label_private_dns", "bool", True),
        Field("confirm_cost", "endpoints.label_confirm_cost", "bool", False),
        Field(
            "policy_kind",
            "endpoints.label_policy",
            "choice",
            FULL_ACCESS,
            options=lambda values: [
                (t("endpoints.policy_full"), FULL_ACCESS),
                (t("endpoints.policy_custom"), CUSTOM_POLICY),
            ],
        ),
        Field(
            "policy",
            "endpoints.label_policy_json",
            "textarea",
            json.dumps(endpoints.FULL_ACCESS_POLICY, indent=2),
        ),
        Field("tags", "endpoints.label_tags", "text", []),
    ]

    @staticmethod
    def route_table_defaults(vpc_id: str | None) -> list[str]:
        return endpoints.default_route_tables(vpc_id) if vpc_id else []

    def request(self, values: dict) -> endpoints.EndpointRequest:
        kind = values["endpoint_type"]
        return endpoints.EndpointRequest(
            vpc_id=values["vpc"] or "",
            service_name=chosen_service_name(values),
            endpoint_type=kind,
            route_table_ids=list(values["route_tables"] or []) if kind == GATEWAY else [],
            subnet_ids=list(values["subnets"] or []) if kind == INTERFACE else [],
            security_group_ids=list(values["security_groups"] or []) if kind == INTERFACE else [],
            private_dns=bool(values["private_dns"]) and offers_private_dns(values),
            cost_confirmed=bool(values["confirm_cost"]),
            policy=values["policy"] if values["policy_kind"] == CUSTOM_POLICY else None,
            name=values["name"] or "",
            extra_tags=dict(tag_pairs(values["tags"])),
        )

    def check(self, values: dict) -> list[Problem]:
        category = values["service_category"]
        if category != AWS_SERVICES:
            return [
                Problem(
                    "service_category",
                    "endpoints.category_not_in_lab",
                    t(
                        "endpoints.category_not_in_lab",
                        explanation=self.category_explanation(category),
                    ),
                )
            ]
        problems = []
        pairs = tag_pairs(values["tags"])
        keys = [k for k, _ in pairs] + (["Name"] if (values["name"] or "").strip() else [])
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(
                Problem(
                    "tags", "endpoints.tag_duplicate", t("endpoints.tag_duplicate", tag_key=key)
                )
            )
        request = self.request(values)
        if request.endpoint_type == GATEWAY and request.vpc_id:
            # What the refusals and warnings below read in turn, asked at once: a learner far
            # from the region waits for one round instead of four.
            read_cache.prefetch(
                networking.region_vpcs,
                lambda: endpoints.find_existing(request),
                lambda: networking.describe_route_tables(request.vpc_id),
                lambda: networking.describe_subnets(request.vpc_id),
            )
        problems += [problem_from(e) for e in endpoints.refusals(request)]
        problems += [
            problem_from(w, "confirm" if w.key in BROKEN_RESULT_WARNINGS else "warning")
            for w in endpoints.warnings(request)
        ]
        return problems

    @staticmethod
    def category_explanation(category: str) -> str:
        return t(f"endpoints.category_{category.replace('-', '_')}_explained")

    def change(self, values: dict) -> endpoints.EndpointChange | None:
        """What a click would change on the lab's existing gateway endpoint for these values
        (None: there is none, so a click creates one)."""
        if (
            values.get("service_category") != AWS_SERVICES
            or values.get("endpoint_type") != GATEWAY
            or not values.get("vpc")
            or not chosen_service_name(values)
        ):
            return None
        return endpoints.change_for(self.request(values))

    def action_label(self, values: dict) -> str:
        change = self.change(values)
        if change is None:
            return t(self.submit_label_key)
        return t("endpoints.save_changes") if change else t("endpoints.keep")

    def create(self, values: dict) -> SubmitResult:
        change = self.change(values)
        if change:  # the console's Manage route tables / Manage policy, in one click
            snapshot = endpoints.apply_change(change)
            return SubmitResult(
                ok=True,
                created=False,
                resource=snapshot.endpoint,
                html=box(t("endpoints.changed", endpoint_id=change.endpoint_id), "success")
                + render_snapshot(snapshot),
            )
        snapshot = endpoints.create_endpoint(self.request(values), progress=self.progress)
        notice = (
            ""
            if snapshot.created
            else box(
                t("endpoints.already_exists", endpoint_id=snapshot.endpoint["VpcEndpointId"]),
                "info",
            )
        )
        return SubmitResult(
            ok=True,
            created=snapshot.created,
            resource=snapshot.endpoint,
            html=notice + render_snapshot(snapshot),
        )

    def journal_values(self, values: dict) -> dict:
        """What catch-up reuses (it always makes the free Gateway endpoint to DynamoDB).

        Ids change when the backend restarts, so route tables are kept by lab role and Name.
        """
        return {
            "name": values["name"],
            "route_tables": endpoints.route_table_references(
                values["route_tables"] or [], values["vpc"]
            ),
            "policy": values["policy"] if values["policy_kind"] == CUSTOM_POLICY else None,
            "tags": dict(tag_pairs(values["tags"])),
        }

    def values_from_journal(self, choices: dict) -> dict:
        """Catch-up's values: the free Gateway endpoint to DynamoDB in the lab's VPC, with the
        learner's name, route tables, policy and tags (nothing that costs money)."""
        values = self.defaults()
        network = networking.find_lab_network()
        if network is None:
            raise LabError("endpoints.no_lab_network")
        chosen = endpoints.route_tables_referenced(
            network.vpc_id, choices.get("route_tables") or []
        )
        values.update(
            vpc=network.vpc_id,
            route_tables=chosen or values["route_tables"],
            name=choices.get("name", values["name"]),
            tags=[list(pair) for pair in tag_pairs(choices.get("tags"))],
        )
        if choices.get("policy"):
            values.update(policy_kind=CUSTOM_POLICY, policy=choices["policy"])
        return values

    def preview(self, values: dict) -> str:
        category = values.get("service_category")
        if category != AWS_SERVICES:
            return box(self.category_explanation(category), "info")
        service = chosen_service_name(values)
        if not service:
            return box(t("endpoints.preview_no_service"), "info")
        change = self.change(values)
        if change is not None:
            return box(_change_text(change), "info")
        if values.get("endpoint_type") == INTERFACE:
            chosen = set(values.get("subnets") or [])
            zones = (
                {
                    s["AvailabilityZone"]
                    for s in networking.describe_subnets(values["vpc"])
                    if s["SubnetId"] in chosen
                }
                if values.get("vpc")
                else set()
            )
            return box(
                t(
                    "endpoints.interface_cost",
                    service=service,
                    **endpoints.interface_cost(len(zones) or 1),
                ),
                "warning",
            )
        if not values.get("route_tables"):
            return ""  # the warning above says what an endpoint without routes means
        return box(
            t(
                "endpoints.gateway_preview",
                service=service,
                count=len(values.get("route_tables") or []),
            ),
            "info",
        )


def _change_text(change: endpoints.EndpointChange) -> str:
    """What a click on "Save changes" does to the existing endpoint, in the learner's words."""
    if not change:
        return t("endpoints.nothing_to_change", endpoint_id=change.endpoint_id)
    parts = [t("endpoints.change_intro", endpoint_id=change.endpoint_id)]
    if change.add:
        parts.append(t("endpoints.change_add", route_tables=", ".join(change.add)))
    if change.remove:
        parts.append(t("endpoints.change_remove", route_tables=", ".join(change.remove)))
    if change.policy is not None:
        parts.append(t("endpoints.change_policy"))
    return " ".join(parts)


def tag_editor(description: str, pairs):
    """Key/value rows with "Add new tag" and "Remove", like the console's tag editor.

    Its ``value`` is the list of ``[key, value]`` rows, so the base view reads, sets and
    observes it like any other control.
    """

    class TagEditor(widgets.Box):
        value = traitlets.List()

        def __init__(self):
            super().__init__()  # a row: the label in the labels' column, then the tags
            self._rows: list = []
            self._updating = False
            # Clicks and typing may arrive on kernel subshells, in other threads.
            self._lock = threading.RLock()
            self.add_button = widgets.Button(
                description=t("endpoints.add_tag"), tooltip=t("endpoints.add_tag")
            )
            self.add_button.on_click(lambda _button: self._add_row("", ""))
            self.observe(self._rebuild, names="value")

        def _add_row(self, key: str, tag_value: str) -> None:
            key_box = widgets.Text(value=key, description=t("endpoints.tag_key"))
            value_box = widgets.Text(value=tag_value, description=t("endpoints.tag_value"))
            remove = widgets.Button(
                description=t("endpoints.remove_tag"), tooltip=t("endpoints.remove_tag")
            )
            row = widgets.HBox([key_box, value_box, remove])
            row.add_class("lab-tag-row")
            remove.on_click(lambda _button: self._remove_row(row))
            for text_box in (key_box, value_box):
                text_box.observe(lambda _change: self._sync(), names="value")
            with self._lock:
                self._rows.append(row)
                self._redraw()
                self._sync()

        def _remove_row(self, row) -> None:
            with self._lock:
                if row not in self._rows:  # a double click's second click
                    return
                self._rows.remove(row)
                self._redraw()
                self._sync()

        def _redraw(self) -> None:
            self.children = [
                column_label(description),
                widgets.VBox([*self._rows, self.add_button]),
            ]

        def _sync(self) -> None:
            """Rows → value (a learner typed)."""
            with self._lock:
                if not self._updating:
                    self._updating = True
                    self.value = [
                        [row.children[0].value, row.children[1].value] for row in self._rows
                    ]
                    self._updating = False

        def _rebuild(self, change) -> None:
            """Value → rows (set from code)."""
            with self._lock:
                if self._updating:
                    return
                self._updating = True
                self._rows = []
                for key, tag_value in tag_pairs(change["new"]):
                    self._add_row(key, tag_value)
                self._redraw()
                self._updating = False

    editor = TagEditor()
    editor.value = [list(pair) for pair in tag_pairs(pairs)]
    editor._redraw()
    return editor


class EndpointFormView(FormView):
    """The base view plus the services list, the tag editor and type-dependent fields."""

    def __init__(self, model: EndpointForm | None = None, values: dict | None = None):
        model = model or EndpointForm()
        super().__init__(model, values)
        # Built like the list below it (a described widget with the labels' column, its label
        # blank), so that the headings start exactly where the list's text does.
        self.services_header = widgets.HTML(
            services_header_html(service_columns()),
            description="\u00a0",
            style=LABEL_STYLE,
            layout=widgets.Layout(width="95%"),
        )
        self._apply_visibility()

    def _make_control(self, f: Field, values: dict):
        control = self._new_control(f, values)
        # Born hidden when its field is: a list of subnets rebuilt after a click never flashes
        # up on a Gateway endpoint's form.
        control.layout.display = None if shown_fields(values)[f.name] else "none"
        return control

    def _new_control(self, f: Field, values: dict):
        w = widgets
        if f.name == "tags":
            return tag_editor(f.label, values.get(f.name))
        if f.name == "service":
            choices = f.choices(values)
            allowed = [v for _, v in choices]
            control = w.Select(
                options=choices,
                description=f.label,
                rows=8,
                value=values.get(f.name)
                if values.get(f.name) in allowed
                else (allowed[0] if allowed else None),
                style=LABEL_STYLE,
                layout=w.Layout(width="95%"),
            )
            control.add_class("lab-services")
            return control
        return super()._make_control(f, values)

    def _reload_options(self, f: Field) -> None:
        """A narrowed services list keeps the chosen service, else falls back to DynamoDB."""
        if f.name != "service":
            super()._reload_options(f)
            return
        control = self.controls["service"]
        current = control.value
        choices = f.choices(self.values())
        allowed = [value for _, value in choices]
        control.options = choices
        control.value = next(
            (v for v in (current, endpoints.dynamodb_service_name()) if v in allowed),
            allowed[0] if allowed else None,
        )

    def _field_widgets(self) -> list:
        children = []
        for name, control in self.controls.items():
            if name == "service":
                children.append(self.services_header)
            children.append(control)
        return children

    def _on_change(self, name: str) -> None:
        super()._on_change(name)
        if name == "vpc":
            self.set(route_tables=self.model.route_table_defaults(self.controls["vpc"].value))
        self._apply_visibility()

    def refresh(self) -> None:
        super().refresh()
        self._apply_visibility()

    def _apply_visibility(self) -> None:
        values = self.values()
        for name, visible in shown_fields(values).items():
            self.controls[name].layout.display = None if visible else "none"
        aws = values["service_category"] == AWS_SERVICES
        self.services_header.layout.display = None if aws else "none"


def shown_fields(values: dict) -> dict[str, bool]:
    """Which fields the form shows for ``values``: those of the chosen type only."""
    aws = values["service_category"] == AWS_SERVICES
    kind = values["endpoint_type"]
    shown = {f.name: True for f in EndpointForm.fields}
    for name in SERVICE_FIELDS:
        shown[name] = aws
    for name in GATEWAY_FIELDS:
        shown[name] = aws and kind == GATEWAY
    for name in INTERFACE_FIELDS:
        shown[name] = aws and kind == INTERFACE
    shown["private_dns"] = shown["private_dns"] and offers_private_dns(values)
    shown["policy"] = values["policy_kind"] == CUSTOM_POLICY
    return shown


def request_from_choices(choices: dict) -> endpoints.EndpointRequest:
    """The endpoint catch-up makes from the learner's journal ({} = the form's defaults)."""
    form = EndpointForm()
    return form.request(form.values_from_journal(choices))
