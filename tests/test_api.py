"""Chapter 06: the REST API is built as the workshop says, and requests reach the note app."""

from __future__ import annotations

import json

import pytest
from test_forms_base import judge_then_click, shown_html
from test_invoker import build_lab

from helpers import chapter
from helpers.aws import api, functions
from helpers.core.clients import client
from helpers.core.messages import t
from helpers.views.forms.api import ApiForm, RequestForm
from helpers.views.forms.base import FormView


@pytest.fixture
def deployed(fresh_lab):
    lab = build_lab()
    chapter("06").catch_up({})
    return lab


def _lab_apis():
    return [
        a
        for a in client("apigateway").get_rest_apis()["items"]
        if (a.get("tags") or {}).get("lab:role") == api.ROLE
    ]


def test_post_a_note_then_get_it_back_through_the_invoker(deployed):
    posted = api.request("POST", body={"id": "n7", "text": "buy milk"})
    assert posted.status == 201
    assert posted.invocation is not None and posted.invocation.verdict.via == "endpoint"
    assert posted.headers["Access-Control-Allow-Origin"] == "*"
    listed = api.request("GET")
    assert listed.status == 200
    assert listed.json == [{"id": "n7", "text": "buy milk"}]
    one = api.request("GET", query={"id": "n7"})
    assert one.json == {"id": "n7", "text": "buy milk"}
    assert api.request("DELETE", query={"id": "n7"}).status == 200
    assert api.request("GET").json == []


def test_the_api_is_regional_with_notes_proxy_methods_cors_and_stage_dev(deployed):
    (found,) = _lab_apis()
    assert found["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert found["tags"]["lab"] == "vpc-endpoint-lab"
    described = api.describe()
    assert described.stage == "dev"
    function = functions.find_lab_function()
    for method in ("GET", "POST", "DELETE"):
        integration = described.methods[method]["methodIntegration"]
        assert integration["type"] == "AWS_PROXY"
        assert integration["uri"].endswith(f"/functions/{function['FunctionArn']}/invocations")
    assert "PUT" not in described.methods
    options = described.methods["OPTIONS"]["methodIntegration"]
    assert options["type"] == "MOCK"
    headers = options["integrationResponses"]["200"]["responseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == "'*'"
    assert (
        headers["method.response.header.Access-Control-Allow-Methods"]
        == "'GET,POST,DELETE,OPTIONS'"
    )
    stage = client("apigateway").get_stage(restApiId=described.api_id, stageName="dev")
    assert stage["tags"]["lab"] == "vpc-endpoint-lab"
    policy = json.loads(client("lambda").get_policy(FunctionName="note-app")["Policy"])
    assert any(
        s["Principal"] == {"Service": "apigateway.amazonaws.com"} for s in policy["Statement"]
    )
    assert all(check.ok for check in api.check_chapter()), api.check_chapter()


def test_making_the_api_twice_makes_one_api_and_one_deployment(deployed):
    api_id = api.describe().api_id
    deployments = client("apigateway").get_deployments(restApiId=api_id)["items"]
    chapter("06").catch_up({})
    assert len(_lab_apis()) == 1
    assert len(client("apigateway").get_resources(restApiId=api_id)["items"]) == 2
    assert client("apigateway").get_deployments(restApiId=api_id)["items"] == deployments


def test_changing_the_methods_redeploys(deployed):
    result = ApiForm().submit(methods=["GET", "POST", "PUT", "DELETE"])
    assert result.ok
    assert "PUT" in api.describe().methods
    assert api.request("PUT", body={"text": "x"}, query={"id": "missing"}).status == 404


def test_options_answers_the_cors_headers_without_calling_the_function(deployed):
    answer = api.request("OPTIONS")
    assert answer.status == 200
    assert answer.invocation is None
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_method_that_is_not_there_answers_like_api_gateway(deployed):
    answer = api.request("PUT", body={"text": "x"}, query={"id": "n1"})
    assert answer.status == 403
    assert answer.json == {"message": "Missing Authentication Token"}
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert api.request("GET", path="/other").status == 403


def test_a_broken_path_gives_a_502_and_the_timeout_behind_it(deployed):
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[deployed.endpoint_id])
    answer = api.request("GET")
    assert answer.status == 502
    assert answer.json == {"message": "Internal server error"}
    assert answer.problem.endswith("Task timed out after 15.00 seconds")


@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"api_name": "  "}, "api_name", "BadRequestException"),
        ({"stage": "dev stage"}, "stage", "BadRequestException"),
        ({"methods": []}, "methods", "api.no_methods"),
    ],
)
def test_the_api_form_refuses_bad_values_and_creates_nothing(fresh_lab, values, field, code):
    build_lab()
    result = ApiForm().submit(**values)
    assert not result.ok
    assert (result.errors[0].field, result.errors[0].code) == (field, code)
    assert _lab_apis() == []


