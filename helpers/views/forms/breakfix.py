"""Chapter 07's "break it and fix it": change one thing on the path, watch the note app fail.

Each exercise is one helper call (or one choice in the form): it changes the lab's endpoint
through ``helpers.aws.endpoints`` (the same calls the learner's console clicks make), then sends
a note through the API and explains the path, so cause and symptom are seen side by side.
``restore`` puts back what the learner chose in chapter 02. The last exercise is a fix rather
than a break: ``lock_table`` locks the note table to the endpoint, and a call from the notebook
(outside the VPC) shows the lock working while the note app still writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

from helpers.aws import api, endpoints, networking, reachability, table_lock
from helpers.core import journal
from helpers.core.errors import LabError, problem_from
from helpers.core.messages import t
from helpers.views.forms.api import response_html
from helpers.views.forms.base import Field, FormModel, SubmitResult
from helpers.views.forms.endpoint import request_from_choices
from helpers.views.html import box
from helpers.views.path import html as path_html
from note_app.handler import DYNAMODB_ACTIONS

CHAPTER = "07"
EXERCISES = ("remove_route", "wrong_route_table", "read_only_policy", "lock_table", "restore")
TEST_NOTE = {"text": "Written through the private path"}
# What the test note asks of DynamoDB: writing it (what the exercises break), then listing it.
TEST_NOTE_ACTIONS = [DYNAMODB_ACTIONS["add"], DYNAMODB_ACTIONS["list"]]


@dataclass
class ExerciseResult:
    """What was changed, how the note app answered, and the path explained."""

    exercise: str
    change: str  # what was done, in the learner's words
    response: api.ApiResponse
    verdict: reachability.PathVerdict
    outside: table_lock.OutsideCall | None = None  # a call from the notebook, for the lock

    def html(self) -> str:
        return (
            box(self.change, "success", t(f"reachability.title_{self.exercise}"))
            + (outside_call_html(self.outside) if self.outside else "")
            + response_html(self.response)
            + path_html(self.verdict)
        )

    def _repr_html_(self) -> str:
        return self.html()


def _lab_endpoint_and_network() -> tuple[dict, networking.LabNetwork]:
    found = endpoints.find_lab_endpoint()
    network = networking.find_lab_network()
    if found is None or network is None:
        raise LabError("reachability.nothing_to_break")
    return found, network


def _attached(found: dict) -> list[str]:
    return list(found.get("RouteTableIds", []))


def read_only_policy(table_arn: str) -> dict:
    """An endpoint policy that lets the function read the table but not write it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOnlyNotes",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:Query"],
                "Resource": table_arn,
            }
        ],
    }


def outside_call_html(call: table_lock.OutsideCall) -> str:
    """What DynamoDB answered the notebook's own call, from outside the VPC."""
    title = t("table_lock.outside_title", action=call.action, caller=call.caller)
    if call.allowed:
        return box(t("table_lock.outside_allowed", items=call.items), "warning", title)
    return box(f"{call.code}: {call.message}", "success", title)


def lock_policy_html() -> str:
    policy = json.dumps(table_lock.lab_lock_policy(), indent=2)
    return f"<pre class='lab-policy'>{escape(policy)}</pre>"


def unlock_table_html() -> str:
    removed = table_lock.unlock_table()
    return box(t("table_lock.unlocked" if removed else "table_lock.was_not_locked"), "info")


def _try(
    exercise: str, change: str, outside: table_lock.OutsideCall | None = None
) -> ExerciseResult:
    """Send a note through the API (a write: every exercise shows on it) and explain the path."""
    response = api.request("POST", body=TEST_NOTE)
    return ExerciseResult(
        exercise,
        change,
        response,
        reachability.explain(actions=TEST_NOTE_ACTIONS),
        outside,
    )


def remove_route() -> ExerciseResult:
    """Detach the endpoint from the private route table(s): its route there disappears."""
    found, network = _lab_endpoint_and_network()
    endpoints.set_route_tables(found["VpcEndpointId"], remove=network.private_route_table_ids)
    return _try(
        "remove_route",
        t("reachability.did_remove_route", route_tables=", ".join(network.private_route_table_ids)),
    )


