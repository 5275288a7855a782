"""The exercises of chapters 01–07: what the learner writes, judged as "Check your work" is.

Each exercise is plain data: its chapter, its key (the catalogue's ``exercises.<key>_…``
texts: the task, the hint, why the solution is right), its solution — the one source both the
learner's "Show solution" button and the instructor's ``python -m helpers solutions`` read —
and a ``judge`` that turns an answer into ``Check`` rows. Answers may be Python values or the
same thing as JSON text; an answer the judge cannot read is a red row, never a traceback.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass

from helpers.aws import api as note_api
from helpers.aws import endpoints, functions, networking, reachability, tables
from helpers.aws.checks import Check
from helpers.aws.policy import NOTE_APP_ACTIONS, PolicyKind, policy_permits, request_context
from helpers.core.errors import LabError
from helpers.core.messages import t

# Chapter 01: a subnet of 256 addresses (AWS: a subnet's block is between /16 and /28).
SUBNET_PREFIX = 24
# Chapter 03: the note the update exercise starts from, and the text it must end with.
NOTE_WITH_DATE = {
    "action": "add",
    "id": "1",
    "text": "Buy milk",
    "created_at": "2026-01-05T09:00:00Z",
}
UPDATED_TEXT = "Buy oat milk"
# Chapter 06: the note the request body must add.
WANTED_NOTE = {"title": "Groceries", "text": "Buy milk"}
# Chapter 02: a table the note app does not use, which the policy must keep out.
OTHER_TABLE = "other_tbl"


@dataclass(frozen=True)
class Exercise:
    chapter: str
    key: str
    solve: Callable[[], object]  # what the learner would write (some depend on their lab)
    judge: Callable[[object], list[Check]]

    @property
    def solution(self) -> object:
        return self.solve()

    @property
    def task(self) -> str:
        return t(f"exercises.{self.key}_task")

    @property
    def hint(self) -> str:
        return t(f"exercises.{self.key}_hint")

    @property
    def why(self) -> str:
        """Why the solution is right (shown with it)."""
        return t(f"exercises.{self.key}_why")

    def solution_text(self) -> str:
        return shown(self.solution)


def shown(answer) -> str:
    """An answer as the learner would type it: text as is, anything else as JSON."""
    if isinstance(answer, str):
        return answer
    return json.dumps(answer, indent=2, ensure_ascii=False)


def is_empty(answer) -> bool:
    """Nothing written: the exercise cell's ``answer = ""`` left as it is (or None, {}, [])."""
    if isinstance(answer, str):
        return not answer.strip()
    return answer is None or (isinstance(answer, dict | list) and not answer)


def _readable(answer, kind: type):
    """``answer`` as a ``kind`` (dict or list), read from JSON text if needed; None if it is not
    one."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return None
    return answer if isinstance(answer, kind) else None


def _unreadable(kind_key: str, answer) -> list[Check]:
    return [Check(t(kind_key), False, t("exercises.cannot_read", answer=shown(answer)[:200]))]


# --- 01: a subnet CIDR that fits ------------------------------------------------------------
def judge_subnet_cidr(answer) -> list[Check]:
    """A /24 for a new subnet: a network address, inside the lab VPC, overlapping no subnet.

    AWS ("Subnet CIDR blocks", Amazon VPC User Guide): a subnet's block is a subset of the
    VPC's, and the blocks of a VPC's subnets cannot overlap.
    """
    vpc = networking.find_lab_vpc()
    if vpc is None:
        raise LabError("networking.no_network")
    text = str(answer).strip()
    try:
        block = ipaddress.IPv4Network(text)
    except ValueError:
        return _unreadable("exercises.subnet_cidr_check_block", text)
    vpc_cidr = vpc["CidrBlock"]
    vpc_block = ipaddress.IPv4Network(vpc_cidr)
    subnets = networking.describe_subnets(vpc["VpcId"])
    overlapping = [
        s["CidrBlock"] for s in subnets if block.overlaps(ipaddress.IPv4Network(s["CidrBlock"]))
    ]
    return [
        Check(t("exercises.subnet_cidr_check_block"), True, str(block)),
        Check(
            t("exercises.subnet_cidr_check_size", prefix=SUBNET_PREFIX),
            block.prefixlen == SUBNET_PREFIX,
            f"/{block.prefixlen}",
        ),
        Check(
            t("exercises.subnet_cidr_check_inside", vpc=vpc_cidr),
            block.subnet_of(vpc_block),
            vpc_cidr,
        ),
        Check(
            t("exercises.subnet_cidr_check_free"),
            not overlapping,
            ", ".join(overlapping) or ", ".join(s["CidrBlock"] for s in subnets),
        ),
    ]


# --- 02: an endpoint policy for the note app's table only ------------------------------------
def judge_endpoint_policy(answer) -> list[Check]:
    """An endpoint policy that lets the note app's calls on its table through, and no call on
    another table: judged by the lab's policy evaluator, as the endpoint would."""
    document = _readable(answer, dict)
    if document is None:
        return _unreadable("exercises.endpoint_policy_check_valid", answer)
    try:
        endpoints.parse_policy(json.dumps(document))
    except LabError as refusal:
        return [Check(t("exercises.endpoint_policy_check_valid"), False, refusal.message)]
    context = request_context(endpoints.note_app_role_arn())

    def refused(table: str) -> list[str]:
        arn = functions.table_arn(table)
        return [
            action
            for action in NOTE_APP_ACTIONS
            if not policy_permits(document, PolicyKind.ENDPOINT, action, arn, context)
        ]

    missing = refused(tables.DEFAULT_TABLE_NAME)
    let_through = sorted(set(NOTE_APP_ACTIONS) - set(refused(OTHER_TABLE)))
    return [
        Check(t("exercises.endpoint_policy_check_valid"), True, "InvalidPolicyDocument: -"),
        Check(
            t("exercises.endpoint_policy_check_note_app", table=tables.DEFAULT_TABLE_NAME),
            not missing,
            ", ".join(missing) or ", ".join(NOTE_APP_ACTIONS),
        ),
        Check(
            t("exercises.endpoint_policy_check_other", table=OTHER_TABLE),
            not let_through,
            ", ".join(let_through) or "-",
        ),
    ]


