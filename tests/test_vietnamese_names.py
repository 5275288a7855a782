"""Names with Vietnamese letters, end to end (issue 11): a Name such as ``điểm-cuối-dynamodb``
on the VPC (chapter 01's name prefix) and on the endpoint (chapter 02's Name tag) is stored by
AWS exactly as typed, and shows exactly so in the forms' preview, the route tables, the
pictures, the inventory, clean-up's report and the journal a new process reads back. Where
AWS refuses such letters (a Lambda function's or an IAM role's name), the form refuses them
first, with AWS's code and AWS's rule in the learner's words, and creates nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from html import escape, unescape

import pytest

from helpers import chapter
from helpers.aws import cleanup, endpoints, functions, inventory, networking
from helpers.aws.reachability import Hop
from helpers.core import backend, journal
from helpers.core.clients import client
from helpers.core.messages import t
from helpers.core.tags import from_aws
from helpers.views.cleanup import report_html
from helpers.views.forms.endpoint import EndpointForm
from helpers.views.forms.function import ExecutionRoleForm, FunctionForm
from helpers.views.forms.vpc import VpcForm
from helpers.views.inventory import render as render_inventory
from helpers.views.network import NAME_CHARACTERS, Connection, resource_map_svg
from helpers.views.path import RESOURCE_CHARACTERS, diagram

NAME = "điểm-cuối-dynamodb"
# A second tag on the endpoint, key and value both Vietnamese, with a space in each.
DESCRIPTION = ("Mô tả", "Điểm cuối riêng tới bảng ghi chú")


def quiet(form):
    form.progress = lambda _text: None
    return form


def mojibake(text: str) -> str:
    """``text``'s UTF-8 bytes read as Windows-1252: what a wrong decoding shows ("Ä‘iá»ƒm")."""
    return text.encode("utf-8").decode("cp1252", errors="replace")


def assert_shown(html: str, *names: str) -> None:
    """Each name is in ``html`` exactly (escaped as HTML text), and nothing was decoded wrongly."""
    for name in names:
        assert escape(name) in html, name
        assert mojibake(name) not in html
    assert "Ä" not in html and "á»" not in html and "\ufffd" not in html


def svg_texts(svg: str) -> list[str]:
    """The visible text of an SVG picture: each <text> (its tspans joined by a space)."""
    return [
        unescape(" ".join(re.findall(r"<tspan[^>]*>(.*?)</tspan>", body)) or body)
        for body in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    ]


def name_tag(resource: dict) -> str | None:
    return from_aws(resource.get("Tags")).get("Name")


def build_network_and_endpoint() -> tuple[networking.LabNetwork, dict]:
    """Chapter 01's and 02's forms, submitted as a learner would, with Vietnamese names."""
    vpc_result = quiet(VpcForm()).submit(name_prefix=NAME)
    assert vpc_result.ok, vpc_result.problems
    endpoint_result = quiet(EndpointForm()).submit(name=NAME, tags=[list(DESCRIPTION)])
    assert endpoint_result.ok, endpoint_result.problems
    return vpc_result.resource, endpoint_result.resource


# --- chapter 01: the VPC ------------------------------------------------------------------------
def test_the_vpc_wizard_previews_stores_and_draws_the_vietnamese_prefix(fresh_lab):
    """The prefix reaches AWS unchanged and every picture and table shows it.

    AWS source: "Tag" (Amazon EC2 API Reference): "Tag values are case-sensitive and accept a
    maximum of 256 Unicode characters"; "Tag restrictions": allowed characters are "letters,
    numbers, and spaces representable in UTF-8" and + - = . _ : / @."""
    form = quiet(VpcForm())
    preview = form.preview({**form.defaults(), "name_prefix": NAME})
    assert_shown(
        preview,
        f"{NAME}-vpc",
        f"{NAME}-subnet-private1-us-east-1a",
        f"{NAME}-rtb-private1-us-east-1a",
        f"{NAME}-igw",
    )

    network = form.submit(name_prefix=NAME).resource
    ec2 = client("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"]
    assert name_tag(vpc) == f"{NAME}-vpc"
    assert {
        name_tag(s) for s in ec2.describe_subnets(SubnetIds=network.private_subnet_ids)["Subnets"]
    } == {f"{NAME}-subnet-private1-us-east-1a"}
    assert {
        name_tag(rt)
        for rt in ec2.describe_route_tables(RouteTableIds=network.private_route_table_ids)[
            "RouteTables"
        ]
    } == {f"{NAME}-rtb-private1-us-east-1a"}

    shown = chapter("01").show().html  # the resource map, then every route table
    assert_shown(
        shown,
        f"{NAME}-vpc",
        f"{NAME}-subnet-public1-us-east-1a",
        f"{NAME}-rtb-private1-us-east-1a",
        f"{NAME}-igw",
    )
    texts = svg_texts(shown)
    assert f"{NAME}-vpc" in texts and f"{NAME}-igw" in texts  # drawn whole, not only as tooltips
    route_tables = shown.split("lab-route-table", 1)[1]
    assert escape(f"{NAME}-rtb-private1-us-east-1a") in route_tables
    assert journal.choices("01")["name_prefix"] == NAME


