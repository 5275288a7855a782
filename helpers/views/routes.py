"""Chapter 02's pictures: route tables before and after, the prefix list, the endpoint, costs.

The new ``pl-… → vpce-…`` route is the row the learner should notice: it is highlighted in
the AFTER table (class ``lab-new``); a route that went away stays in the AFTER table, struck
through (class ``lab-removed``). Single route tables are drawn by ``views.network``
(chapter 01's), so both chapters look alike.
"""

from __future__ import annotations

import json

from helpers.aws.networking import associated_subnet_ids, route_destination, route_target
from helpers.core import costs
from helpers.core.messages import t
from helpers.core.tags import from_aws
from helpers.views.html import box, table
from helpers.views.html import text as escape
from helpers.views.network import route_table_html, route_table_title, route_tables_html


def route_table_label(route_table: dict, subnet_names: dict[str, str]) -> str:
    """``Name (rtb-…) — subnets: a, b`` for the form's route-table checklist."""
    subnets = [subnet_names.get(s, s) for s in associated_subnet_ids(route_table)]
    associations = (
        t("endpoints.table_subnets", subnets=", ".join(subnets))
        if subnets
        else t("endpoints.table_no_subnets")
    )
    return f"{route_table_title(route_table)} — {associations}"


def _route_key(route: dict) -> tuple[str, str]:
    return route_destination(route), route_target(route)


# Before and after share the width: sized by their long subnet lines alone, each would take
# a whole row and they would stack.
SIDE = "flex:1 1 22em;min-width:0;overflow-x:auto"


# The AFTER table's heading says what is marked in it.
AFTER_HEADINGS = {
    (True, False): "endpoints.after_added",
    (False, True): "endpoints.after_removed",
    (True, True): "endpoints.after_added_and_removed",
    (False, False): "endpoints.after_unchanged",
}


def render_before_after(before: list[dict], after: list[dict], subnet_names: dict[str, str]) -> str:
    """For each route table: its routes BEFORE and AFTER side by side, each under its own
    heading; in AFTER, added routes are highlighted and removed ones stay, struck through."""
    before_by_id = {rt["RouteTableId"]: rt for rt in before}
    parts = []
    for current in after:
        previous = before_by_id.get(current["RouteTableId"], {**current, "Routes": []})
        new = {_route_key(r) for r in current.get("Routes", [])}
        added = new - {_route_key(r) for r in previous.get("Routes", [])}
        removed = [r for r in previous.get("Routes", []) if _route_key(r) not in new]
        shown_after = {**current, "Routes": [*current.get("Routes", []), *removed]}
        after_html = route_table_html(
            shown_after,
            subnet_names,
            highlight=lambda r: _route_key(r) in added,  # noqa: B023 (called at once)
            struck=lambda r: r in removed,  # noqa: B023 (called at once)
        )
        heading = t(AFTER_HEADINGS[bool(added), bool(removed)])
        parts.append(
            "<div class='lab-route-change' style='display:flex;gap:2em;flex-wrap:wrap'>"
            f"<div class='lab-before' style='{SIDE}'><h4>{escape(t('endpoints.before'))}</h4>"
            f"{route_table_html(previous, subnet_names)}</div>"
            f"<div class='lab-after' style='{SIDE}'><h4>{escape(heading)}</h4>"
            f"{after_html}</div></div>"
        )
    return "".join(parts)


def _routes_changed(before: list[dict], after: list[dict]) -> list[str]:
    """The ids of the route tables whose routes differ between ``before`` and ``after``."""
    routes_before = {
        rt["RouteTableId"]: {_route_key(r) for r in rt.get("Routes", [])} for rt in before
    }
    return [
        rt["RouteTableId"]
        for rt in after
        if {_route_key(r) for r in rt.get("Routes", [])} != routes_before.get(rt["RouteTableId"])
    ]


def render_route_changes(snapshot) -> str:
    """Only what a change of route tables did: the tables whose routes changed, before and
    after (the endpoint's full picture is the form's result, or ``ch.show()``)."""
    endpoint_id = snapshot.endpoint["VpcEndpointId"]
    changed = _routes_changed(snapshot.before, snapshot.after)
    if not changed:
        return box(t("endpoints.route_tables_unchanged", endpoint_id=endpoint_id), "info")
    headline = t(
        "endpoints.route_tables_changed", endpoint_id=endpoint_id, route_tables=", ".join(changed)
    )
    return box(headline, "success") + render_before_after(
        [rt for rt in snapshot.before if rt["RouteTableId"] in changed],
        [rt for rt in snapshot.after if rt["RouteTableId"] in changed],
        snapshot.subnet_names,
    )


def render_current(
    route_tables: list[dict], subnet_names: dict[str, str], prefix_list_id: str, endpoint_id: str
) -> str:
    """The route tables as they are now, the endpoint's own routes highlighted."""
    return route_tables_html(
        route_tables,
        subnet_names,
        lambda route: (
            route.get("DestinationPrefixListId") == prefix_list_id
            and route_target(route) == endpoint_id
        ),
    )


