"""Chapter 01's form: every refusal (nothing created), the live preview, NAT costs, idempotency."""

from __future__ import annotations

from html import escape

import pytest
from test_forms_base import judge_then_click, shown_html

from helpers import chapter
from helpers.aws import networking
from helpers.core import costs, journal
from helpers.core.clients import client
from helpers.core.tags import ec2_filters, tag_specification
from helpers.views.forms.vpc import VpcForm, VpcFormView


def ec2():
    return client("ec2")


def inventory() -> dict[str, int]:
    """How many of each thing the wizard could make exist on the backend."""
    return {
        "vpcs": len(ec2().describe_vpcs()["Vpcs"]),
        "subnets": len(ec2().describe_subnets()["Subnets"]),
        "route_tables": len(ec2().describe_route_tables()["RouteTables"]),
        "internet_gateways": len(ec2().describe_internet_gateways()["InternetGateways"]),
        "nat_gateways": len(ec2().describe_nat_gateways()["NatGateways"]),
        "addresses": len(ec2().describe_addresses()["Addresses"]),
    }


def quiet_form() -> VpcForm:
    form = VpcForm()
    form.progress = lambda _text: None
    return form


REFUSALS = {
    # id: (values, field, code, words the message must contain)
    "cidr-not-a-network-address": (
        {"cidr": "10.0.0.1/16"},
        "cidr",
        "InvalidParameterValue",
        ["10.0.0.0/16"],
    ),
    "cidr-larger-than-16": ({"cidr": "10.0.0.0/8"}, "cidr", "InvalidVpc.Range", ["/16", "/28"]),
    "cidr-smaller-than-28": ({"cidr": "10.0.0.0/29"}, "cidr", "InvalidVpc.Range", ["/28"]),
    "cidr-malformed": ({"cidr": "10.0.300.0/16"}, "cidr", "InvalidParameterValue", ["not a valid"]),
    "cidr-without-size": ({"cidr": "10.0.0.0"}, "cidr", "InvalidParameterValue", ["size"]),
    "cidr-ipv6": ({"cidr": "2001:db8::/56"}, "cidr", "InvalidParameterValue", ["IPv6"]),
    "name-prefix-empty": (
        {"name_prefix": "   "},
        "name_prefix",
        "networking.name_prefix_empty",
        ["empty"],
    ),
    "name-prefix-reserved": (
        {"name_prefix": "aws:lab"},
        "name_prefix",
        "networking.name_prefix_reserved",
        ["aws:", "lab's own rule"],
    ),
    "name-prefix-too-long": (
        {"name_prefix": "x" * 129},
        "name_prefix",
        "networking.name_prefix_too_long",
        ["129", "128", "not AWS's"],
    ),
    "too-many-azs-for-the-wizard": (
        {"azs": 4, "public_subnets": 4, "private_subnets": 4},
        "azs",
        "networking.azs_range",
        ["1, 2 or 3"],
    ),
    "public-subnets-not-one-per-az": (
        {"azs": 2, "public_subnets": 1, "private_subnets": 2},
        "public_subnets",
        "networking.public_count",
        ["0, or 2"],
    ),
    "private-subnets-not-one-or-two-per-az": (
        {"azs": 2, "public_subnets": 2, "private_subnets": 3},
        "private_subnets",
        "networking.private_count",
        ["0, 2", "4"],
    ),
    "subnets-do-not-fit-the-cidr": (
        {"cidr": "10.0.0.0/25", "azs": 3, "public_subnets": 3, "private_subnets": 6},
        "cidr",
        "networking.subnets_dont_fit",
        ["/28", "4"],
    ),
    "nat-gateway-without-public-subnet": (
        {"public_subnets": 0, "nat_gateways": "one-az", "confirm_cost": True},
        "nat_gateways",
        "networking.nat_needs_public",
        ["public subnet"],
    ),
    "nat-gateway-cost-not-confirmed": (
        {"nat_gateways": "one-az"},
        "confirm_cost",
        "networking.nat_cost_unconfirmed",
        ["$0.050", "$36.50"],
    ),
    "subnet-count-not-a-number": (
        {"private_subnets": "two"},
        "private_subnets",
        "networking.not_a_number",
        ["two"],
    ),
    "nat-gateway-unknown-option": (
        {"nat_gateways": "two"},
        "nat_gateways",
        "networking.nat_unknown",
        ["two"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refused_in_the_form_and_nothing_is_created(fresh_lab, case):
    values, field, code, words = REFUSALS[case]
    before = inventory()
    result = quiet_form().submit(**values)
    assert not result.ok and not result.created
    errors = result.errors
    assert [(p.field, p.code) for p in errors] == [(field, code)]
    for word in words:
        assert word in errors[0].message
    assert inventory() == before
    assert journal.choices("01") == {}


# The refusals a learner can reach through the widgets (the others need a value no widget
# offers, e.g. 4 AZs or "two" subnets, and are refused by the same checks above).
REACHABLE_IN_THE_VIEW = [
    case
    for case in REFUSALS
    if case
    not in (
        "too-many-azs-for-the-wizard",
        "public-subnets-not-one-per-az",
        "private-subnets-not-one-or-two-per-az",
        "subnet-count-not-a-number",
        "nat-gateway-unknown-option",
    )
]


@pytest.mark.parametrize("case", REACHABLE_IN_THE_VIEW, ids=REACHABLE_IN_THE_VIEW)
def test_each_refusal_shows_before_the_click_in_the_clicks_words(fresh_lab, case):
    """Typed into the form, each refusal is in the judgement before any click, exactly as
    the click then answers it, the button waits, and the click creates nothing.

    AWS source: "VPC CIDR blocks" (Amazon VPC User Guide): "The allowed block size is
    between a /16 netmask (65,536 IP addresses) and /28 netmask (16 IP addresses)"; the
    other rules' sources are in the tests above: this test is about when they show."""
    values, field, code, _ = REFUSALS[case]
    before = inventory()
    view = VpcFormView(quiet_form())
    judged, result = judge_then_click(view, **values)
    assert (field, code) in [(p.field, p.code) for p in result.errors]
    assert "lab-error" in judged and view.button.disabled
    assert inventory() == before


WARNINGS = {
    # id: (values, field, code)
    "overlaps-the-default-vpc": ({"cidr": "172.31.128.0/20"}, "cidr", "networking.cidr_overlaps"),
    "dns-resolution-off": (
        {"dns_resolution": False},
        "dns_resolution",
        "networking.dns_resolution_off",
    ),
    "dns-hostnames-off": (
        {"dns_hostnames": False},
        "dns_hostnames",
        "networking.dns_hostnames_off",
    ),
    "nat-without-private-subnets": (
        {"private_subnets": 0, "nat_gateways": "one-az", "confirm_cost": True},
        "nat_gateways",
        "networking.nat_without_private",
    ),
}


@pytest.mark.parametrize("case", list(WARNINGS), ids=list(WARNINGS))
def test_each_warning_shows_before_the_click_in_the_clicks_words(fresh_lab, case):
    """A warning is for before the click: it is in the judgement, word for word what the
    click answers, and the click still creates the VPC (AWS accepts these values).

    AWS source: "Gateway endpoints for Amazon DynamoDB" (AWS PrivateLink guide): "If you're
    using the Amazon DNS servers, you must enable both DNS hostnames and DNS resolution for
    your VPC"; "VPC CIDR blocks" (Amazon VPC User Guide): overlapping blocks are accepted,
    but such VPCs cannot be peered."""
    values, field, code = WARNINGS[case]
    judged, result = judge_then_click(VpcFormView(quiet_form()), **values)
    assert [(p.field, p.code) for p in result.problems] == [(field, code)]
    assert "lab-warning" in judged and "lab-error" not in judged
    assert result.ok and lab_vpc_count() == 1


def test_other_values_for_the_existing_vpc_are_said_before_the_click(fresh_lab):
    """The lab keeps one VPC: other values are not applied, and the form says so before
    the click, not after it."""
    quiet_form().submit()
    judged, result = judge_then_click(VpcFormView(quiet_form()), cidr="10.8.0.0/16")
    assert result.codes == ["networking.reused_other_values"]
    assert networking.find_lab_network().vpc_id in judged
    assert lab_vpc_count() == 1


def test_more_azs_than_the_region_has_is_refused_before_the_click(fresh_lab, monkeypatch):
    monkeypatch.setenv("LAB_REGION", "us-west-1")  # two Availability Zones
    judged, result = judge_then_click(VpcFormView(quiet_form()), azs=3)
    assert [(p.field, p.code) for p in result.errors] == [("azs", "networking.too_many_azs")]
    assert "us-west-1a, us-west-1b" in judged
    assert lab_vpc_count() == 0


def test_more_azs_than_the_region_has_is_refused(fresh_lab, monkeypatch):
    monkeypatch.setenv("LAB_REGION", "us-west-1")  # two Availability Zones
    before = inventory()
    result = quiet_form().submit(azs=3, public_subnets=3, private_subnets=3)
    assert [(p.field, p.code) for p in result.errors] == [("azs", "networking.too_many_azs")]
    assert "us-west-1a, us-west-1b" in result.errors[0].message
    assert inventory() == before


def test_overlap_with_a_learners_look_alike_vpc_warns_and_suggests_a_free_block(fresh_lab):
    learner = ec2().create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=tag_specification("vpc", {"Name": "vpc-private-vpc"}),
    )["Vpc"]["VpcId"]
    result = quiet_form().submit()
    assert result.ok and result.codes == ["networking.cidr_overlaps"]
    assert result.warnings[0].field == "cidr" and "10.1.0.0/16" in result.warnings[0].message
    assert result.resource.vpc_id != learner and result.resource.cidr == "10.0.0.0/16"


def test_overlap_with_the_default_vpc_is_a_warning(fresh_lab):
    result = quiet_form().submit(cidr="172.31.128.0/20")
    assert result.ok and result.codes == ["networking.cidr_overlaps"]
    assert "default VPC" in result.warnings[0].message
    assert "10.0.0.0/20" in result.warnings[0].message


def test_several_mistakes_are_all_reported_at_once(fresh_lab):
    result = quiet_form().submit(name_prefix="", cidr="10.0.0.1/16")
    assert {p.field for p in result.errors} == {"name_prefix", "cidr"}


def test_nat_gateway_without_private_subnets_is_a_warning_not_a_refusal(fresh_lab):
    result = quiet_form().submit(private_subnets=0, nat_gateways="one-az", confirm_cost=True)
    assert result.ok and result.codes == ["networking.nat_without_private"]
    assert result.warnings[0].severity == "warning"
    assert len(networking.find_lab_network().nat_gateway_ids) == 1


def test_dns_resolution_turned_off_is_a_warning_saying_why_the_lab_would_fail(fresh_lab):
    result = quiet_form().submit(dns_resolution=False)
    assert result.ok and result.codes == ["networking.dns_resolution_off"]
    assert result.warnings[0].field == "dns_resolution"
    assert "dynamodb.us-east-1.amazonaws.com" in result.warnings[0].message
    vpc_id = result.resource.vpc_id
    assert (
        ec2().describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")[
            "EnableDnsSupport"
        ]["Value"]
        is False
    )


def test_dns_hostnames_turned_off_is_a_warning_citing_aws_asking_for_both(fresh_lab):
    result = quiet_form().submit(dns_hostnames=False)
    assert result.ok and result.codes == ["networking.dns_hostnames_off"]
    assert result.warnings[0].field == "dns_hostnames"
    assert "both DNS hostnames and DNS resolution" in result.warnings[0].message
    vpc_id = result.resource.vpc_id
    assert (
        ec2().describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
            "EnableDnsHostnames"
        ]["Value"]
        is False
    )


