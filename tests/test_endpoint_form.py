"""The Create-endpoint form: every refusal and warning, nothing created on refusal, no twins."""

from __future__ import annotations

import pytest

from helpers import chapter
from helpers.aws import endpoints, networking
from helpers.core.clients import client
from helpers.views.forms.endpoint import EndpointForm, EndpointFormView, tag_pairs


@pytest.fixture
def network(fresh_lab):
    chapter("01").catch_up({})
    return networking.find_lab_network()


@pytest.fixture
def form(network):
    return EndpointForm()


def alive_endpoints() -> list[dict]:
    return [
        e
        for e in client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"].lower() not in endpoints.GONE_STATES
    ]


def refused(result, code: str, field: str) -> None:
    """The submit was refused with AWS's ``code`` on ``field``, and nothing was created."""
    assert not result.ok
    assert code in result.codes, result.problems
    assert any(p.field == field and p.code == code for p in result.errors)
    assert alive_endpoints() == []


def default_vpc_id() -> str:
    return next(v["VpcId"] for v in client("ec2").describe_vpcs()["Vpcs"] if v["IsDefault"])


def test_defaults_mirror_the_workshop(form, network):
    values = form.defaults()
    assert values["name"] == "vpc-endpoint-lambda-dynamodb"
    assert values["service"] == "com.amazonaws.us-east-1.dynamodb"
    assert values["endpoint_type"] == "Gateway"
    assert values["vpc"] == network.vpc_id
    assert values["route_tables"] == network.private_route_table_ids


def test_unknown_service_is_refused(form):
    refused(form.submit(service="com.amazonaws.us-east-1.dynamo"), "InvalidServiceName", "service")


def test_other_region_service_is_refused(form):
    refused(
        form.submit(service="com.amazonaws.eu-west-1.dynamodb"), "InvalidServiceName", "service"
    )


def test_gateway_type_for_an_interface_only_service_is_refused(form):
    refused(
        form.submit(service="com.amazonaws.us-east-1.sqs", endpoint_type="Gateway"),
        "InvalidParameter",
        "endpoint_type",
    )


def test_route_table_of_another_vpc_is_refused(form, network):
    foreign = networking.main_route_table(default_vpc_id())["RouteTableId"]
    refused(
        form.submit(route_tables=[*network.private_route_table_ids, foreign]),
        "InvalidParameter",
        "route_tables",
    )


def test_missing_vpc_is_refused(form):
    refused(
        form.submit(vpc="vpc-0123456789abcdef0", route_tables=[]), "InvalidVpcID.NotFound", "vpc"
    )


def test_missing_route_table_is_refused(form):
    refused(
        form.submit(route_tables=["rtb-0123456789abcdef0"]),
        "InvalidRouteTableID.NotFound",
        "route_tables",
    )


def test_malformed_policy_json_is_refused(form):
    refused(
        form.submit(policy_kind="custom", policy='{"Statement": [}'),
        "InvalidPolicyDocument",
        "policy",
    )


def test_json_that_is_not_a_policy_is_refused(form):
    refused(
        form.submit(policy_kind="custom", policy='{"Effect": "Allow"}'),
        "InvalidPolicyDocument",
        "policy",
    )


def test_second_endpoint_for_the_same_service_on_the_same_table_is_refused(form, network):
    client("ec2").create_vpc_endpoint(
        VpcId=network.vpc_id,
        ServiceName=endpoints.dynamodb_service_name(),
        VpcEndpointType="Gateway",
        RouteTableIds=network.private_route_table_ids,
    )
    before = alive_endpoints()
    result = form.submit()
    assert not result.ok and "RouteAlreadyExists" in result.codes
    assert alive_endpoints() == before


def test_tag_key_longer_than_128_is_refused(form):
    refused(form.submit(tags=[["k" * 129, "v"]]), "InvalidParameterValue", "tags")


def test_tag_value_longer_than_256_is_refused(form):
    refused(form.submit(tags=[["team", "v" * 257]]), "InvalidParameterValue", "tags")


def test_name_longer_than_256_is_refused(form):
    refused(form.submit(name="n" * 257), "InvalidParameterValue", "name")


def test_tag_key_with_aws_prefix_is_refused(form):
    refused(form.submit(tags={"aws:owner": "me"}), "InvalidParameterValue", "tags")


def test_lab_tag_key_is_refused(form):
    refused(form.submit(tags={"lab:role": "mine"}), "endpoints.tag_key_lab", "tags")