# --- chapter 02: the endpoint -------------------------------------------------------------------
def test_the_endpoints_vietnamese_name_tag_is_stored_and_shown_everywhere(fresh_lab):
    """The endpoint's Name tag and a tag with a Vietnamese key and value reach AWS unchanged
    and show in chapter 02's picture, in the VPC's map and in the path of chapter 07.

    AWS source: "Tag" (Amazon EC2 API Reference): tag keys accept "a maximum of 127 Unicode
    characters", values "a maximum of 256 Unicode characters"; "Tag restrictions": "letters,
    numbers, and spaces representable in UTF-8"."""
    network, endpoint = build_network_and_endpoint()
    (stored,) = client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])[
        "VpcEndpoints"
    ]
    stored_tags = from_aws(stored["Tags"])
    assert stored_tags["Name"] == NAME and stored_tags[DESCRIPTION[0]] == DESCRIPTION[1]

    assert_shown(chapter("02").show().html, NAME)  # (it lists no other tags)
    vpc_map = chapter("01").show().html
    assert_shown(vpc_map, NAME)
    assert NAME in svg_texts(vpc_map)  # the endpoint's box in the map's last column

    chapter("07").catch_up_earlier()  # table, role and function with their default names
    path = chapter("07").show().html
    assert_shown(path, f"{endpoint['VpcEndpointId']} ({NAME})", f"{NAME}-rtb-private1-us-east-1a")
    assert 'lab-hop-ok" data-hop="endpoint"' in path


# --- chapter 04: names Lambda and IAM refuse ----------------------------------------------------
def test_a_function_name_with_vietnamese_letters_is_refused_as_lambda_would(fresh_lab):
    """Nothing is created, and the refusal names Lambda's rule: unaccented letters only.

    AWS source: "CreateFunction" (AWS Lambda API Reference), FunctionName: pattern
    ``(arn:(aws[a-zA-Z-]*)?:lambda:)?…([a-zA-Z0-9-_]+)…``, "If you specify only the function
    name, it is limited to 64 characters in length"; Lambda answers ValidationException "1
    validation error detected: Value '…' at 'functionName' failed to satisfy constraint:
    Member must satisfy regular expression pattern"."""
    chapter("04").catch_up_earlier()
    quiet(ExecutionRoleForm()).submit()
    result = quiet(FunctionForm()).submit(function_name=NAME)
    assert not result.ok and not result.created
    (problem,) = [p for p in result.errors if p.field == "function_name"]
    assert problem.code == "ValidationException"
    assert NAME in problem.message and "a–z or A–Z without accents" in problem.message
    assert client("lambda").list_functions()["Functions"] == []

    fine = quiet(FunctionForm()).submit(function_name="diem-cuoi-dynamodb")
    assert fine.ok, fine.problems  # the same name without accents is Lambda's to take
    assert client("lambda").get_function(FunctionName="diem-cuoi-dynamodb")


def test_the_refusal_reads_in_vietnamese_for_a_vietnamese_learner(fresh_lab, monkeypatch):
    """Same source as above; the rule is said in the learner's language."""
    monkeypatch.setenv("LAB_LANG", "vi")
    message = t("functions.bad_function_name", name=NAME)
    assert NAME in message and "chữ cái không dấu (a–z, A–Z)" in message


def test_a_role_name_with_vietnamese_letters_is_refused_as_iam_would(fresh_lab):
    """Python's ``\\w`` takes "ò"; IAM's pattern does not, so the form must not either.

    AWS source: "CreateRole" (IAM API Reference), RoleName: pattern ``[\\w+=,.@-]+``, "a
    string of characters consisting of upper and lowercase alphanumeric characters with no
    spaces. You can also include any of the following characters: _+=,.@-"; IAM answers
    ValidationError."""
    result = quiet(ExecutionRoleForm()).submit(role_name="vai-trò-điểm-cuối")
    assert not result.ok and not result.created
    assert [(p.field, p.code) for p in result.errors] == [("role_name", "ValidationError")]
    assert "a–z or A–Z without accents" in result.errors[0].message
    assert functions.find_lab_role() is None
    assert client("iam").list_roles()["Roles"] == []


# --- the inventory and clean-up -----------------------------------------------------------------
def test_inventory_and_clean_up_report_show_the_names_as_aws_stores_them(fresh_lab):
    """Clean-up finds the lab by its tags, not its names: Vietnamese names change nothing.

    AWS source: "Tag" (Amazon EC2 API Reference), as above: the names come back from
    DescribeVpcs / DescribeVpcEndpoints exactly as they were sent."""
    network, endpoint = build_network_and_endpoint()
    names = {item.id: item.name for item in inventory.inventory()}
    assert names[network.vpc_id] == f"{NAME}-vpc"
    assert names[endpoint["VpcEndpointId"]] == NAME
    assert_shown(render_inventory(inventory.inventory()), f"{NAME}-vpc", NAME)

    report = cleanup.clean_up()
    assert report.finished
    assert {item.id: item.name for item in report.deleted} == names
    assert_shown(report_html(report), f"{NAME}-vpc", NAME, f"{NAME}-subnet-private1-us-east-1a")
    assert inventory.inventory() == []


