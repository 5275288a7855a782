"""Pictures and tables of a VPC: the console's resource map (SVG) and route tables (HTML).

The drawing functions take AWS's own shapes (``describe_*`` answers) so that they can be
tested without a backend; ``vpc_overview_html`` fetches them for one VPC.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from helpers.aws.networking import (
    associated_subnet_ids,
    describe_route_tables,
    describe_subnets,
    is_lab_vpc,
    is_main,
    name_of,
    region_vpcs,
    route_destination,
    route_table_for_subnet,
    route_target,
    subnet_names,
    vpc_by_id,
)
from helpers.core.clients import client, friendly_errors
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.views.html import table
from helpers.views.html import text as escape

BOX_WIDTH = 270
BOX_HEIGHT = 44
COLUMN_GAP = 50
ROW_STEP = 56
TOP = 46
MARGIN = 10
NAME_CHARACTERS = 40  # longer names are shortened in the picture (the full name is a tooltip)

COLOURS = {  # (fill, stroke) per kind of box
    "vpc": ("#f3eefc", "#5b3a9e"),
    "public-subnet": ("#e9f6ec", "#1e6b34"),
    "private-subnet": ("#e8f1fb", "#1d4f91"),
    "route-table": ("#fff8e1", "#8a5300"),
    "main-route-table": ("#f5f5f5", "#555555"),
    "connection": ("#fdecea", "#8c1d18"),
}


@dataclass(frozen=True)
class Connection:
    """A route target drawn in the last column: internet gateway, NAT gateway, endpoint…"""

    target_id: str
    kind: str  # learner-facing, e.g. "Internet gateway"
    name: str = ""


# --- route tables ---------------------------------------------------------------------------
def route_rows(route_table: dict) -> list[list[str]]:
    """``[destination, target, state]`` for each route, in AWS's order."""
    return [
        [route_destination(route), route_target(route), route.get("State", "")]
        for route in route_table.get("Routes", [])
    ]


def route_table_title(route_table: dict) -> str:
    """``Name (rtb-…)``; the main route table, which the wizard leaves unnamed, says so."""
    name = name_of(route_table) or (
        t("networking.map_main") if is_main(route_table) else t("networking.unnamed")
    )
    main = t("networking.main_marker") if is_main(route_table) and name_of(route_table) else ""
    return f"{name} ({route_table['RouteTableId']}){main}"


def route_table_html(
    route_table: dict,
    subnet_names: dict[str, str],
    highlight: Callable[[dict], bool] | None = None,
    struck: Callable[[dict], bool] | None = None,
) -> str:
    """One route table: its name, associated subnets, and its routes (rows where
    ``highlight(route)`` is true are marked, e.g. a route a chapter just added; rows where
    ``struck(route)`` is true are struck through, e.g. a route a chapter just removed)."""
    routes = route_table.get("Routes", [])
    marked = {index for index, route in enumerate(routes) if highlight and highlight(route)}
    gone = {index for index, route in enumerate(routes) if struck and struck(route)}
    subnets = [
        subnet_names.get(subnet_id, subnet_id) for subnet_id in associated_subnet_ids(route_table)
    ]
    columns = [
        t("networking.column_destination"),
        t("networking.column_target"),
        t("networking.column_status"),
    ]
    associations = t(
        "networking.associated_subnets",
        subnets=", ".join(subnets) or t("networking.no_explicit_subnets"),
    )
    return (
        f"<p style='margin:10px 0 2px'><strong>{escape(route_table_title(route_table))}"
        f"</strong><br>{escape(associations)}</p>"
        f"{table(columns, route_rows(route_table), highlight=marked, struck=gone)}"
    )


def route_tables_html(
    route_tables: list[dict],
    subnet_names: dict[str, str],
    highlight: Callable[[dict], bool] | None = None,
) -> str:
    return "".join(
        f"<div class='lab-route-table' style='margin:8px 0'>"
        f"{route_table_html(rt, subnet_names, highlight)}</div>"
        for rt in route_tables
    )


# --- the resource map -------------------------------------------------------------------------
def _short(text: str) -> str:
    # Counted and cut as composed letters: a Vietnamese name typed with separate accent marks
    # (NFD, as some keyboards send it) would otherwise be cut early, or between a letter and
    # its accents.
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= NAME_CHARACTERS else text[: NAME_CHARACTERS - 1] + "…"