def test_tag_repeating_the_name_tag_is_refused(form):
    refused(form.submit(tags={"Name": "other"}), "endpoints.tag_duplicate", "tags")


def test_more_than_fifty_tags_are_refused(form):
    refused(form.submit(tags={f"key{i}": "v" for i in range(47)}), "TagLimitExceeded", "tags")


def test_no_service_chosen_is_refused(form):
    refused(form.submit(service=""), "MissingParameter", "service")


def test_typed_service_name_of_another_region_is_refused_not_called_missing(form):
    wrong = "com.amazonaws.eu-west-1.dynamodb"  # typed in the search box; the list is empty
    result = form.submit(service=None, service_search=wrong)
    refused(result, "InvalidServiceName", "service")
    assert "MissingParameter" not in result.codes
    refusal = next(e for e in result.errors if e.code == "InvalidServiceName")
    assert wrong in refusal.message and "only serves its own region" in refusal.message
    assert "endpoints.not_dynamodb" not in [w.code for w in result.warnings]


def test_typed_service_name_the_ticked_service_matches_is_created(form):
    result = form.submit(service_search="com.amazonaws.us-east-1.dynamodb")
    assert result.ok and result.created
    assert result.resource["ServiceName"] == "com.amazonaws.us-east-1.dynamodb"


def test_preview_says_when_no_service_is_chosen_yet(form, network):
    values = {**form.defaults(), "service": None}
    assert "No service is chosen yet" in form.preview(values)
    assert "endpoint to -" not in form.preview(values)
    values["service_search"] = "com.amazonaws.eu-west-1.dynamodb"
    assert "com.amazonaws.eu-west-1.dynamodb" in form.preview(values)


def test_other_service_category_is_explained_and_refused(form):
    result = form.submit(service_category="instance-connect")
    refused(result, "endpoints.category_not_in_lab", "service_category")
    assert "SSH" in result.errors[0].message


def test_interface_endpoint_needs_cost_confirmation(form, network):
    result = form.submit(
        service="com.amazonaws.us-east-1.sqs",
        endpoint_type="Interface",
        subnets=network.private_subnet_ids,
        private_dns=False,
    )
    refused(result, "endpoints.cost_not_confirmed", "confirm_cost")
    assert "$0.010 per hour" in result.errors[0].message


def test_interface_endpoint_takes_one_subnet_per_zone(form, network):
    ec2 = client("ec2")
    zone = ec2.describe_subnets(SubnetIds=network.private_subnet_ids)["Subnets"][0][
        "AvailabilityZone"
    ]
    extra = ec2.create_subnet(
        VpcId=network.vpc_id, CidrBlock="10.0.200.0/24", AvailabilityZone=zone
    )["Subnet"]["SubnetId"]
    refused(
        form.submit(
            service="com.amazonaws.us-east-1.sqs",
            endpoint_type="Interface",
            subnets=[*network.private_subnet_ids, extra],
            confirm_cost=True,
            private_dns=False,
        ),
        "DuplicateSubnetsInSameZone",
        "subnets",
    )


def test_confirmed_interface_endpoint_is_created_with_its_subnets(form, network):
    result = form.submit(
        service="com.amazonaws.us-east-1.sqs",
        endpoint_type="Interface",
        subnets=network.private_subnet_ids,
        confirm_cost=True,
    )
    assert result.ok and result.created
    assert result.resource["VpcEndpointType"] == "Interface"
    assert result.resource["SubnetIds"] == network.private_subnet_ids
    assert result.resource.get("RouteTableIds", []) == []


def test_no_route_table_warns_but_creates(form):
    result = form.submit(route_tables=[])
    assert result.ok and result.created
    assert "endpoints.no_route_table" in [w.code for w in result.warnings]
    assert "timed out" in result.warnings[-1].message


def test_private_table_left_out_warns_why_lambda_would_time_out(form, network):
    result = form.submit(route_tables=network.public_route_table_ids)
    assert result.ok
    warning = next(w for w in result.warnings if w.code == "endpoints.private_subnet_not_covered")
    assert "vpc-private-subnet-private1" in warning.message and "time out" in warning.message
    assert network.private_route_table_ids[0] in warning.message


def test_default_submit_has_no_warnings_and_routes_the_private_table(form, network):
    result = form.submit()
    assert result.ok and result.created and result.problems == []
    assert result.resource["RouteTableIds"] == network.private_route_table_ids
    assert "lab-new" in result.html and result.resource["VpcEndpointId"] in result.html