# --- the journal, read back by a new process ----------------------------------------------------
RESTARTED_KERNEL = """
import json, locale, sys
import helpers
from helpers.core import journal
summaries = helpers.chapter("03").catch_up_earlier()
print(json.dumps({"encoding": locale.getpreferredencoding(False),
                  "endpoint_name": journal.choices("02")["name"],
                  "summaries": summaries}))
"""


def test_the_journal_is_utf8_and_a_restarted_kernel_rebuilds_the_vietnamese_names(fresh_lab):
    """The journal keeps the names as typed, in UTF-8; a new process whose locale is plain
    ASCII reads it back and catch-up rebuilds the VPC and the endpoint with the same names.

    AWS source: "Tag" (Amazon EC2 API Reference), as above (the rebuilt Name tags)."""
    build_network_and_endpoint()
    raw = (fresh_lab / "journal.json").read_bytes()
    assert NAME.encode("utf-8") in raw  # as typed, not as \\u escapes
    assert json.loads(raw.decode("utf-8"))["02"]["tags"] == dict([DESCRIPTION])

    backend.wipe(fresh_lab)  # as a restarted backend: empty, the journal kept beside it
    assert inventory.inventory() == [] and journal.choices("02")["name"] == NAME

    ascii_locale = {
        **os.environ,
        "LC_ALL": "C",
        "LANG": "C",
        "PYTHONUTF8": "0",
        "PYTHONCOERCECLOCALE": "0",  # keep Python from switching a C locale to UTF-8
        "PYTHONIOENCODING": "ascii:backslashreplace",
    }
    answer = subprocess.run(
        [sys.executable, "-c", RESTARTED_KERNEL],
        env=ascii_locale,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    told = json.loads(answer.stdout.strip().splitlines()[-1])
    assert told["encoding"].lower() in ("ansi_x3.4-1968", "ascii", "us-ascii")
    assert told["endpoint_name"] == NAME
    assert any(f"{NAME}-vpc" in summary for summary in told["summaries"])

    network = networking.find_lab_network()
    (vpc,) = client("ec2").describe_vpcs(VpcIds=[network.vpc_id])["Vpcs"]
    assert name_tag(vpc) == f"{NAME}-vpc"
    rebuilt = endpoints.find_lab_endpoint()
    assert name_tag(rebuilt) == NAME
    assert from_aws(rebuilt["Tags"])[DESCRIPTION[0]] == DESCRIPTION[1]


# --- letters typed with separate accent marks (NFD) ---------------------------------------------
# Some Vietnamese keyboards ("Unicode tổ hợp") send a letter and its accents as separate code
# points. Cut at 39 code points, this name would lose the accent of its 39th letter.
LONG_NFD = unicodedata.normalize("NFD", "đường-riêng-tới-bảng-ghi-chú-của-lớp-học-điểm-cuối")


@pytest.mark.nobackend
def test_the_map_shortens_a_decomposed_name_by_letters_never_between_letter_and_accent():
    """The map's boxes hold 40 letters as the eye counts them; a letter keeps its accents.

    AWS source: "Tag" (Amazon EC2 API Reference): a tag value is "Unicode characters", stored
    as sent: EC2 does not normalise it, so a decomposed name comes back decomposed."""
    assert unicodedata.combining(LONG_NFD[NAME_CHARACTERS - 1])  # the premise: a cut there splits
    composed = unicodedata.normalize("NFC", LONG_NFD)
    name_tags = [{"Key": "Name", "Value": LONG_NFD}]
    vpc = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "Tags": name_tags}
    short = unicodedata.normalize("NFC", "lớp-học-điểm-cuối-dynamodb-của-nhóm-việt")  # 40 letters
    endpoint = Connection("vpce-1", "Endpoint", unicodedata.normalize("NFD", short))
    texts = svg_texts(resource_map_svg(vpc, [], [], [endpoint]))
    assert composed[: NAME_CHARACTERS - 1] + "…" in texts
    assert short in texts  # 40 letters fit: not shortened although 51 code points
    assert not any(unicodedata.combining(c) for text in texts for c in text)


@pytest.mark.nobackend
def test_the_path_picture_wraps_a_decomposed_name_by_letters():
    """Each line of a hop's box holds at most 22 letters; a letter keeps its accents.

    AWS source: as above."""
    hop = Hop("endpoint", f"vpce-0123456789abcdef0 ({LONG_NFD})", "ok", "")

    class Verdict:
        hops = [hop]

    (resource,) = [text for text in svg_texts(diagram(Verdict())) if text.startswith("vpce-")]
    lines = resource.split(" ")  # one a line of the box
    assert lines[0] == "vpce-0123456789abcdef0"
    assert all(len(line) <= RESOURCE_CHARACTERS for line in lines)
    assert not any(unicodedata.combining(c) for line in lines for c in line)
    drawn, whole = "".join(lines[1:]), "(" + unicodedata.normalize("NFC", LONG_NFD) + ")"
    assert drawn == whole or (drawn.endswith("…") and whole.startswith(drawn[:-1]))
