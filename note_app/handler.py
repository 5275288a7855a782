"""The note app's Lambda function: add, list, get, update and delete notes in DynamoDB.

It answers API Gateway REST proxy requests (GET, POST, PUT, DELETE on ``/notes`` or
``/notes/{id}``) and direct invocations (``{"action": "add" | "list" | "get" | "update" |
"delete", ...}`` with the note's fields beside ``action`` or under ``note``). Every answer is
a proxy response: status code, CORS headers and a JSON body. The table and its region come
from the function's environment variables, as in the workshop.

This file is the whole deployment package: it uses only boto3 and the standard library,
which every Lambda Python runtime provides.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.exceptions import ClientError

TABLE_NAME_VARIABLE = "AWS_DYNAMO_TABLE_NAME_VALUE"
# Lambda reserves AWS_REGION for itself, hence the workshop's own variable.
REGION_VARIABLE = "AWS_REGION_VALUE"
KEY = "id"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "Content-Type": "application/json",
}

# Each operation and the one DynamoDB action it needs (what the execution role must allow).
DYNAMODB_ACTIONS = {
    "add": "dynamodb:PutItem",
    "list": "dynamodb:Scan",
    "get": "dynamodb:GetItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
}


class BadRequest(ValueError):
    """A request the function refuses before calling DynamoDB (answered with ``status``)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    operation: str  # a key of DYNAMODB_ACTIONS
    note_id: str | None = None
    fields: dict = field(default_factory=dict)  # the note's other fields, as strings


def lambda_handler(event, context):
    """Lambda's entry point (``handler.lambda_handler``)."""
    try:
        request = parse(event)
    except BadRequest as refusal:
        return respond(refusal.status, {"message": str(refusal)})
    table_name = os.environ.get(TABLE_NAME_VARIABLE)
    region = os.environ.get(REGION_VARIABLE)
    if not table_name or not region:
        missing = [
            name
            for name, value in ((TABLE_NAME_VARIABLE, table_name), (REGION_VARIABLE, region))
            if not value
        ]
        return respond(
            500,
            {
                "message": "The function's environment variable(s) "
                f"{', '.join(missing)} are not set."
            },
        )
    try:
        status, body = OPERATIONS[request.operation](dynamodb(region), table_name, request)
    except ClientError as error:
        details = error.response.get("Error", {})
        return respond(500, {"error": details.get("Code"), "message": details.get("Message")})
    return respond(status, body)


def dynamodb_action(event) -> str:
    """The DynamoDB action ``event`` calls for, e.g. ``"dynamodb:Scan"``: it depends on the
    method or action only. Raises ``BadRequest`` for a method or action the app does not offer.
    """
    return DYNAMODB_ACTIONS[operation_of(event)]


# --- reading the event ----------------------------------------------------------------------
def operation_of(event) -> str:
    """Which operation (a key of DYNAMODB_ACTIONS) ``event`` asks for."""
    if not isinstance(event, dict):
        raise BadRequest("The event must be a JSON object.")
    if "httpMethod" in event:
        method = str(event["httpMethod"]).upper()
        if method == "GET":
            return "get" if _path_or_query_id(event) else "list"
        if method not in _METHOD_OPERATIONS:
            raise BadRequest(f"The method {method} is not supported on /notes.", status=405)
        return _METHOD_OPERATIONS[method]
    if "action" in event:
        if event["action"] not in DYNAMODB_ACTIONS:
            raise BadRequest(
                f"Unknown action {event['action']!r}: use one of {', '.join(DYNAMODB_ACTIONS)}."
            )
        return event["action"]
    raise BadRequest(
        "The event is neither an API Gateway request (httpMethod) nor a direct invocation (action)."
    )