def _box(
    x: int, y: int, kind: str, title: str, detail: str, element_id: str, height: int = BOX_HEIGHT
) -> str:
    fill, stroke = COLOURS[kind]
    return (
        f"<g class='lab-map-{kind}' data-id='{escape(element_id)}'>"
        f"<title>{escape(title)} — {escape(detail)}</title>"
        f"<rect x='{x}' y='{y}' width='{BOX_WIDTH}' height='{height}' rx='6' "
        f"fill='{fill}' stroke='{stroke}' stroke-width='1.5'/>"
        f"<text x='{x + 8}' y='{y + 18}' font-size='12' font-weight='bold' "
        f"fill='{stroke}'>{escape(_short(title))}</text>"
        f"<text x='{x + 8}' y='{y + 34}' font-size='11' fill='#333'>"
        f"{escape(_short(detail))}</text></g>"
    )


def _edge(start: tuple[int, int], end: tuple[int, int], colour: str = "#888") -> str:
    (x1, y1), (x2, y2) = start, end
    middle = (x1 + x2) // 2
    return (
        f"<path class='lab-map-edge' d='M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}' "
        f"fill='none' stroke='{colour}' stroke-width='1.3'/>"
    )


def _column_x(column: int) -> int:
    return MARGIN + column * (BOX_WIDTH + COLUMN_GAP)


def _row_y(row: int) -> int:
    return TOP + row * ROW_STEP


def resource_map_svg(
    vpc: dict, subnets: list[dict], route_tables: list[dict], connections: list[Connection]
) -> str:
    """The VPC's resource map as the console draws it: VPC → subnets → route tables →
    network connections, with a line for every association and every non-local route."""
    public_subnets = {s["SubnetId"] for s in subnets if _is_public(s, route_tables)}
    tables_in_order = sorted(route_tables, key=lambda rt: not is_main(rt))
    rows = max(len(subnets), len(tables_in_order), len(connections), 1)
    height = _row_y(rows) + MARGIN
    width = _column_x(4) - COLUMN_GAP + MARGIN
    parts = []
    headings = (
        "map_column_vpc",
        "map_column_subnets",
        "map_column_route_tables",
        "map_column_connections",
    )
    for column, key in enumerate(headings):
        parts.append(
            f"<text x='{_column_x(column)}' y='24' font-size='13' font-weight='bold' "
            f"fill='#222'>{escape(t('networking.' + key))}</text>"
        )

    vpc_height = _row_y(rows) - TOP - (ROW_STEP - BOX_HEIGHT)
    parts.append(
        _box(
            _column_x(0),
            TOP,
            "vpc",
            name_of(vpc) or vpc["VpcId"],
            f"{vpc['VpcId']} · {vpc['CidrBlock']}",
            vpc["VpcId"],
            vpc_height,
        )
    )
    subnet_anchor, table_anchor, connection_anchor = {}, {}, {}
    for row, subnet in enumerate(subnets):
        x, y = _column_x(1), _row_y(row)
        kind = "public-subnet" if subnet["SubnetId"] in public_subnets else "private-subnet"
        parts.append(
            _box(
                x,
                y,
                kind,
                name_of(subnet) or subnet["SubnetId"],
                f"{subnet['CidrBlock']} · {subnet['AvailabilityZone']}",
                subnet["SubnetId"],
            )
        )
        subnet_anchor[subnet["SubnetId"]] = (x, y + BOX_HEIGHT // 2)
    for row, route_table in enumerate(tables_in_order):
        x, y = _column_x(2), _row_y(row)
        main = is_main(route_table)
        title = name_of(route_table) or (
            t("networking.map_main") if main else route_table["RouteTableId"]
        )
        detail = route_table["RouteTableId"] + (
            f" · {t('networking.map_main')}" if main and name_of(route_table) else ""
        )
        parts.append(
            _box(
                x,
                y,
                "main-route-table" if main else "route-table",
                title,
                detail,
                route_table["RouteTableId"],
            )
        )
        table_anchor[route_table["RouteTableId"]] = (x, y + BOX_HEIGHT // 2)
    for row, connection in enumerate(connections):
        x, y = _column_x(3), _row_y(row)
        parts.append(
            _box(
                x,
                y,
                "connection",
                connection.name or connection.target_id,
                f"{connection.kind} · {connection.target_id}",
                connection.target_id,
            )
        )
        connection_anchor[connection.target_id] = (x, y + BOX_HEIGHT // 2)

    edges = []
    for subnet_id, (x, y) in subnet_anchor.items():
        edges.append(_edge((_column_x(0) + BOX_WIDTH, y), (x, y), "#b9a6e0"))
        route_table = route_table_for_subnet(subnet_id, route_tables)
        if route_table:
            tx, ty = table_anchor[route_table["RouteTableId"]]
            edges.append(_edge((x + BOX_WIDTH, y), (tx, ty)))
    for route_table in tables_in_order:
        x, y = table_anchor[route_table["RouteTableId"]]
        for target in {route_target(r) for r in route_table.get("Routes", [])}:
            if target in connection_anchor:
                edges.append(_edge((x + BOX_WIDTH, y), connection_anchor[target], "#c0392b"))
    title = t("networking.map_title", vpc=name_of(vpc) or vpc["VpcId"])
    return (
        f"<svg class='lab-resource-map' xmlns='http://www.w3.org/2000/svg' role='img' "
        f"viewBox='0 0 {width} {height}' width='100%' style='max-width:{width}px' "
        f"font-family='sans-serif'><title>{escape(title)}</title>"
        f"{''.join(edges)}{''.join(parts)}</svg>"
    )


def _is_public(subnet: dict, route_tables: list[dict]) -> bool:
    """AWS's definition: a subnet whose route table sends traffic to an internet gateway."""
    route_table = route_table_for_subnet(subnet["SubnetId"], route_tables)
    return bool(route_table) and any(
        route_target(r).startswith("igw-") for r in route_table.get("Routes", [])
    )


# --- fetched for one VPC -----------------------------------------------------------------------
def connections_of(vpc_id: str, route_tables: list[dict]) -> list[Connection]:
    """The map's last column: the internet gateways attached to ``vpc_id``, and the NAT
    gateways and VPC endpoints its ``route_tables`` send traffic to. A NAT gateway or an
    endpoint that no route uses carries none of the VPC's traffic and is not drawn, so each
    kind is asked for only when a route leads there (one call less each, every time a map is
    drawn before chapter 02)."""
    ec2 = client("ec2")
    targets = {route_target(r) for table in route_tables for r in table.get("Routes", [])}
    found = [
        Connection(g["InternetGatewayId"], t("networking.kind_internet_gateway"), name_of(g))
        for g in ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]
    ]
    if any(target.startswith("nat-") for target in targets):
        found += [
            Connection(g["NatGatewayId"], t("networking.kind_nat_gateway"), name_of(g))
            for g in ec2.describe_nat_gateways(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "state", "Values": ["pending", "available"]},
                ]
            )["NatGateways"]
            if g["NatGatewayId"] in targets
        ]
    if any(target.startswith("vpce-") for target in targets):
        found += [
            Connection(
                e["VpcEndpointId"],
                t("networking.kind_endpoint", type=e.get("VpcEndpointType", "")),
                name_of(e) or e.get("ServiceName", ""),
            )
            for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
                "VpcEndpoints"
            ]
            if e["VpcEndpointId"] in targets
            and e.get("State", "").lower() not in ("deleted", "deleting")
        ]
    return found