def test_confirmed_nat_gateway_is_created_and_routed(fresh_lab):
    result = quiet_form().submit(nat_gateways="one-az", confirm_cost=True)
    network = result.resource
    assert result.ok and len(network.nat_gateway_ids) == 1
    private = ec2().describe_route_tables(RouteTableIds=network.private_route_table_ids)[
        "RouteTables"
    ][0]
    assert any(r.get("NatGatewayId") == network.nat_gateway_ids[0] for r in private["Routes"])
    assert "vpc-private-nat-public1-us-east-1a" in chapter("01").show().html  # on the map


# --- the live preview -----------------------------------------------------------------------------
def test_preview_lists_names_and_cidrs_before_anything_exists(fresh_lab):
    before = inventory()
    html = quiet_form().preview(quiet_form().defaults())
    for text in (
        "vpc-private-vpc",
        "10.0.0.0/16",
        "vpc-private-subnet-public1-us-east-1a",
        "10.0.0.0/20",
        "vpc-private-subnet-private1-us-east-1a",
        "10.0.128.0/20",
        "vpc-private-rtb-public",
        "vpc-private-rtb-private1-us-east-1a",
        "vpc-private-igw",
    ):
        assert text in html
    assert "NAT" not in html
    assert inventory() == before


def test_preview_follows_the_learners_choices(fresh_lab):
    form = quiet_form()
    html = form.preview(
        {
            **form.defaults(),
            "name_prefix": "demo",
            "cidr": "10.5.0.0/16",
            "azs": 2,
            "public_subnets": 2,
            "private_subnets": 4,
        }
    )
    for text in (
        "demo-subnet-public2-us-east-1b",
        "10.5.16.0/20",
        "demo-subnet-private4-us-east-1b",
        "10.5.176.0/20",
        "demo-rtb-private3-us-east-1a",
    ):
        assert text in html


