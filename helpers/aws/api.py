"""Chapter 06: the note app's REST API — ``/notes`` with Lambda proxy methods, CORS, stage ``dev``.

Finds the lab's API by its tags, makes it idempotently (the same calls on every backend) and
sends test requests. On a real account a request goes to the stage's URL; on the embedded
backend, which serves no API, the lab plays API Gateway: it finds the method's integration
and invokes the function through ``helpers.aws.invoker``, answering as API Gateway would.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from helpers.aws import functions, invoker
from helpers.aws.checks import Check
from helpers.core import journal
from helpers.core.clients import account_id, client, friendly_errors
from helpers.core.errors import LabError, none_if_missing
from helpers.core.messages import t
from helpers.core.read_cache import together
from helpers.core.settings import current
from helpers.core.tags import ROLE_KEY, is_lab_resource, lab_tags

CHAPTER = "06"
ROLE = "rest-api"
DEFAULT_API_NAME = "note-api"
DEFAULT_STAGE = "dev"
RESOURCE_PART = "notes"
RESOURCE_PATH = f"/{RESOURCE_PART}"
METHODS = ("GET", "POST", "PUT", "DELETE")
DEFAULT_METHODS = ("GET", "POST", "DELETE")
ENDPOINT_TYPE = "REGIONAL"  # the workshop's choice
STAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # API Gateway's rule
API_NAME_MAX = 1024
CORS_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
PERMISSION_PREFIX = "lab-apigateway-"
# API Gateway's own answers (REST APIs).
MISSING_TOKEN = {"message": "Missing Authentication Token"}
FORBIDDEN = {"message": "Forbidden"}
INTERNAL_ERROR = {"message": "Internal server error"}
TIMED_OUT = {"message": "Endpoint request timed out"}
# How long API Gateway waits for an integration unless the integration says otherwise
# (timeoutInMillis: 50 ms to 29 s; a Regional or private REST API may go above 29 s once the
# account's quota is raised). When it gives up it answers 504; the function runs on.
DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000


@dataclass
class ApiResponse:
    """What the client of the API gets back, and (embedded backend) the invocation behind it."""

    status: int
    headers: dict
    body: str
    invocation: invoker.InvokeResult | None = None
    problem: str | None = None  # why API Gateway answered an error itself (its log line)

    @property
    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class LabApi:
    api_id: str
    name: str
    resource_id: str | None
    stage: str | None
    methods: dict = field(default_factory=dict)  # method → resourceMethods entry

    @property
    def url(self) -> str:
        host = f"{self.api_id}.execute-api.{current().region}.amazonaws.com"
        return f"https://{host}/{self.stage or DEFAULT_STAGE}"


# --- finding ---------------------------------------------------------------------------------
def find_lab_api() -> dict | None:
    """The lab's REST API (``get_rest_api`` shape), found by its tags, never by name alone."""
    with friendly_errors():
        for page in client("apigateway").get_paginator("get_rest_apis").paginate():
            for api in page["items"]:
                found = api.get("tags") or {}
                if is_lab_resource(found) and found.get(ROLE_KEY) == ROLE:
                    return api
    return None


def _resources(api_id: str) -> list[dict]:
    pages = (
        client("apigateway")
        .get_paginator("get_resources")
        .paginate(restApiId=api_id, embed=["methods"])
    )
    return [item for page in pages for item in page["items"]]


def _stages(api_id: str) -> list[dict]:
    return client("apigateway").get_stages(restApiId=api_id).get("item", [])


def describe() -> LabApi | None:
    """The lab's API as it is now: its /notes resource, methods and stage."""
    api = find_lab_api()
    return None if api is None else _described(api["id"])


def _described(api_id: str, *also: Callable[[], object]) -> LabApi:
    """The API ``api_id`` as it is now, its parts read at once (with ``also``, reads the caller
    wants in this action's cache: they go in the same round)."""
    with friendly_errors():
        api, resources, stages, *_ = together(
            find_lab_api, lambda: _resources(api_id), lambda: _stages(api_id), *also
        )
    notes = next((r for r in resources if r.get("path") == RESOURCE_PATH), None)
    names = [s["stageName"] for s in stages]
    remembered = journal_stage()
    stage = remembered if remembered in names else (names[0] if names else None)
    return LabApi(
        api_id,
        api["name"],
        notes["id"] if notes else None,
        stage,
        dict((notes or {}).get("resourceMethods") or {}),
    )


def journal_stage() -> str:
    return journal.choices(CHAPTER).get("stage") or DEFAULT_STAGE


