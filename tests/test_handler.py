"""The note app's handler, run in-process against the test session's DynamoDB (moto server).

The handler builds its client with plain boto3; ``AWS_ENDPOINT_URL`` points it at the
session's backend, as the lab's invoker does.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from helpers.core import backend
from helpers.core.clients import client
from note_app import handler


@pytest.fixture
def notes_table(lab_home, monkeypatch):
    """A table of its own for each test (cheaper than emptying the whole backend)."""
    name = f"notes_{uuid.uuid4().hex[:12]}"
    running = backend.start(lab_home)  # the handler, run here, calls it with its keys
    monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", running.keys["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", running.keys["aws_secret_access_key"])
    monkeypatch.setenv(handler.TABLE_NAME_VARIABLE, name)
    monkeypatch.setenv(handler.REGION_VARIABLE, "us-east-1")
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client("dynamodb").delete_table(TableName=name)


def stored(table: str, note_id: str) -> dict | None:
    return client("dynamodb").get_item(TableName=table, Key={"id": {"S": note_id}}).get("Item")


def all_ids(table: str) -> set[str]:
    return {item["id"]["S"] for item in client("dynamodb").scan(TableName=table)["Items"]}


def api(method: str, body=None, path_id=None, query=None) -> dict:
    event = {
        "httpMethod": method,
        "resource": "/notes/{id}" if path_id else "/notes",
        "path": f"/notes/{path_id}" if path_id else "/notes",
        "pathParameters": {"id": path_id} if path_id else None,
        "queryStringParameters": query,
        "body": json.dumps(body) if body is not None else None,
    }
    return handler.lambda_handler(event, None)


def body(response: dict):
    return json.loads(response["body"])


# --- API Gateway proxy events -----------------------------------------------------------------
def test_post_stores_every_field_as_a_string_and_generates_an_id(notes_table):
    response = api("POST", {"title": "Shopping", "priority": 2, "done": False})
    assert response["statusCode"] == 201
    note = body(response)
    assert note["id"] and note["title"] == "Shopping"
    assert stored(notes_table, note["id"]) == {
        "id": {"S": note["id"]},
        "title": {"S": "Shopping"},
        "priority": {"S": "2"},
        "done": {"S": "false"},
    }


def test_post_keeps_the_id_it_is_given(notes_table):
    assert body(api("POST", {"id": "n1", "text": "hello"}))["id"] == "n1"
    assert stored(notes_table, "n1")["text"] == {"S": "hello"}


def test_get_lists_every_note_with_cors_headers(notes_table):
    api("POST", {"id": "b", "text": "second"})
    api("POST", {"id": "a", "text": "first"})
    response = api("GET")
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert body(response) == [{"id": "a", "text": "first"}, {"id": "b", "text": "second"}]


def test_get_with_an_id_returns_that_note_or_404(notes_table):
    api("POST", {"id": "n1", "text": "hello"})
    assert body(api("GET", path_id="n1")) == {"id": "n1", "text": "hello"}
    assert api("GET", query={"id": "missing"})["statusCode"] == 404


def test_put_updates_only_the_given_fields(notes_table):
    api("POST", {"id": "n1", "text": "hello", "tag": "home"})
    response = api("PUT", {"text": "changed"}, path_id="n1")
    assert response["statusCode"] == 200
    assert body(response) == {"id": "n1", "text": "changed", "tag": "home"}
    assert stored(notes_table, "n1")["text"] == {"S": "changed"}


def test_put_of_an_unknown_note_is_404_and_creates_nothing(notes_table):
    response = api("PUT", {"id": "ghost", "text": "boo"})
    assert response["statusCode"] == 404
    assert all_ids(notes_table) == set()


def test_delete_by_query_string_and_by_body(notes_table):
    api("POST", {"id": "n1", "text": "one"})
    api("POST", {"id": "n2", "text": "two"})
    assert api("DELETE", query={"id": "n1"})["statusCode"] == 200
    assert body(api("DELETE", {"id": "n2"})) == {"deleted": {"id": "n2", "text": "two"}}
    assert all_ids(notes_table) == set()


def test_delete_of_an_unknown_note_is_404(notes_table):
    assert api("DELETE", query={"id": "ghost"})["statusCode"] == 404


def test_base64_body_is_decoded(notes_table):
    event = {
        "httpMethod": "POST",
        "isBase64Encoded": True,
        "body": base64.b64encode(json.dumps({"id": "b64", "text": "x"}).encode()).decode(),
    }
    assert handler.lambda_handler(event, None)["statusCode"] == 201
    assert stored(notes_table, "b64")


@pytest.mark.parametrize(
    "event, status",
    [
        ({"httpMethod": "POST", "body": "{not json"}, 400),
        ({"httpMethod": "POST", "body": "[1, 2]"}, 400),
        ({"httpMethod": "POST", "body": json.dumps({"id": "only-id"})}, 400),
        ({"httpMethod": "DELETE"}, 400),
        ({"httpMethod": "PUT", "body": json.dumps({"text": "no id"})}, 400),
        ({"httpMethod": "OPTIONS"}, 405),
        ({"action": "shred"}, 400),
        ({"something": "else"}, 400),
    ],
)
def test_bad_requests_are_refused_without_touching_the_table(notes_table, event, status):
    response = handler.lambda_handler(event, None)
    assert response["statusCode"] == status
    assert body(response)["message"]
    assert all_ids(notes_table) == set()


def test_a_missing_environment_variable_is_named(notes_table, monkeypatch):
    monkeypatch.delenv(handler.TABLE_NAME_VARIABLE)
    response = api("GET")
    assert response["statusCode"] == 500
    assert handler.TABLE_NAME_VARIABLE in body(response)["message"]


def test_a_dynamodb_error_is_reported_with_its_code(notes_table, monkeypatch):
    monkeypatch.setenv(handler.TABLE_NAME_VARIABLE, "no_such_table")
    response = api("GET")
    assert response["statusCode"] == 500
    assert body(response)["error"] == "ResourceNotFoundException"


# --- direct invocations -------------------------------------------------------------------------
def test_direct_actions_add_list_update_delete(notes_table):
    added = body(handler.lambda_handler({"action": "add", "note": {"text": "direct"}}, None))
    note_id = added["id"]
    assert body(handler.lambda_handler({"action": "list"}, None)) == [added]
    updated = handler.lambda_handler({"action": "update", "id": note_id, "text": "edited"}, None)
    assert body(updated) == {"id": note_id, "text": "edited"}
    got = handler.lambda_handler({"action": "get", "id": note_id}, None)
    assert body(got)["text"] == "edited"
    assert handler.lambda_handler({"action": "delete", "id": note_id}, None)["statusCode"] == 200
    assert all_ids(notes_table) == set()


# --- which DynamoDB action an event needs ------------------------------------------------------
@pytest.mark.nobackend
@pytest.mark.parametrize(
    "event, action",
    [
        ({"httpMethod": "GET"}, "dynamodb:Scan"),
        ({"httpMethod": "GET", "pathParameters": {"id": "x"}}, "dynamodb:GetItem"),
        ({"httpMethod": "POST"}, "dynamodb:PutItem"),
        ({"httpMethod": "PUT"}, "dynamodb:UpdateItem"),
        ({"httpMethod": "DELETE"}, "dynamodb:DeleteItem"),
        ({"action": "add"}, "dynamodb:PutItem"),
        ({"action": "list"}, "dynamodb:Scan"),
        ({"action": "update"}, "dynamodb:UpdateItem"),
        ({"action": "delete"}, "dynamodb:DeleteItem"),
    ],
)
def test_dynamodb_action_names_the_call_an_event_needs(event, action):
    assert handler.dynamodb_action(event) == action


@pytest.mark.nobackend
@pytest.mark.parametrize("event", [{"httpMethod": "OPTIONS"}, {"action": "shred"}, {}, "text"])
def test_dynamodb_action_refuses_what_the_app_does_not_offer(event):
    with pytest.raises(handler.BadRequest):
        handler.dynamodb_action(event)