def test_the_nat_gateway_cost_shows_before_creating_once_confirmed_or_not(fresh_lab):
    """The cost is said once: in the refusal while unconfirmed, in the preview once confirmed."""
    view = VpcFormView(quiet_form())
    view.set(azs=2, public_subnets=2, private_subnets=2, nat_gateways="per-az")
    hourly = costs.nat_gateway_hourly(2)
    price = f"${hourly:.3f}"

    def prices() -> tuple[int, int]:
        def count(html: str) -> int:
            return html.replace("<span>$</span>", "$").count(price)  # "$" is kept out of MathJax

        return count(view.judgement.value), count(view.preview.value)

    assert prices() == (1, 0) and view.button.disabled
    assert f"${costs.monthly(hourly):.2f}" in view.judgement.value.replace("<span>$</span>", "$")
    html = view.preview.value
    assert "vpc-private-nat-public2-us-east-1b" in html and "vpc-private-eip-us-east-1b" in html
    view.set(confirm_cost=True)
    assert prices() == (0, 1) and not view.button.disabled
    assert inventory()["nat_gateways"] == 0


def test_the_view_shows_the_clicks_refusal_instead_of_a_plan(fresh_lab):
    """Before any click, the view runs the click's own checks: the refusal shows in the
    click's words, no plan is previewed, and the button waits."""
    view = VpcFormView(quiet_form())
    view.set(cidr="10.0.0.0/8")
    refusal = quiet_form().submit(cidr="10.0.0.0/8").errors[0].message
    assert "lab-error" in view.judgement.value and escape(refusal) in view.judgement.value
    assert view.preview.value == "" and view.button.disabled