def vpc_overview_html(vpc_id: str) -> str:
    """The resource map of ``vpc_id`` followed by every route table it has."""
    with friendly_errors():
        vpc = vpc_by_id(vpc_id)
        subnets = describe_subnets(vpc_id)
        route_tables = describe_route_tables(vpc_id)
        connections = connections_of(vpc_id, route_tables)
        picture = resource_map_svg(vpc, subnets, route_tables, connections)
        names = subnet_names(vpc_id)
    return f"<div class='lab-vpc-overview'>{picture}{route_tables_html(route_tables, names)}</div>"


def vpcs_table_html() -> str:
    """Every VPC of the lab's region: id, Name, CIDR, whether it is the default or the lab's."""
    with friendly_errors():
        vpcs = region_vpcs()
    yes, no = t("networking.yes"), t("networking.no")
    rows = [
        [
            vpc["VpcId"],
            name_of(vpc) or "—",
            vpc["CidrBlock"],
            yes if vpc.get("IsDefault") else no,
            yes if is_lab_vpc(vpc) else no,
        ]
        for vpc in sorted(vpcs, key=lambda vpc: vpc["VpcId"])
    ]
    columns = [
        t("networking.column_vpc_id"),
        t("networking.column_name"),
        t("networking.column_cidr"),
        t("networking.column_default"),
        t("networking.column_lab"),
    ]
    return table(columns, rows, caption=t("networking.vpcs_caption", region=current().region))