# --- 03: an update that keeps created_at ----------------------------------------------------
def judge_keep_created_at(answer) -> list[Check]:
    """The event that changes note 1's text, rehearsed after a note with ``created_at``: the
    note must end with the new text and its ``created_at``.

    AWS (DynamoDB API Reference, PutItem): "If an item that has the same primary key as the new
    item already exists in the specified table, the new item completely replaces the existing
    item"; UpdateItem "Edits an existing item's attributes".
    """
    event = _readable(answer, dict)
    if event is None:
        return _unreadable("exercises.keep_created_at_check_answered", answer)
    answers = functions.rehearse([NOTE_WITH_DATE, event, {"action": "get", "id": "1"}])
    (_, reply), (_, after) = answers[1], answers[2]
    note = json.loads(after["body"]) if after["statusCode"] == 200 else {}
    return [
        Check(
            t("exercises.keep_created_at_check_answered"),
            200 <= reply["statusCode"] < 300,
            f"{reply['statusCode']} {reply['body']}",
        ),
        Check(
            t("exercises.keep_created_at_check_text", text=UPDATED_TEXT),
            note.get("text") == UPDATED_TEXT,
            str(note.get("text", "-")),
        ),
        Check(
            t("exercises.keep_created_at_check_date"),
            note.get("created_at") == NOTE_WITH_DATE["created_at"],
            str(note.get("created_at", t("exercises.lost"))),
        ),
    ]


# --- 04: the role's DynamoDB actions --------------------------------------------------------
def judge_role_actions(answer) -> list[Check]:
    """The actions of the role's table policy: every one the handler calls, and only those.

    AWS ("Security best practices in IAM", IAM User Guide): grant least privilege — only the
    permissions required to perform a task.
    """
    actions = _readable(answer, list)
    if actions is None or not all(isinstance(action, str) for action in actions):
        return _unreadable("exercises.role_actions_check_list", answer)
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    context = request_context(endpoints.note_app_role_arn())
    arn = functions.table_arn(tables.DEFAULT_TABLE_NAME)
    missing = [
        action
        for action in NOTE_APP_ACTIONS
        if not policy_permits(document, PolicyKind.IDENTITY, action, arn, context)
    ]
    needed = {action.lower() for action in NOTE_APP_ACTIONS}  # action names ignore case
    extra = [action for action in actions if action.lower() not in needed]
    return [
        Check(t("exercises.role_actions_check_list"), True, ", ".join(actions) or "-"),
        Check(t("exercises.role_actions_check_every"), not missing, ", ".join(missing) or "-"),
        Check(t("exercises.role_actions_check_only"), not extra, ", ".join(extra) or "-"),
    ]


# --- 05: the key of a GetItem ---------------------------------------------------------------
def judge_get_item_key(answer) -> list[Check]:
    """GetItem's ``Key`` for note ``first``, in DynamoDB JSON, against the lab table's schema.

    AWS (DynamoDB API Reference, GetItem): "you must provide all of the attributes" of the
    primary key; a key that does not fit is refused with ValidationException "The provided key
    element does not match the schema".
    """
    table = tables.find_lab_table()
    if table is None:
        raise LabError("exercises.no_table")
    schema = [key["AttributeName"] for key in table["KeySchema"]]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    key = _readable(answer, dict)
    if key is None:
        return _unreadable("exercises.get_item_key_check_names", answer)
    typed = {
        name: next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None
        for name, value in key.items()
    }
    wrong_types = [f"{n}: {typed[n] or '?'}" for n in key if typed[n] != types.get(n)]
    return [
        Check(
            t("exercises.get_item_key_check_names", names=", ".join(schema)),
            sorted(key) == sorted(schema),
            ", ".join(key) or "-",
        ),
        Check(
            t("exercises.get_item_key_check_types"),
            bool(key) and not wrong_types,
            ", ".join(wrong_types) or ", ".join(f"{n}: {types.get(n)}" for n in schema),
        ),
        Check(
            t("exercises.get_item_key_check_note"),
            key.get(schema[0]) == {types.get(schema[0]): "first"},
            shown(key.get(schema[0], "-")),
        ),
    ]