def test_preview_says_an_existing_lab_vpc_will_be_reused(fresh_lab):
    network = quiet_form().submit().resource
    html = quiet_form().preview(quiet_form().defaults())
    assert network.vpc_id in html and "instead of making a second one" in html


# --- idempotency ----------------------------------------------------------------------------------
def lab_vpc_count() -> int:
    return len(ec2().describe_vpcs(Filters=ec2_filters("vpc", "01"))["Vpcs"])


def test_submitting_twice_makes_one_vpc_and_shows_it_again(fresh_lab):
    first = quiet_form().submit()
    after_first = inventory()
    second = quiet_form().submit()
    assert first.ok and first.created
    assert second.ok and not second.created
    assert second.resource == first.resource
    assert inventory() == after_first and lab_vpc_count() == 1
    assert "already existed" in second.html and "lab-success" in second.html


def test_submitting_other_values_later_keeps_the_lab_vpc_and_says_so(fresh_lab):
    first = quiet_form().submit()
    after_first = inventory()
    second = quiet_form().submit(name_prefix="other", cidr="10.8.0.0/16")
    assert second.ok and second.resource.vpc_id == first.resource.vpc_id
    assert second.codes == ["networking.reused_other_values"]
    assert inventory() == after_first
    assert journal.choices("01")["name_prefix"] == "vpc-private"  # what really exists