def integration_uri(function_arn: str) -> str:
    region = current().region
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def source_arn(api_id: str) -> str:
    """Which calls may invoke the function: any stage and method of this API on /notes."""
    return f"arn:aws:execute-api:{current().region}:{account_id()}:{api_id}/*/*{RESOURCE_PATH}"


# --- checking and making ----------------------------------------------------------------------
def refusals(values: dict) -> list[LabError]:
    """Why API Gateway (or the lab) would refuse these form values."""
    problems = []
    name = values.get("api_name", "").strip()
    if not name:
        problems.append(LabError("api.name_empty", code="BadRequestException", field="api_name"))
    elif len(name) > API_NAME_MAX:
        problems.append(
            LabError(
                "api.name_too_long",
                code="BadRequestException",
                field="api_name",
                limit=API_NAME_MAX,
            )
        )
    if not STAGE_NAME_PATTERN.match(values.get("stage", "")):
        problems.append(
            LabError(
                "api.stage_invalid",
                code="BadRequestException",
                field="stage",
                stage=values.get("stage", ""),
            )
        )
    if not values.get("methods"):
        problems.append(LabError("api.no_methods", field="methods"))
    unknown = [m for m in values.get("methods", []) if m not in METHODS]
    if unknown:
        problems.append(LabError("api.unknown_method", field="methods", methods=", ".join(unknown)))
    if functions.find_lab_function() is None:
        problems.append(LabError("api.no_function", code="NotFoundException"))
    return problems


def ensure_api(values: dict, progress=print) -> tuple[LabApi, bool]:
    """Make the lab's API exactly as ``values`` say; return it and whether it was created.

    A learner far from the region waits for every round trip, so what does not depend on
    another change is made at once: each method with its integration, the CORS method, and
    the function's permission; the stage is deployed once they are all in."""
    gateway = client("apigateway")
    function = functions.find_lab_function()
    if function is None:
        raise LabError("api.no_function", code="NotFoundException")
    name = values["api_name"].strip()
    api = find_lab_api()
    created = api is None
    if created:
        progress(t("api.creating", name=name))
        api = gateway.create_rest_api(
            name=name,
            description=t("api.description"),
            endpointConfiguration={"types": [ENDPOINT_TYPE]},
            tags=lab_tags(CHAPTER, ROLE, name),
        )
        notes, root_id, stages = None, api["rootResourceId"], []
    else:
        if api["name"] != name:
            gateway.update_rest_api(
                restApiId=api["id"],
                patchOperations=[{"op": "replace", "path": "/name", "value": name}],
            )
        resources, stages = together(lambda: _resources(api["id"]), lambda: _stages(api["id"]))
        notes = next((r for r in resources if r.get("path") == RESOURCE_PATH), None)
        root_id = next(r["id"] for r in resources if r.get("path") == "/")
    api_id = api["id"]
    if notes is None:
        notes = gateway.create_resource(restApiId=api_id, parentId=root_id, pathPart=RESOURCE_PART)
    existing = dict(notes.get("resourceMethods") or {})
    wanted = list(values["methods"])
    uri = integration_uri(function["FunctionArn"])
    *changes, _ = together(
        *(
            lambda method=method: _ensure_method(api_id, notes["id"], method, existing, wanted, uri)
            for method in METHODS
        ),
        lambda: _ensure_cors(api_id, notes["id"], existing, bool(values.get("cors", True)), wanted),
        lambda: _ensure_permission(function["FunctionName"], api_id),
    )
    stage = values["stage"]
    _ensure_stage(api_id, stage, stage in {s["stageName"] for s in stages}, any(changes), progress)
    # The form judges its values again after the click, asking whether the function is still
    # there: that read goes in the same round as the API's.
    return _described(api_id, functions.find_lab_function), created


def _ensure_method(
    api_id: str, resource_id: str, method: str, existing: dict, wanted: list[str], uri: str
) -> bool:
    """A Lambda proxy ``method`` if it is ``wanted``, else none; whether anything changed."""
    gateway = client("apigateway")
    present = method in existing
    if method not in wanted:
        if present:
            gateway.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
        return present
    if not present:
        gateway.put_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=method,
            authorizationType="NONE",
        )
    integration = (existing.get(method) or {}).get("methodIntegration") or {}
    if integration.get("type") == "AWS_PROXY" and integration.get("uri") == uri:
        return False
    gateway.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    return True