# --- 06: a request body ---------------------------------------------------------------------
def judge_request_body(answer) -> list[Check]:
    """The body of a ``POST /notes``, sent to the lab's API: it must add the wanted note."""
    body = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    response = note_api.request("POST", body=body)
    saved = response.json if isinstance(response.json, dict) else {}
    message = saved.get("message") or response.body[:200]
    return [
        Check(
            t("exercises.request_body_check_created"),
            response.status == 201,
            f"{response.status} {message}",
        ),
        Check(
            t("exercises.request_body_check_fields", **WANTED_NOTE),
            all(saved.get(name) == value for name, value in WANTED_NOTE.items()),
            ", ".join(f"{name}={saved.get(name, '-')}" for name in WANTED_NOTE),
        ),
    ]


# --- 07: which hop is broken ----------------------------------------------------------------
def free_subnet_block() -> str:
    """Chapter 01's solution: the first /24 of the learner's own VPC that none of its subnets
    uses; before any lab exists (an instructor printing the solutions), that of the workshop's
    network as the VPC form would plan it."""
    found = networking.find_lab_vpc()
    if found is None:
        plan = networking.plan_network(networking.DEFAULT_CHOICES, ["a"])
        vpc, taken = plan.cidr, [subnet.cidr for subnet in plan.subnets]
    else:  # every subnet of the VPC takes its block, the lab's or not
        vpc = found["CidrBlock"]
        taken = [subnet["CidrBlock"] for subnet in networking.describe_subnets(found["VpcId"])]
    used = [ipaddress.IPv4Network(block) for block in taken]
    return next(
        str(block)
        for block in ipaddress.IPv4Network(vpc).subnets(new_prefix=SUBNET_PREFIX)
        if not any(block.overlaps(other) for other in used)
    )


def fixed(solution: object) -> Callable[[], object]:
    """A solution that is the same for every learner (a fresh copy each time it is shown)."""
    return lambda: json.loads(json.dumps(solution))


def judge_broken_hop(answer) -> list[Check]:
    """The hop the learner names must be the path walk's first red hop (its key, e.g.
    ``route``, or its title as the explainer shows it)."""
    verdict = reachability.explain()
    broken = verdict.first_failed
    if broken is None:
        return [Check(t("exercises.broken_hop_check_broken"), False, t("exercises.path_whole"))]
    named = str(answer).strip().lower()
    return [
        Check(t("exercises.broken_hop_check_broken"), True, f"{broken.key}: {broken.reason}"),
        Check(
            t("exercises.broken_hop_check_named"),
            named in {broken.key, broken.key.replace("_", " "), broken.title.lower()},
            str(answer).strip() or "-",
        ),
    ]


EXERCISES: tuple[Exercise, ...] = (
    Exercise("01", "subnet_cidr", free_subnet_block, judge_subnet_cidr),
    Exercise(
        "02",
        "endpoint_policy",
        fixed(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": list(NOTE_APP_ACTIONS),
                        "Resource": f"arn:aws:dynamodb:*:*:table/{tables.DEFAULT_TABLE_NAME}",
                    }
                ],
            }
        ),
        judge_endpoint_policy,
    ),
    Exercise(
        "03",
        "keep_created_at",
        fixed({"action": "update", "id": "1", "text": UPDATED_TEXT}),
        judge_keep_created_at,
    ),
    Exercise("04", "role_actions", fixed(list(NOTE_APP_ACTIONS)), judge_role_actions),
    Exercise(
        "05", "get_item_key", fixed({tables.PARTITION_KEY: {"S": "first"}}), judge_get_item_key
    ),
    Exercise("06", "request_body", fixed(json.dumps(WANTED_NOTE)), judge_request_body),
    Exercise("07", "broken_hop", fixed("route"), judge_broken_hop),
)


def exercise(key: str) -> Exercise:
    for candidate in EXERCISES:
        if candidate.key == key:
            return candidate
    raise LabError("exercises.unknown", exercise=key, choices=", ".join(e.key for e in EXERCISES))


def of_chapter(number: str) -> list[Exercise]:
    return [candidate for candidate in EXERCISES if candidate.chapter == number]