def test_journal_remembers_the_choices_for_catch_up(fresh_lab):
    quiet_form().submit(
        name_prefix="mine", cidr="10.3.0.0/16", azs=2, public_subnets=2, private_subnets=2
    )
    remembered = journal.choices("01")
    assert (remembered["name_prefix"], remembered["cidr"], remembered["azs"]) == (
        "mine",
        "10.3.0.0/16",
        2,
    )


def test_the_result_says_what_was_created_and_the_chapter_shows_the_map_once(fresh_lab):
    """The click's result is one success box; the map and the three route tables are the
    chapter's show(), so the notebook draws them once."""
    result = quiet_form().submit()
    assert result.html.count("lab-success") == 1 and "Created 6 resources" in result.html
    assert "<svg" not in result.html and "<table" not in result.html
    shown = chapter("01").show().html
    assert shown.count("<svg") == 1 and shown.count("lab-route-table") == 3
    assert "vpc-private-rtb-private1-us-east-1a" in shown


# --- the widgets ----------------------------------------------------------------------------------
def test_clicking_create_twice_through_the_view_makes_one_vpc(fresh_lab):
    view = VpcFormView()
    first = view.click()
    second = view.click()
    assert first.ok and second.ok and not second.created
    assert lab_vpc_count() == 1
    assert view.submit_unless_done() is second and lab_vpc_count() == 1


def test_view_sends_progress_to_its_output_then_the_result_replaces_it(fresh_lab):
    view = VpcFormView()
    progress = []
    shown = view.model.progress
    view.model.progress = lambda text: (progress.append(text), shown(text))
    view.click()
    assert any("vpc-private-subnet-private1-us-east-1a" in text for text in progress)
    assert "Created 6 resources" in shown_html(view)


def test_view_refusal_appears_under_the_form_and_creates_nothing(fresh_lab):
    before = inventory()
    view = VpcFormView()
    view.set(cidr="10.0.0.0/8")
    result = view.click()
    assert result.codes == ["InvalidVpc.Range"]
    html = view.output.outputs[-1]["data"]["text/html"]
    assert "IPv4 CIDR block" in html and "Nothing was created" in html
    assert inventory() == before


def test_changing_the_number_of_azs_keeps_subnets_per_az(fresh_lab):
    view = VpcFormView()
    view.set(private_subnets=2)
    view.set(azs=3)
    assert (view.values()["public_subnets"], view.values()["private_subnets"]) == (3, 6)
    assert [v for _, v in view.controls["private_subnets"].options] == [0, 3, 6]
    assert "vpc-private-subnet-private6-us-east-1c" in view.preview.value


def test_cost_confirmation_shows_only_when_a_nat_gateway_is_chosen(fresh_lab):
    view = VpcFormView()
    confirmation = view.controls["confirm_cost"]
    assert confirmation.layout.display == "none"
    view.set(nat_gateways="one-az")
    assert confirmation.layout.display is None
    assert "$" in view.judgement.value
    view.set(nat_gateways="none")
    assert confirmation.layout.display == "none"