def wrong_route_table() -> ExerciseResult:
    """Attach the endpoint to the public route table instead of the private one."""
    found, network = _lab_endpoint_and_network()
    wrong = network.public_route_table_ids or [network.main_route_table_id]
    endpoints.set_route_tables(
        found["VpcEndpointId"], add=wrong, remove=network.private_route_table_ids
    )
    return _try(
        "wrong_route_table",
        t(
            "reachability.did_wrong_route_table",
            wrong=", ".join(wrong),
            right=", ".join(network.private_route_table_ids),
        ),
    )


def restrict_policy() -> ExerciseResult:
    """Give the endpoint a policy that allows reading the note table only."""
    found, _ = _lab_endpoint_and_network()
    verdict = reachability.explain()
    if verdict.table_arn is None:
        raise LabError("reachability.no_table")
    policy = read_only_policy(verdict.table_arn)
    endpoints.set_policy(found["VpcEndpointId"], policy)
    return _try(
        "read_only_policy", t("reachability.did_read_only_policy", policy=json.dumps(policy))
    )


def lock_table(policy: dict | str | None = None) -> ExerciseResult:
    """Lock the note table to the lab's endpoint (or put the learner's own ``policy`` on it),
    call the table from the notebook, then write a note through the note app."""
    document = table_lock.lock_table(policy)
    return _try(
        "lock_table",
        t("reachability.did_lock_table", policy=json.dumps(document, indent=2)),
        table_lock.call_from_outside(),
    )


def restore() -> ExerciseResult:
    """Put back the route tables and policy the learner chose in chapter 02."""
    found, _ = _lab_endpoint_and_network()
    wanted = request_from_choices(journal.choices(endpoints.CHAPTER))
    endpoint_id = found["VpcEndpointId"]
    endpoints.set_route_tables(
        endpoint_id,
        add=wanted.route_table_ids,
        remove=[i for i in _attached(found) if i not in wanted.route_table_ids],
    )
    endpoints.set_policy(endpoint_id, wanted.policy)
    return _try(
        "restore", t("reachability.did_restore", route_tables=", ".join(wanted.route_table_ids))
    )


# The break of chapter 07's diagnosis exercise (its solution, the hop it breaks, is in
# helpers.aws.exercises: "route").
MYSTERY_BREAK = "wrong_route_table"


def mystery_break() -> api.ApiResponse:
    """Break one hop without saying which: only the note app's answer is shown."""
    return ACTIONS[MYSTERY_BREAK]().response


ACTIONS = {
    "remove_route": remove_route,
    "wrong_route_table": wrong_route_table,
    "read_only_policy": restrict_policy,
    "lock_table": lock_table,
    "restore": restore,
}


class BreakFixForm(FormModel):
    """Pick an exercise and apply it; the last one puts everything back."""

    chapter = CHAPTER
    submit_label_key = "reachability.apply"

    def __init__(self, exercise: str = "restore"):
        self.fields = [
            Field(
                "exercise",
                "reachability.field_exercise",
                "choice",
                exercise,
                options=[(t(f"reachability.title_{key}"), key) for key in EXERCISES],
            )
        ]

    def check(self, values: dict) -> list:
        if values["exercise"] not in ACTIONS:
            return [
                problem_from(
                    LabError(
                        "reachability.unknown_exercise",
                        field="exercise",
                        exercise=values["exercise"],
                    )
                )
            ]
        # Every exercise changes the lab's endpoint: without it the click could only fail.
        if endpoints.find_lab_endpoint() is None or networking.find_lab_network() is None:
            return [problem_from(LabError("reachability.nothing_to_break"))]
        return []

    def preview(self, values: dict) -> str:
        return box(t(f"reachability.explain_{values['exercise']}"), "info")

    def action_label(self, values: dict) -> str:
        """The exercise itself ("Put it all back"): what a click does."""
        if values["exercise"] not in ACTIONS:
            return t(self.submit_label_key)
        return t(f"reachability.title_{values['exercise']}")

    def create(self, values: dict) -> SubmitResult:
        result = ACTIONS[values["exercise"]]()
        return SubmitResult(ok=True, created=False, resource=result, html=result.html())
