"""Chapter 07's last exercise: lock the note table to the lab's gateway endpoint.

A DynamoDB table can carry a resource-based policy ("Using resource-based policies for
DynamoDB"). One that denies the table's data actions unless ``aws:SourceVpce`` is the lab's
endpoint lets the note app in (its calls come through the endpoint) and keeps everyone else out
— the learner's own notebook included, as a call "from outside the VPC" shows.

The embedded backend stores the policy but enforces nothing, so ``call_from_outside`` judges a
call from the notebook with ``helpers.aws.policy`` first, answering AWS's own
``AccessDeniedException``; on a real account AWS answers itself. Only data actions are locked:
the lab's clean-up (``DeleteTable``) and this module's own policy calls stay open, so the lock can
never strand the learner's table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from botocore.exceptions import ClientError

from helpers.aws import endpoints, reachability
from helpers.aws.functions import find_lab_function
from helpers.aws.policy import (
    PolicyKind,
    policy_denies,
    request_context,
    statements,
    unsupported_condition,
)
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError, aws_error_code, json_problem, none_if_missing
from helpers.core.settings import current

# The table's data actions ("Amazon DynamoDB API permissions: Actions, resources, and conditions
# reference"): what the lock denies from outside the endpoint.
DATA_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
# What the learner's own notebook must keep: clean-up, and taking the lock off again.
KEPT_OPEN = ("dynamodb:DeleteTable", "dynamodb:DeleteResourcePolicy", "dynamodb:PutResourcePolicy")
OUTSIDE_ACTION = "dynamodb:Scan"


def _lab_table_and_endpoint() -> tuple[str, dict]:
    """The ARN of the table the lab's function uses, and the lab's endpoint."""
    found = endpoints.find_lab_endpoint()
    function = find_lab_function()
    table_arn = reachability.function_table_arn(function) if function else None
    if found is None:
        raise LabError("reachability.nothing_to_break")
    if table_arn is None:
        raise LabError("reachability.no_table")
    return table_arn, found


def lock_policy(table_arn: str, endpoint_id: str) -> dict:
    """The lab's answer: deny the data actions unless the call comes through ``endpoint_id``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThroughTheLabsEndpoint",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(DATA_ACTIONS),
                "Resource": table_arn,
                "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint_id}},
            }
        ],
    }


def _dynamodb(table_arn: str):
    """A DynamoDB client for the table's region (the function may use a table elsewhere)."""
    return client("dynamodb", replace(current(), region=table_arn.split(":")[3]))


def lab_lock_policy() -> dict:
    """``lock_policy`` for the table the lab's function uses and the lab's endpoint."""
    table_arn, found = _lab_table_and_endpoint()
    return lock_policy(table_arn, found["VpcEndpointId"])


def _caller_arn() -> str:
    """Who the learner's notebook calls AWS as (its ``aws:PrincipalArn``)."""
    return client("sts").get_caller_identity()["Arn"]


def check_policy(document: dict, table_arn: str) -> None:
    """Refuse, with a LabError, a table policy AWS would refuse or that would lock clean-up out."""
    if not statements(document):
        raise LabError("table_lock.no_statement", field="policy")
    for number, statement in enumerate(statements(document), start=1):
        if "Principal" not in statement:  # a resource-based policy names who it is about
            raise LabError("table_lock.no_principal", field="policy", number=number)
    unsupported = unsupported_condition(document)
    if unsupported:
        raise unsupported
    outside = request_context(_caller_arn())
    blocked = [
        action
        for action in KEPT_OPEN
        if policy_denies(document, PolicyKind.RESOURCE, action, table_arn, outside)
    ]
    if blocked:
        raise LabError("table_lock.blocks_cleanup", field="policy", actions=", ".join(blocked))


def lock_table(policy: dict | str | None = None) -> dict:
    """Put ``policy`` (default: ``lock_policy`` for the lab's table and endpoint) on the table
    the lab's function uses; returns the policy now on the table."""
    table_arn, found = _lab_table_and_endpoint()
    if policy is None:
        document = lock_policy(table_arn, found["VpcEndpointId"])
    elif isinstance(policy, str):
        try:
            document = json.loads(policy)
        except json.JSONDecodeError as error:
            raise LabError(
                "table_lock.not_json", field="policy", problem=json_problem(error)
            ) from None
    else:
        document = policy
    with friendly_errors():
        check_policy(document, table_arn)
        _dynamodb(table_arn).put_resource_policy(ResourceArn=table_arn, Policy=json.dumps(document))
    return document


def unlock_table() -> bool:
    """Take the table's policy off; False if it had none."""
    table_arn, _ = _lab_table_and_endpoint()
    with friendly_errors():
        removed = none_if_missing(
            lambda: _dynamodb(table_arn).delete_resource_policy(ResourceArn=table_arn),
            "PolicyNotFoundException",
        )
    return removed is not None


def table_policy(table_arn: str) -> dict | None:
    text = none_if_missing(
        lambda: _dynamodb(table_arn).get_resource_policy(ResourceArn=table_arn)["Policy"],
        "PolicyNotFoundException",
    )
    return json.loads(text) if text else None


@dataclass(frozen=True)
class OutsideCall:
    """What DynamoDB answered a call from the learner's notebook, outside the VPC."""

    caller: str
    action: str
    table_arn: str
    allowed: bool
    code: str | None = None  # AWS's error code when refused
    message: str | None = None
    items: int | None = None  # how many items the Scan counted, when allowed


def call_from_outside() -> OutsideCall:
    """Scan the note table from the notebook: a call that does not come through the endpoint."""
    table_arn, _ = _lab_table_and_endpoint()
    with friendly_errors():
        caller = _caller_arn()
        document = table_policy(table_arn)
        if document and not current().is_real_aws:
            context = request_context(caller)
            unsupported = unsupported_condition(document)
            if unsupported:
                raise unsupported
            if policy_denies(document, PolicyKind.RESOURCE, OUTSIDE_ACTION, table_arn, context):
                message = (
                    f"User: {caller} is not authorized to perform: {OUTSIDE_ACTION} on resource: "
                    f"{table_arn} with an explicit deny in a resource-based policy"
                )
                return OutsideCall(
                    caller, OUTSIDE_ACTION, table_arn, False, "AccessDeniedException", message
                )
        try:
            answer = _dynamodb(table_arn).scan(TableName=table_arn.split("/")[-1], Select="COUNT")
        except ClientError as error:
            return OutsideCall(
                caller,
                OUTSIDE_ACTION,
                table_arn,
                False,
                aws_error_code(error),
                error.response.get("Error", {}).get("Message", ""),
            )
    return OutsideCall(caller, OUTSIDE_ACTION, table_arn, True, items=answer["Count"])