def _cors_values(methods: list[str]) -> dict:
    allowed = ",".join([*methods, "OPTIONS"])
    return {
        "method.response.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
        "method.response.header.Access-Control-Allow-Methods": f"'{allowed}'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }


def _ensure_cors(
    api_id: str, resource_id: str, existing: dict, cors: bool, methods: list[str]
) -> bool:
    """The console's "Enable CORS": an OPTIONS method answered by a mock integration."""
    gateway = client("apigateway")
    present = "OPTIONS" in existing
    if not cors:
        if present:
            gateway.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod="OPTIONS")
        return present
    wanted = _cors_values(methods)
    answered = (
        (
            ((existing.get("OPTIONS") or {}).get("methodIntegration") or {}).get(
                "integrationResponses"
            )
            or {}
        )
        .get("200", {})
        .get("responseParameters")
    )
    if present and answered == wanted:
        return False
    where = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "OPTIONS"}
    if present:
        gateway.delete_method(**where)
    gateway.put_method(**where, authorizationType="NONE")
    # An integration response maps to a method response of its status code (API Reference,
    # PutIntegrationResponse): both halves are in before it.
    together(
        lambda: gateway.put_method_response(
            **where,
            statusCode="200",
            responseParameters={k: False for k in wanted},
            responseModels={"application/json": "Empty"},
        ),
        lambda: gateway.put_integration(
            **where,
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 200}'},
        ),
    )
    gateway.put_integration_response(
        **where,
        statusCode="200",
        responseParameters=wanted,
        responseTemplates={"application/json": ""},
    )
    return True


def _permission_statements(function_name: str) -> list[dict]:
    policy = none_if_missing(
        lambda: client("lambda").get_policy(FunctionName=function_name)["Policy"]
    )
    return [] if policy is None else json.loads(policy).get("Statement", [])


def _may_invoke(function_name: str, api_id: str) -> bool:
    """Whether the function's resource policy lets this API invoke it."""
    wanted = source_arn(api_id)
    for statement in _permission_statements(function_name):
        principal = statement.get("Principal") or {}
        arn_condition = json.dumps(statement.get("Condition", {}))
        if (
            statement.get("Effect") == "Allow"
            and principal.get("Service") == "apigateway.amazonaws.com"
            and wanted in arn_condition
        ):
            return True
    return False


def _ensure_permission(function_name: str, api_id: str) -> None:
    """Let API Gateway invoke the function (the console asks "Add permission?")."""
    if _may_invoke(function_name, api_id):
        return
    client("lambda").add_permission(
        FunctionName=function_name,
        StatementId=f"{PERMISSION_PREFIX}{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source_arn(api_id),
    )


def _ensure_stage(api_id: str, stage: str, exists: bool, changed: bool, progress) -> None:
    """Deploy the API to ``stage`` unless it is there already with nothing changed. A new
    stage gets the lab's tags (a stage inherits its API's tags for access control only, not
    for cost allocation: "API Gateway resources that can be tagged", API Gateway Developer
    Guide); an existing one is moved to the new deployment, keeping its tags and settings."""
    if exists and not changed:
        return
    progress(t("api.deploying", stage=stage))
    gateway = client("apigateway")
    deployment = gateway.create_deployment(restApiId=api_id, description=t("api.description"))
    if exists:
        gateway.update_stage(
            restApiId=api_id,
            stageName=stage,
            patchOperations=[{"op": "replace", "path": "/deploymentId", "value": deployment["id"]}],
        )
    else:
        gateway.create_stage(
            restApiId=api_id,
            stageName=stage,
            deploymentId=deployment["id"],
            tags=lab_tags(CHAPTER, "api-stage", stage),
        )


# --- sending requests -------------------------------------------------------------------------
def request(
    method: str, path: str = RESOURCE_PATH, body=None, query: dict | None = None
) -> ApiResponse:
    """Send a test request to the lab's API stage, as a browser or curl would."""
    api = describe()
    if api is None:
        raise LabError("api.no_api")
    method = method.upper()
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    if current().is_real_aws:
        import requests

        answer = requests.request(
            method,
            f"{api.url}{path}",
            data=text,
            params=query or None,
            headers={"Content-Type": "application/json"},
            timeout=35,
        )
        return ApiResponse(answer.status_code, dict(answer.headers), answer.text)
    with friendly_errors():
        return _play_api_gateway(api, method, path, text, query or {})


def _gateway_answer(
    status: int, body: dict, problem: str | None = None, invocation=None
) -> ApiResponse:
    """An answer API Gateway gives itself, with its error type header."""
    error_type = {
        "Missing Authentication Token": "MissingAuthenticationTokenException",
        "Forbidden": "ForbiddenException",
    }.get(body["message"], "InternalServerErrorException")
    return ApiResponse(
        status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": error_type},
        json.dumps(body),
        invocation,
        problem,
    )