def test_the_api_form_needs_the_function(fresh_lab):
    result = ApiForm().submit()
    assert not result.ok and result.codes == ["NotFoundException"]
    assert _lab_apis() == []


def test_the_request_form_shows_the_notes(deployed):
    RequestForm().submit(method="POST", body='{"text": "from the form"}')
    result = RequestForm().submit(method="GET")
    assert result.ok and result.resource.status == 200
    assert "from the form" in result.html


# --- judged before the click -------------------------------------------------------------------
def test_the_api_form_shows_every_refusal_before_the_click(fresh_lab):
    """API Gateway's CreateRestApi needs a name, and "Stage names can only contain
    alphanumeric characters, hyphens, and underscores" (CreateStage, Amazon API Gateway API
    Reference): both are judged while typing, with API Gateway's BadRequestException, and
    the click says the same."""
    build_lab()
    form = FormView(ApiForm())
    before, result = judge_then_click(form, api_name=" ", stage="dev stage", methods=[])
    assert {(p.field, p.code) for p in result.errors} == {
        ("api_name", "BadRequestException"),
        ("stage", "BadRequestException"),
        ("methods", "api.no_methods"),
    }
    assert before.count("BadRequestException") == 2
    assert form.button.disabled and form.preview.value == ""
    assert _lab_apis() == []


def test_the_missing_function_is_refused_before_the_click(fresh_lab):
    form = FormView(ApiForm())
    assert form.button.description == t("api.create")
    before, result = judge_then_click(form)
    assert "[NotFoundException]" in before and result.codes == ["NotFoundException"]
    assert _lab_apis() == []


def test_the_api_button_offers_the_change_and_the_result_says_what_changed(deployed):
    form = FormView(ApiForm())
    assert form.button.description == t("api.keep")
    form.click()
    assert "is in place and deployed" in shown_html(form)
    form.set(methods=["GET", "POST", "PUT", "DELETE"])
    assert form.button.description == t("api.save_changes")
    assert t("forms.outdated") in shown_html(form)
    form.click()
    html = shown_html(form)  # one success box, the methods themselves are ch.show()'s
    assert html.count("lab-success") == 1 and "<table" not in html
    assert "GET, POST, DELETE → GET, POST, PUT, DELETE" in html
    assert "PUT" in api.describe().methods
    assert form.button.description == t("api.keep")


@pytest.mark.parametrize(
    "values, field",
    [
        ({"method": "POST", "body": "{text: 1}"}, "body"),
        ({"method": "POST", "body": "[1]"}, "body"),
        ({"method": "POST", "body": ""}, "body"),
        ({"method": "DELETE", "note_id": ""}, "note_id"),
    ],
)
def test_the_request_form_shows_its_refusals_before_the_click(fresh_lab, values, field):
    """Nothing is sent while a field is refused, nor while the lab has no API to send to."""
    form = FormView(RequestForm())
    before, result = judge_then_click(form, **values)
    assert {p.field: p.code for p in result.errors}.keys() == {None, field}
    assert "api.no_api" in result.codes and t("api.no_api") in before.replace("&#x27;", "'")
    assert form.button.disabled and form.button.description == t("api.send")


def test_a_second_request_replaces_the_first_answer(deployed):
    form = FormView(RequestForm(method="POST", body='{"text": "first"}'))
    form.click()
    assert "201" in shown_html(form)
    form.set(method="GET", body="")
    form.click()
    html = shown_html(form)
    assert "200" in html and "201" not in html and "first" in html