def render_prefix_list(prefix_list) -> str:
    rows = [[prefix_list.id, prefix_list.name, ", ".join(prefix_list.cidrs)]]
    return table(
        [
            t("endpoints.column_prefix_list"),
            t("endpoints.column_name"),
            t("endpoints.column_cidrs"),
        ],
        rows,
        caption=t("endpoints.prefix_list_caption"),
    )


def _policy_text(endpoint: dict) -> str:
    text = endpoint.get("PolicyDocument") or ""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def render_endpoint(endpoint: dict) -> str:
    """The endpoint's id, type, state, service, VPC, route tables or subnets, and policy."""
    rows = [
        [t("endpoints.field_id"), endpoint["VpcEndpointId"]],
        [t("endpoints.field_name"), from_aws(endpoint.get("Tags")).get("Name", "")],
        [t("endpoints.field_type"), endpoint.get("VpcEndpointType", "")],
        [t("endpoints.field_state"), endpoint.get("State", "")],
        [t("endpoints.field_service"), endpoint["ServiceName"]],
        [t("endpoints.field_vpc"), endpoint["VpcId"]],
    ]
    if endpoint.get("VpcEndpointType") == "Gateway":
        rows.append(
            [t("endpoints.field_route_tables"), ", ".join(endpoint.get("RouteTableIds", [])) or "-"]
        )
    else:
        rows.append([t("endpoints.field_subnets"), ", ".join(endpoint.get("SubnetIds", []))])
    details = table(
        [t("endpoints.column_field"), t("endpoints.column_value")],
        rows,
        caption=t("endpoints.endpoint_caption"),
    )
    return details + render_policy(endpoint)


def render_policy(endpoint: dict) -> str:
    """The endpoint's policy, as JSON laid out to read."""
    return (
        f"<details open><summary>{escape(t('endpoints.field_policy'))}</summary>"
        f"<pre class='lab-policy'>{escape(_policy_text(endpoint))}</pre></details>"
    )


def render_policy_change(endpoint: dict) -> str:
    """Only what a policy change did: the endpoint's new policy."""
    return box(
        t("endpoints.policy_set", endpoint_id=endpoint["VpcEndpointId"]), "success"
    ) + render_policy(endpoint)


def render_snapshot(snapshot) -> str:
    """Everything chapter 02 shows after a create or a change (an ``EndpointSnapshot``)."""
    endpoint_id = snapshot.endpoint["VpcEndpointId"]
    headline = (
        box(t("endpoints.created", endpoint_id=endpoint_id), "success") if snapshot.created else ""
    )
    parts = [headline, render_endpoint(snapshot.endpoint)]
    if snapshot.prefix_list:
        parts.append(render_prefix_list(snapshot.prefix_list))
    if snapshot.before:
        parts.append(render_before_after(snapshot.before, snapshot.after, snapshot.subnet_names))
    elif snapshot.after:
        parts.append(
            render_current(
                snapshot.after, snapshot.subnet_names, snapshot.prefix_list.id, endpoint_id
            )
        )
    elif snapshot.endpoint.get("VpcEndpointType") == "Gateway":
        parts.append(box(t("endpoints.no_route_tables_attached"), "warning"))
    return "".join(parts)


def render_path_costs(gb_per_month: float, zones: int = 1) -> str:
    """What each way from the private subnet to DynamoDB costs a month (list prices)."""
    paths = [
        ("nat_gateway", costs.nat_gateway_hourly(zones), "nat_gateway_gb"),
        ("interface_endpoint", costs.interface_endpoint_hourly(zones), "interface_endpoint_gb"),
        ("gateway_endpoint", costs.price("gateway_endpoint_hour").usd, None),
    ]
    rows = []
    for path, hourly, gb_key in paths:
        per_gb = costs.price(gb_key).usd if gb_key else 0.0
        rows.append(
            [
                t(f"endpoints.path_{path}"),
                f"${hourly:.3f}",
                f"${per_gb:.3f}",
                f"${costs.path_monthly_cost(path, gb_per_month, zones):.2f}",
            ]
        )
    sources = sorted({costs.VPC_PRICING, costs.PRIVATELINK_PRICING})
    columns = [
        t("endpoints.column_path"),
        t("endpoints.column_per_hour"),
        t("endpoints.column_per_gb"),
        t("endpoints.column_per_month", gb=f"{gb_per_month:g}"),
    ]
    cheapest = {len(rows) - 1}
    caption = t("endpoints.cost_caption", zones=zones, date=costs.PRICES_RECORDED)
    note = t("endpoints.cost_sources", sources=", ".join(sources), date=costs.PRICES_RECORDED)
    return (
        table(columns, rows, highlight=cheapest, caption=caption)
        + f"<p class='lab-cost-sources'><small>{escape(note)}</small></p>"
    )