_METHOD_OPERATIONS = {"POST": "add", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def parse(event) -> Request:
    """What ``event`` asks for, checked: the function refuses anything else with a 4xx."""
    operation = operation_of(event)
    if "httpMethod" in event:
        fields = {} if operation in ("list", "get", "delete") else _json_body(event)
        note_id = _path_or_query_id(event) or (
            _json_body(event).get(KEY) if operation != "list" else None
        )
    else:
        fields = event.get("note")
        if fields is None:
            fields = {name: value for name, value in event.items() if name != "action"}
        if not isinstance(fields, dict):
            raise BadRequest("The note must be a JSON object.")
        note_id = fields.get(KEY)
    fields = {
        name: _as_text(value) for name, value in fields.items() if name != KEY and value is not None
    }
    note_id = _as_text(note_id) if note_id not in (None, "") else None
    if operation in ("get", "update", "delete") and not note_id:
        raise BadRequest(f"Give the note's {KEY} to {operation} it.")
    if operation in ("add", "update") and not fields:
        raise BadRequest(f"Give the note at least one field besides {KEY}.")
    return Request(operation, note_id, fields)


def _path_or_query_id(event: dict):
    return (event.get("pathParameters") or {}).get(KEY) or (
        event.get("queryStringParameters") or {}
    ).get(KEY)


def _json_body(event: dict) -> dict:
    raw = event.get("body")
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):  # a test console may pass the body already decoded
        return raw
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _as_text(value) -> str:
    """Every field is stored as a string, as in the workshop's original app."""
    return value if isinstance(value, str) else json.dumps(value)


# --- the operations -------------------------------------------------------------------------
_clients: dict[tuple, object] = {}


def dynamodb(region: str):
    """A DynamoDB client for ``region``, reused by later invocations of a warm function.

    boto3 reads ``AWS_ENDPOINT_URL`` from the environment, so the same code talks to a local
    DynamoDB when one is configured; the cache key includes it for that reason.
    """
    key = (region, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    if key not in _clients:
        _clients[key] = boto3.session.Session(region_name=region).client("dynamodb")
    return _clients[key]


def add_note(client, table_name: str, request: Request) -> tuple[int, dict]:
    note = {KEY: request.note_id or str(uuid.uuid4()), **request.fields}
    client.put_item(TableName=table_name, Item=_item(note))
    return 201, note


def list_notes(client, table_name: str, request: Request) -> tuple[int, list]:
    notes, start = [], {}
    while True:
        page = client.scan(TableName=table_name, **start)
        notes.extend(_note(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    return 200, sorted(notes, key=lambda note: str(note.get(KEY)))


def get_note(client, table_name: str, request: Request) -> tuple[int, dict]:
    found = client.get_item(TableName=table_name, Key=_key(request.note_id)).get("Item")
    if not found:
        return _not_found(request.note_id)
    return 200, _note(found)


def update_note(client, table_name: str, request: Request) -> tuple[int, dict]:
    names = {f"#f{index}": name for index, name in enumerate(request.fields)}
    values = {f":v{index}": {"S": value} for index, value in enumerate(request.fields.values())}
    assignments = ", ".join(f"{name} = :v{index}" for index, name in enumerate(names))
    try:
        updated = client.update_item(
            TableName=table_name,
            Key=_key(request.note_id),
            UpdateExpression=f"SET {assignments}",
            # Without the condition UpdateItem would quietly create a note that never existed.
            ConditionExpression="attribute_exists(#key)",
            ExpressionAttributeNames={**names, "#key": KEY},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return _not_found(request.note_id)
        raise
    return 200, _note(updated["Attributes"])


def delete_note(client, table_name: str, request: Request) -> tuple[int, dict]:
    deleted = client.delete_item(
        TableName=table_name, Key=_key(request.note_id), ReturnValues="ALL_OLD"
    ).get("Attributes")
    if not deleted:
        return _not_found(request.note_id)
    return 200, {"deleted": _note(deleted)}


OPERATIONS = {
    "add": add_note,
    "list": list_notes,
    "get": get_note,
    "update": update_note,
    "delete": delete_note,
}


# --- small pieces ---------------------------------------------------------------------------
def _key(note_id: str) -> dict:
    return {KEY: {"S": note_id}}


def _item(note: dict) -> dict:
    return {name: {"S": value} for name, value in note.items()}


_deserializer = TypeDeserializer()


def _note(item: dict) -> dict:
    """A DynamoDB item as plain JSON values (notes written elsewhere may hold other types)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(member) for member in value)
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, dict):
        return {name: _plain(member) for name, member in value.items()}
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    return value


def _not_found(note_id: str) -> tuple[int, dict]:
    return 404, {"message": f"There is no note with {KEY} {note_id}."}


def respond(status: int, body) -> dict:
    """An API Gateway proxy response."""
    return {"statusCode": status, "headers": dict(CORS_HEADERS), "body": json.dumps(body)}