CONCURRENT = "Unable to complete operation due to concurrent modification. Please try again later."


@pytest.fixture
def gateway_client(fresh_lab):
    """A new API Gateway client of the lab's, dropped afterwards (a test's hooks stay on it)."""
    from helpers.core import clients

    clients._clients.clear()
    yield lambda: client("apigateway")
    clients._clients.clear()


def _refused_first(gateway, refusals: int, message: str) -> list:
    """Make ``gateway``'s first ``refusals`` requests answer 409 ConflictException with
    ``message`` (the rest reach the backend); returns the list of requests sent."""
    from botocore.awsrequest import AWSResponse

    sent = []

    def answer(request, **_):
        sent.append(request)
        if len(sent) > refusals:
            return None
        body = json.dumps({"message": message}).encode()
        raw = type("Raw", (), {"stream": lambda self, **_: iter([body])})()
        return AWSResponse(request.url, 409, {"x-amzn-ErrorType": "ConflictException"}, raw)

    gateway.meta.events.register_first("before-send.api-gateway", answer)
    return sent


def test_a_change_refused_for_a_concurrent_one_is_made_again(gateway_client, monkeypatch):
    """Changes to one API are made at once; users of API Gateway report ConflictException
    "... concurrent modification. Please try again later." for that (terraform-provider-aws
    issues 776, 16439; not in AWS's API Reference, which says only "The request configuration
    has conflicts"): the lab's client sends the change again after a pause, and gives up after
    four tries with AWS's own error."""
    import botocore.endpoint
    from botocore.exceptions import ClientError

    from helpers.core import clients

    pauses = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", pauses.append)
    gateway = gateway_client()
    sent = _refused_first(gateway, 2, CONCURRENT)
    made = gateway.create_rest_api(name="made-on-the-third-try")
    assert made["name"] == "made-on-the-third-try"
    assert len(sent) == 3 and pauses == [0.2, 0.4]

    clients._clients.clear()
    always = gateway_client()
    sent = _refused_first(always, 99, CONCURRENT)
    with pytest.raises(ClientError) as refused:
        always.create_rest_api(name="never-made")
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    assert len(sent) == len(clients.CONCURRENT_CHANGE_PAUSES_S) + 1


def test_any_other_conflict_is_raised_at_once(gateway_client, monkeypatch):
    """A conflict that waiting cannot mend (API Gateway: "Method already exists for this
    resource") is the learner's to see, at the first answer."""
    import botocore.endpoint
    from botocore.exceptions import ClientError

    monkeypatch.setattr(
        botocore.endpoint.time, "sleep", lambda _: pytest.fail("no pause for this conflict")
    )
    gateway = gateway_client()
    sent = _refused_first(gateway, 1, "Method already exists for this resource")
    with pytest.raises(ClientError):
        gateway.create_rest_api(name="refused")
    assert len(sent) == 1


def test_a_changed_stage_moves_to_the_new_deployment_and_keeps_its_tags(deployed):
    """Changing the methods deploys again and moves the existing stage to the new deployment:
    the stage keeps the lab's tags (a stage's own tags are what cost allocation sees, "API
    Gateway resources that can be tagged", API Gateway Developer Guide) and no second stage
    appears."""
    gateway = client("apigateway")
    api_id = api.describe().api_id
    before = gateway.get_stage(restApiId=api_id, stageName="dev")["deploymentId"]
    values = dict(api_name="note-api", stage="dev", methods=["GET", "POST", "PUT"], cors=True)
    ApiForm().submit(**values)
    stage = gateway.get_stage(restApiId=api_id, stageName="dev")
    deployments = gateway.get_deployments(restApiId=api_id)["items"]
    assert stage["deploymentId"] != before
    assert stage["deploymentId"] in {d["id"] for d in deployments}
    assert stage["tags"]["lab"] == "vpc-endpoint-lab"
    assert [s["stageName"] for s in gateway.get_stages(restApiId=api_id)["item"]] == ["dev"]
