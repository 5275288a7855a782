"""Does a policy let the note app's function do a DynamoDB action? IAM's answer, without AWS.

A DynamoDB request from the function must pass two policies: the execution role's (identity-
based) and, on the gateway endpoint's path, the endpoint's. The embedded backend enforces
neither, so the lab decides both here, with moto's IAM evaluator fed documents in the shape it
understands — for the explainer's policy hops, the endpoint form's warning and, call by call,
the invoker's sandbox. Which policy refused is returned as data (a ``Refusal``); AWS's own
words are made from it only for the ``AccessDeniedException`` the handler receives.

This module knows nothing of routes, endpoints or functions, so any domain module may use it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from moto.iam.access_control import IAMPolicy, PermissionResult

from note_app.handler import DYNAMODB_ACTIONS

# What the note app calls on DynamoDB, from its handler (the one place it is written down):
# what the execution role and the endpoint policy must both allow.
NOTE_APP_ACTIONS = tuple(sorted(set(DYNAMODB_ACTIONS.values())))

PERMITTED, DENIED, NEUTRAL = (
    PermissionResult.PERMITTED,
    PermissionResult.DENIED,
    PermissionResult.NEUTRAL,
)


class PolicyKind(StrEnum):
    """The kinds of policy that can refuse the function's DynamoDB request."""

    IDENTITY = "identity"  # the execution role's policies, inline and attached
    ENDPOINT = "endpoint"  # the VPC endpoint's policy


# How AWS's AccessDeniedException words a refusal by each kind of policy.
_EXPLICIT_DENY = {
    PolicyKind.IDENTITY: "with an explicit deny in an identity-based policy",
    PolicyKind.ENDPOINT: "with an explicit deny in a VPC endpoint policy",
}
_NO_ALLOW = {
    PolicyKind.IDENTITY: "because no identity-based policy allows the {action} action",
    PolicyKind.ENDPOINT: "because no VPC endpoint policy allows the {action} action",
}


@dataclass(frozen=True)
class Refusal:
    """Which policy refuses ``action`` on ``resource``, and how."""

    policy: PolicyKind
    explicit: bool  # a Deny statement matched; otherwise no statement allowed the request
    action: str
    resource: str

    def message(self, caller: str) -> str:
        """AWS's AccessDeniedException message, ``caller`` being the session ARN."""
        because = (
            _EXPLICIT_DENY[self.policy]
            if self.explicit
            else _NO_ALLOW[self.policy].format(action=self.action)
        )
        return (
            f"User: {caller} is not authorized to perform: {self.action} "
            f"on resource: {self.resource} {because}"
        )


def _first_refusal(
    results: list[tuple[PolicyKind, PermissionResult]], action: str, resource: str
) -> Refusal | None:
    """An explicit deny anywhere comes first, then a policy without an allow; in each, the
    first policy of ``results`` (AWS names the endpoint policy before the role's)."""
    for explicit in (True, False):
        for kind, result in results:
            if (result == DENIED) if explicit else (result != PERMITTED):
                return Refusal(kind, explicit, action, resource)
    return None


@dataclass
class Authorizer:
    """The two policies a DynamoDB request must pass (endpoint policy only on the endpoint path).

    Plain JSON-able data, so the invoker's sandboxed handler decides each call with it.
    """

    principal_arn: str  # the execution role
    session_arn: str  # how DynamoDB names the caller: the role's session for the function
    role_policies: list[list] = field(default_factory=list)  # [policy name, document] pairs
    endpoint_id: str | None = None
    endpoint_policy: dict | None = None
    context: dict = field(default_factory=dict)  # condition keys (lower case) → values

    def _role_result(self, action: str, resource: str) -> PermissionResult:
        return _evaluate(
            [document for _, document in self.role_policies],
            action,
            resource,
            self.principal_arn,
            self.context,
        )

    def _endpoint_result(self, action: str, resource: str) -> PermissionResult:
        if self.endpoint_policy is None:  # not on the endpoint path: no endpoint policy applies
            return PERMITTED
        return _evaluate([self.endpoint_policy], action, resource, self.principal_arn, self.context)

    def refusal(self, action: str, resource: str) -> Refusal | None:
        """The policy that refuses the function's DynamoDB request, or None if both allow it."""
        return _first_refusal(
            [
                (PolicyKind.ENDPOINT, self._endpoint_result(action, resource)),
                (PolicyKind.IDENTITY, self._role_result(action, resource)),
            ],
            action,
            resource,
        )

    def role_refusal(self, action: str, resource: str) -> Refusal | None:
        """The role's refusal alone: for what Lambda itself does with the role (e.g. attaching
        the function to a VPC), which never passes the endpoint."""
        return _first_refusal(
            [(PolicyKind.IDENTITY, self._role_result(action, resource))], action, resource
        )

    def denial(self, action: str, resource: str) -> str | None:
        """AWS's AccessDeniedException message for ``action`` on ``resource``, or None."""
        refusal = self.refusal(action, resource)
        return refusal.message(self.session_arn) if refusal else None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Authorizer:
        return cls(**data)


def policy_permits(document: dict, action: str, resource: str, principal_arn: str) -> bool:
    """Whether ``document`` on its own lets ``principal_arn`` do ``action`` on ``resource``."""
    return _evaluate([document], action, resource, principal_arn, {}) == PERMITTED


# --- moto's IAM evaluator, fed documents in the shape it understands ---------------------------
def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, principal_arn: str) -> bool:
    if principal is None or principal == "*":
        return True
    if not isinstance(principal, dict) or "AWS" not in principal:
        return False  # a service or federated principal is never the function's role
    account = principal_arn.split(":")[4]
    accepted = {"*", principal_arn, account, f"arn:aws:iam::{account}:root"}
    return any(p in accepted for p in _as_list(principal["AWS"]))


def _for_moto(document: dict, principal_arn: str) -> list[dict]:
    """The statements of ``document`` that concern the role, in the shape moto's evaluator reads.

    IAM matches actions and condition keys case-insensitively while moto compares them
    exactly, so both are lower-cased (and so is the action asked about). Principals are
    matched here, because moto treats a statement for another principal as a deny.
    """
    statements = []
    for statement in _as_list(document.get("Statement", [])):
        if not _principal_matches(statement.get("Principal"), principal_arn):
            continue
        statement = {k: v for k, v in statement.items() if k != "Principal"}
        for key in ("Action", "NotAction"):
            if key in statement:
                statement[key] = [a.lower() for a in _as_list(statement[key])]
        if "Condition" in statement:
            statement["Condition"] = {
                op: {k.lower(): v for k, v in values.items()}
                for op, values in statement["Condition"].items()
            }
        statements.append(statement)
    return statements


def _applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    """Whether ``statement`` matches the request (action, resource and conditions).

    moto answers "denied" both for a matching Deny and for any statement whose condition is
    not met; asking about the statement as an Allow separates the two: PERMITTED means it
    matches, whatever its real effect.
    """
    probe = {"Version": "2012-10-17", "Statement": [{**statement, "Effect": "Allow"}]}
    return (
        IAMPolicy(json.dumps(probe)).is_action_permitted(action.lower(), resource, None, context)
        == PERMITTED
    )


def _evaluate(
    documents: list[dict], action: str, resource: str, principal_arn: str, context: dict
) -> PermissionResult:
    """Explicit deny wins, then any allow, else neutral (an implicit deny)."""
    matching = [
        statement
        for document in documents
        for statement in _for_moto(document, principal_arn)
        if _applies(statement, action, resource, context)
    ]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return DENIED
    return PERMITTED if matching else NEUTRAL
