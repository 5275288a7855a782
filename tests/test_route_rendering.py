"""Chapter 02's rendering: the new pl-… → vpce-… row is highlighted; costs cite sources."""

from __future__ import annotations

import re

import pytest

from helpers.aws.endpoints import EndpointSnapshot, PrefixList
from helpers.core import costs
from helpers.views.routes import (
    render_before_after,
    render_endpoint,
    render_path_costs,
    render_route_changes,
    render_snapshot,
    route_table_label,
)

pytestmark = pytest.mark.nobackend

PL = PrefixList(
    "pl-02cd2c6b", "com.amazonaws.us-east-1.dynamodb", ["3.218.182.0/24", "52.94.0.0/22"]
)
VPCE = "vpce-0a1b2c3d4e5f60718"
LOCAL = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}
ENDPOINT_ROUTE = {"DestinationPrefixListId": PL.id, "GatewayId": VPCE, "State": "active"}
NAMES = {"subnet-0aa": "vpc-private-subnet-private1-us-east-1a"}


def private_table(*routes) -> dict:
    return {
        "RouteTableId": "rtb-0private",
        "VpcId": "vpc-0lab",
        "Tags": [{"Key": "Name", "Value": "vpc-private-rtb-private1-us-east-1a"}],
        "Associations": [
            {"SubnetId": "subnet-0aa", "Main": False, "AssociationState": {"State": "associated"}}
        ],
        "Routes": list(routes),
    }


def highlighted_rows(html: str) -> list[str]:
    return re.findall(r"<tr class='lab-new'[^>]*>(.*?)</tr>", html)


def after_part(html: str) -> str:
    return html.split("class='lab-after'", 1)[1]


def test_new_endpoint_route_is_the_only_highlighted_row_after():
    html = render_before_after(
        [private_table(LOCAL)], [private_table(LOCAL, ENDPOINT_ROUTE)], NAMES
    )
    rows = highlighted_rows(html)
    assert len(rows) == 1
    assert PL.id in rows[0] and VPCE in rows[0]
    assert rows == highlighted_rows(after_part(html))  # BEFORE has nothing highlighted
    assert "BEFORE" in html and "AFTER" in html
    assert "vpc-private-subnet-private1-us-east-1a" in html


def struck_rows(html: str) -> list[str]:
    return re.findall(r"<tr class='lab-removed'[^>]*>(.*?)</tr>", html)


def test_removed_route_is_struck_through_after_under_a_heading_that_says_so():
    html = render_before_after(
        [private_table(LOCAL, ENDPOINT_ROUTE)], [private_table(LOCAL)], NAMES
    )
    assert highlighted_rows(html) == []
    rows = struck_rows(after_part(html))
    assert len(rows) == 1 and PL.id in rows[0] and VPCE in rows[0]
    assert "line-through" in after_part(html)
    assert "AFTER (removed route struck through)" in html
    assert "new route highlighted" not in html


def test_a_route_replaced_is_both_highlighted_and_struck_through():
    other = {**ENDPOINT_ROUTE, "GatewayId": "vpce-0ffffffffffffffff"}
    html = render_before_after(
        [private_table(LOCAL, ENDPOINT_ROUTE)], [private_table(LOCAL, other)], NAMES
    )
    assert len(highlighted_rows(after_part(html))) == 1 and len(struck_rows(html)) == 1
    assert "AFTER (new route highlighted, removed route struck through)" in html


def test_unchanged_table_says_so():
    table = private_table(LOCAL, ENDPOINT_ROUTE)
    html = render_before_after([table], [table], NAMES)
    assert highlighted_rows(html) == [] and struck_rows(html) == []
    assert "AFTER (no change in this route table)" in html


def test_route_changes_show_only_the_tables_that_changed():
    public = {**private_table(LOCAL), "RouteTableId": "rtb-0public", "Tags": [], "Associations": []}
    attached = {**public, "Routes": [LOCAL, ENDPOINT_ROUTE]}
    endpoint = {"VpcEndpointId": VPCE, "VpcEndpointType": "Gateway", "PolicyDocument": "{}"}
    same = private_table(LOCAL, ENDPOINT_ROUTE)
    html = render_route_changes(
        EndpointSnapshot(endpoint, PL, [same, attached], before=[same, public], subnet_names=NAMES)
    )
    assert "rtb-0public" in html and "rtb-0private" not in html
    assert html.count("lab-route-change") == 1 and "lab-policy" not in html
    unchanged = render_route_changes(
        EndpointSnapshot(endpoint, PL, [same], before=[same], subnet_names=NAMES)
    )
    assert "Nothing changed" in unchanged and "lab-route-change" not in unchanged


def test_route_table_label_names_table_and_subnets():
    label = route_table_label(private_table(LOCAL), NAMES)
    assert "rtb-0private" in label and "vpc-private-rtb-private1-us-east-1a" in label
    assert "vpc-private-subnet-private1-us-east-1a" in label


def test_snapshot_without_before_highlights_the_endpoints_route():
    endpoint = {
        "VpcEndpointId": VPCE,
        "VpcEndpointType": "Gateway",
        "State": "available",
        "ServiceName": PL.name,
        "VpcId": "vpc-0lab",
        "RouteTableIds": ["rtb-0private"],
        "PolicyDocument": '{"Statement": [{"Effect": "Allow", "Action": "*"}]}',
        "Tags": [{"Key": "Name", "Value": "vpc-endpoint-lambda-dynamodb"}],
    }
    html = render_snapshot(
        EndpointSnapshot(endpoint, PL, [private_table(LOCAL, ENDPOINT_ROUTE)], subnet_names=NAMES)
    )
    rows = highlighted_rows(html)
    assert len(rows) == 1 and VPCE in rows[0]
    for shown in (
        VPCE,
        "Gateway",
        "available",
        PL.name,
        "vpc-0lab",
        "52.94.0.0/22",
        "&quot;Effect&quot;: &quot;Allow&quot;",
    ):
        assert shown in html


def test_endpoint_details_of_an_interface_endpoint_list_subnets():
    html = render_endpoint(
        {
            "VpcEndpointId": VPCE,
            "VpcEndpointType": "Interface",
            "State": "available",
            "ServiceName": "com.amazonaws.us-east-1.sqs",
            "VpcId": "vpc-0lab",
            "SubnetIds": ["subnet-0aa"],
            "PolicyDocument": "{}",
        }
    )
    assert "subnet-0aa" in html and "Interface" in html


def test_cost_table_shows_prices_date_and_sources():
    html = render_path_costs(10)
    assert costs.PRICES_RECORDED in html
    assert costs.VPC_PRICING in html and costs.PRIVATELINK_PRICING in html
    nat = costs.path_monthly_cost("nat_gateway", 10)
    assert f"${nat:.2f}" in html.replace("<span>$</span>", "$")
    gateway_row = highlighted_rows(html)
    assert len(gateway_row) == 1 and "$0.00" in gateway_row[0].replace("<span>$</span>", "$")