def _play_api_gateway(
    api: LabApi, method: str, path: str, text: str | None, query: dict
) -> ApiResponse:
    """What API Gateway does with a request to the stage, on a backend that serves no API."""
    if api.stage is None:
        return _gateway_answer(403, FORBIDDEN, t("api.not_deployed"))
    if path != RESOURCE_PATH or method not in api.methods:
        return _gateway_answer(403, MISSING_TOKEN)
    integration = api.methods[method].get("methodIntegration") or {}
    if integration.get("type") == "MOCK":
        answer = (integration.get("integrationResponses") or {}).get("200", {})
        headers = {
            k.rsplit(".", 1)[-1]: v.strip("'")
            for k, v in (answer.get("responseParameters") or {}).items()
        }
        return ApiResponse(200, headers, "")
    function_arn = integration.get("uri", "").split("/functions/")[-1].split("/invocations")[0]
    function_name = function_arn.split(":")[-1]
    if not _may_invoke(function_name, api.api_id):
        return _gateway_answer(500, INTERNAL_ERROR, t("api.no_permission", function=function_name))
    event = proxy_event(api, method, text, query)
    try:
        invocation = invoker.invoke(function_arn, event)
    except LabError as error:
        return _gateway_answer(502, INTERNAL_ERROR, error.message)
    waited_ms = int(integration.get("timeoutInMillis") or DEFAULT_INTEGRATION_TIMEOUT_MS)
    if invocation.duration_ms > waited_ms:
        problem = t(
            "api.integration_timeout",
            seconds=waited_ms / 1000,
            outcome=invocation.error_message or t("api.function_went_on"),
        )
        return _gateway_answer(504, TIMED_OUT, problem, invocation)
    payload = invocation.payload
    if not invocation.ok:
        return _gateway_answer(502, INTERNAL_ERROR, invocation.error_message, invocation)
    if not isinstance(payload, dict) or not isinstance(payload.get("statusCode"), int):
        return _gateway_answer(502, INTERNAL_ERROR, t("api.malformed"), invocation)
    return ApiResponse(
        payload["statusCode"],
        dict(payload.get("headers") or {}),
        payload.get("body") or "",
        invocation,
    )


def proxy_event(api: LabApi, method: str, text: str | None, query: dict) -> dict:
    """The event a Lambda proxy integration hands the function (REST API, payload 1.0)."""
    headers = {"Content-Type": "application/json", "Host": api.url.split("/")[2]}
    request_id = str(uuid.uuid4())
    return {
        "resource": RESOURCE_PATH,
        "path": RESOURCE_PATH,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": RESOURCE_PATH,
            "httpMethod": method,
            "stage": api.stage,
            "path": f"/{api.stage}{RESOURCE_PATH}",
            "requestId": request_id,
            "accountId": account_id(),
            "apiId": api.api_id,
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "vpc-endpoint-lab"},
        },
        "body": text,
        "isBase64Encoded": False,
    }


# --- "Check your work" ------------------------------------------------------------------------
def check_chapter() -> list[Check]:
    api = describe()
    checks = [
        Check(
            t("api.check_api"),
            api is not None,
            f"{api.name} ({api.api_id})" if api else t("api.check_missing"),
        )
    ]
    if api is None:
        return checks
    endpoint_type = (find_lab_api() or {}).get("endpointConfiguration", {}).get("types", [])
    checks.append(
        Check(t("api.check_regional"), endpoint_type == [ENDPOINT_TYPE], ", ".join(endpoint_type))
    )
    checks.append(Check(t("api.check_resource"), api.resource_id is not None, RESOURCE_PATH))
    function = functions.find_lab_function()
    uri = integration_uri(function["FunctionArn"]) if function else None
    for method in DEFAULT_METHODS:
        integration = (api.methods.get(method) or {}).get("methodIntegration") or {}
        checks.append(
            Check(
                t("api.check_method", method=method),
                integration.get("type") == "AWS_PROXY" and integration.get("uri") == uri,
                integration.get("type", t("api.check_no_method")),
            )
        )
    checks.append(Check(t("api.check_cors"), "OPTIONS" in api.methods, "OPTIONS"))
    checks.append(
        Check(
            t("api.check_permission"),
            bool(function) and _may_invoke(function["FunctionName"], api.api_id),
            "apigateway.amazonaws.com",
        )
    )
    checks.append(Check(t("api.check_stage"), api.stage is not None, api.url))
    if api.stage and function:
        answer = request("GET")
        checks.append(
            Check(
                t("api.check_request"),
                answer.status == 200,
                f"GET {RESOURCE_PATH} → {answer.status}",
            )
        )
    return checks