def test_submitting_twice_shows_the_existing_endpoint(form):
    first = form.submit(tags={"team": "notes"})
    second = form.submit(tags={"team": "notes"})
    assert first.created and second.ok and not second.created
    assert second.resource["VpcEndpointId"] == first.resource["VpcEndpointId"]
    assert "already exists" in second.html
    assert len(alive_endpoints()) == 1


def test_journal_keeps_route_tables_by_lab_role(form):
    from helpers.core import journal

    form.submit()
    assert journal.choices("02")["route_tables"] == [
        {"role": "private-route-table", "name": "vpc-private-rtb-private1-us-east-1a"}
    ]


@pytest.mark.nobackend
def test_tag_pairs_skip_blank_rows():
    assert tag_pairs([["team", "notes"], ["", ""], [" k ", "v"]]) == [("team", "notes"), ("k", "v")]
    assert tag_pairs({"a": "b"}) == [("a", "b")]


# --- the widget view --------------------------------------------------------------------------
def test_view_refreshes_route_tables_when_the_vpc_changes(network):
    view = EndpointFormView()
    assert view.values()["route_tables"] == network.private_route_table_ids
    view.set(vpc=default_vpc_id())
    assert view.values()["route_tables"] == []
    options = view.controls["route_tables"].option_values
    assert options and not set(options) & set(network.private_route_table_ids)
    view.set(vpc=network.vpc_id)
    assert view.values()["route_tables"] == network.private_route_table_ids


def test_view_search_and_type_filter_narrow_the_services(network):
    view = EndpointFormView()
    view.set(service_search="dynamo", service_type_filter="Gateway")
    names = [value for _, value in view.controls["service"].options]
    assert names == ["com.amazonaws.us-east-1.dynamodb"]
    view.set(service_search="", service_type_filter="Interface")
    names = [value for _, value in view.controls["service"].options]
    assert "com.amazonaws.us-east-1.sqs" in names
    assert "com.amazonaws.us-east-1.dynamodb" in names  # AWS offers both types
    view.set(service_type_filter="Gateway")
    names = [value for _, value in view.controls["service"].options]
    assert "com.amazonaws.us-east-1.dynamodb" in names
    assert "com.amazonaws.us-east-1.sqs" not in names


def test_view_returns_to_dynamodb_after_another_category(network):
    view = EndpointFormView()
    view.set(service_category="marketplace-services")
    assert view.values()["service"] is None
    view.set(service_category="aws-services")
    assert view.values()["service"] == "com.amazonaws.us-east-1.dynamodb"
    assert view.values()["endpoint_type"] == "Gateway"


def test_view_shows_fields_of_the_chosen_type_only(network):
    view = EndpointFormView()
    assert view.controls["route_tables"].layout.display is None
    assert view.controls["confirm_cost"].layout.display == "none"
    view.set(service_type_filter="Interface")
    view.set(service="com.amazonaws.us-east-1.sqs")
    assert view.values()["endpoint_type"] == "Interface"
    assert view.controls["route_tables"].layout.display == "none"
    assert view.controls["confirm_cost"].layout.display is None
    assert "per hour" in view.preview.value
    view.set(service_category="partner-services")
    assert view.controls["service"].layout.display == "none"
    assert "PrivateLink" in view.preview.value


def test_view_tag_editor_round_trips(network, caplog):
    view = EndpointFormView()
    view.set(tags=[["team", "notes"]])
    editor = view.controls["tags"]
    key_box, value_box, _remove = editor.children[1].children
    assert (key_box.value, value_box.value) == ("team", "notes")
    value_box.value = "web"
    assert view.values()["tags"] == [["team", "web"]]
    editor.add_button.click()
    assert len(view.values()["tags"]) == 2
    remove = editor.children[1].children[2]
    remove.click()
    remove.click()  # a double click's second click finds the row gone: nothing else goes
    assert view.values()["tags"] == [["", ""]]
    assert "Exception in callback" not in caplog.text


def test_clicking_create_twice_makes_one_endpoint(network):
    view = EndpointFormView()
    first = view.click()
    second = view.click()
    assert first.ok and first.created and second.ok and not second.created
    assert len(alive_endpoints()) == 1


def test_view_refuses_a_typed_service_name_of_another_region(network):
    view = EndpointFormView()
    view.set(service_search="com.amazonaws.eu-west-1.dynamodb")
    assert view.values()["service"] is None
    assert "com.amazonaws.eu-west-1.dynamodb" in view.preview.value
    result = view.click()
    assert not result.ok and "InvalidServiceName" in result.codes
    assert alive_endpoints() == []
