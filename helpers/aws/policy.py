"""Does a policy let the note app's function do a DynamoDB action? IAM's answer, without AWS.

A DynamoDB request from the function meets up to three policies: the execution role's
(identity-based), on the gateway endpoint's path the endpoint's, and the table's own
(resource-based) policy if it has one. The embedded backend enforces none of them, so the lab
decides them here — for the explainer's policy hops, the endpoint form's warning and, call by
call, the invoker's sandbox — the way IAM documents it:

- "Policy evaluation logic": an explicit deny in any policy wins; the role's policy must allow
  the action, and so must the endpoint policy on the endpoint's path.
- "Control access to VPC endpoints using endpoint policies", section "Principals for gateway
  endpoints": a gateway endpoint's policy grants an account id or ``arn:aws:iam::<account>:root``
  principal to the account's root user only; other principals are granted with ``"Principal":
  "*"`` and a condition on ``aws:PrincipalArn``.
- "IAM JSON policy elements: Condition operators": the operators of ``CONDITION_OPERATORS``, with
  ``…IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` qualifiers; a negated operator
  matches when the key is missing.

The lab evaluates only the condition keys a call from the note app carries (``CONTEXT_KEYS``);
a policy with another key or operator is refused with a clear ``LabError`` rather than guessed
at. A table policy is judged by its Deny statements: in one account, the role's own Allow is what
lets the note app in, so an Allow there adds nothing the lab must decide.

Which policy refused is returned as data (a ``Refusal``); AWS's own words are made from it only
for the ``AccessDeniedException`` the handler receives. This module knows nothing of routes,
endpoints or functions, so any domain module may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache

from helpers.core.errors import LabError
from note_app.handler import DYNAMODB_ACTIONS

# What the note app calls on DynamoDB, from its handler (the one place it is written down):
# what the execution role and the endpoint policy must both allow.
NOTE_APP_ACTIONS = tuple(sorted(set(DYNAMODB_ACTIONS.values())))


class PolicyKind(StrEnum):
    """The kinds of policy that can refuse the function's DynamoDB request."""

    IDENTITY = "identity"  # the execution role's policies, inline and attached
    ENDPOINT = "endpoint"  # the VPC endpoint's policy
    RESOURCE = "resource"  # the table's resource-based policy


class Result(StrEnum):
    PERMITTED = "permitted"
    DENIED = "denied"  # an explicit Deny matched
    NEUTRAL = "neutral"  # no statement matched: an implicit deny


PERMITTED, DENIED, NEUTRAL = Result.PERMITTED, Result.DENIED, Result.NEUTRAL

# How AWS's AccessDeniedException words a refusal by each kind of policy ("Access denied error
# messages", IAM User Guide).
_EXPLICIT_DENY = {
    PolicyKind.IDENTITY: "with an explicit deny in an identity-based policy",
    PolicyKind.ENDPOINT: "with an explicit deny in a VPC endpoint policy",
    PolicyKind.RESOURCE: "with an explicit deny in a resource-based policy",
}
_NO_ALLOW = {
    PolicyKind.IDENTITY: "because no identity-based policy allows the {action} action",
    PolicyKind.ENDPOINT: "because no VPC endpoint policy allows the {action} action",
}

# The global condition keys of a request from the note app (the only ones the lab evaluates),
# as IAM writes them; keys are matched case-insensitively.
CONTEXT_KEYS = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:SecureTransport",
)


def request_context(
    principal_arn: str, endpoint_id: str | None = None, vpc_id: str | None = None
) -> dict[str, str]:
    """The condition keys (lower case) of a DynamoDB call by ``principal_arn`` over HTTPS.

    ``aws:SourceVpce`` and ``aws:SourceVpc`` are present only on a VPC endpoint's path ("AWS
    global condition context keys").
    """
    context = {
        "aws:principalarn": principal_arn,
        "aws:principalaccount": principal_arn.split(":")[4],
        "aws:securetransport": "true",
    }
    if endpoint_id:
        context["aws:sourcevpce"] = endpoint_id
    if vpc_id:
        context["aws:sourcevpc"] = vpc_id
    return context


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
    results: list[tuple[PolicyKind, Result]], action: str, resource: str
) -> Refusal | None:
    """An explicit deny anywhere comes first, then a policy that must allow and does not; in
    each, the first policy of ``results`` (AWS names the endpoint policy before the role's)."""
    for kind, result in results:
        if result == DENIED:
            return Refusal(kind, True, action, resource)
    for kind, result in results:
        if kind is not PolicyKind.RESOURCE and result != PERMITTED:
            return Refusal(kind, False, action, resource)
    return None


@dataclass
class Authorizer:
    """The policies a DynamoDB request from the function must pass.

    Plain JSON-able data, so the invoker's sandboxed handler decides each call with it.
    """

    principal_arn: str  # the execution role
    session_arn: str  # how DynamoDB names the caller: the role's session for the function
    role_policies: list[list] = field(default_factory=list)  # [policy name, document] pairs
    endpoint_id: str | None = None
    endpoint_policy: dict | None = None  # only on the endpoint's path
    table_policies: dict[str, dict] = field(default_factory=dict)  # table ARN → its policy
    context: dict = field(default_factory=dict)  # condition keys (lower case) → values

    def _policies(self, resource: str | None) -> list[tuple[PolicyKind, list[dict]]]:
        """Each kind of policy on the request's way, with its documents (``resource`` None:
        every table's policy)."""
        policies = [(PolicyKind.IDENTITY, [document for _, document in self.role_policies])]
        if self.endpoint_policy is not None:
            policies.insert(0, (PolicyKind.ENDPOINT, [self.endpoint_policy]))
        tables = [
            document
            for table, document in self.table_policies.items()
            if resource is None or table == resource
        ]
        if tables:
            policies.append((PolicyKind.RESOURCE, tables))
        return policies

    def _results(
        self, action: str, resource: str, kinds: set[PolicyKind] | None = None
    ) -> list[tuple[PolicyKind, Result]]:
        request = _Request(action, resource, self.principal_arn, self.context)
        return [
            (kind, evaluate(documents, kind, request))
            for kind, documents in self._policies(resource)
            if kinds is None or kind in kinds
        ]

    def refusal(
        self, action: str, resource: str, kinds: set[PolicyKind] | None = None
    ) -> Refusal | None:
        """The policy that refuses the function's DynamoDB request, or None if all let it
        (``kinds``: judge only these kinds of policy)."""
        return _first_refusal(self._results(action, resource, kinds), action, resource)

    def role_refusal(self, action: str, resource: str) -> Refusal | None:
        """The role's refusal alone: for what Lambda itself does with the role (e.g. attaching
        the function to a VPC), which never passes the endpoint."""
        return self.refusal(action, resource, {PolicyKind.IDENTITY})

    def denial(self, action: str, resource: str) -> str | None:
        """AWS's AccessDeniedException message for ``action`` on ``resource``, or None."""
        refusal = self.refusal(action, resource)
        return refusal.message(self.session_arn) if refusal else None

    def unsupported(self) -> tuple[PolicyKind, LabError] | None:
        """The first policy the lab cannot evaluate (an operator or key it does not know)."""
        for kind, documents in self._policies(None):
            for document in documents:
                problem = unsupported_condition(document)
                if problem:
                    return kind, problem
        return None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Authorizer:
        return cls(**data)


def policy_permits(
    document: dict, kind: PolicyKind, action: str, resource: str, context: dict
) -> bool:
    """Whether ``document`` on its own lets the caller of ``context`` do ``action``."""
    request = _Request(action, resource, context["aws:principalarn"], context)
    return evaluate([document], kind, request) == PERMITTED


def policy_denies(
    document: dict, kind: PolicyKind, action: str, resource: str, context: dict
) -> bool:
    """Whether ``document`` explicitly denies ``action`` to the caller of ``context``."""
    request = _Request(action, resource, context["aws:principalarn"], context)
    return evaluate([document], kind, request) == DENIED


# --- statements --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Request:
    action: str
    resource: str
    principal_arn: str
    context: dict


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements(document: dict) -> list[dict]:
    return [s for s in _as_list(document.get("Statement", [])) if isinstance(s, dict)]


def evaluate(documents: list[dict], kind: PolicyKind, request: _Request) -> Result:
    """Explicit deny wins, then any allow, else neutral (an implicit deny)."""
    matching = [
        statement
        for document in documents
        for statement in statements(document)
        if _applies(statement, kind, request)
    ]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return DENIED
    return PERMITTED if any(s.get("Effect") == "Allow" for s in matching) else NEUTRAL


def _applies(statement: dict, kind: PolicyKind, request: _Request) -> bool:
    return (
        _names_principal(statement, kind, request.principal_arn)
        and _matches_any(statement, "Action", request.action, _action_pattern)
        and _matches_any(statement, "Resource", request.resource, _resource_pattern)
        and all(
            _condition_holds(operator, key, expected, request.context)
            for operator, block in (statement.get("Condition") or {}).items()
            for key, expected in block.items()
        )
    )


def _matches_any(statement: dict, element: str, value: str, pattern) -> bool:
    """``Action``/``NotAction`` (or ``Resource``/``NotResource``): a missing element matches."""
    if element in statement:
        return any(pattern(p).fullmatch(value) for p in _as_list(statement[element]))
    if f"Not{element}" in statement:
        return not any(pattern(p).fullmatch(value) for p in _as_list(statement[f"Not{element}"]))
    return True


def principal_is_everyone(principal) -> bool:
    """``"*"`` or ``{"AWS": "*"}``: every caller."""
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", []))


def _names_principal(statement: dict, kind: PolicyKind, principal_arn: str) -> bool:
    """Whether the statement's ``Principal`` includes the caller.

    A role's own policy has none. A gateway endpoint's policy reaches a role only through
    ``"*"`` (an account or ``…:root`` principal there is the root user alone, and a role is
    named with ``aws:PrincipalArn``). A table's policy names the role by its ARN, its account
    (every principal of it) or ``"*"``.
    """
    if kind is PolicyKind.IDENTITY:
        return True
    principal = statement.get("Principal")
    if principal_is_everyone(principal):
        return True
    if kind is PolicyKind.ENDPOINT or not isinstance(principal, dict):
        return False
    account = principal_arn.split(":")[4]
    named = set(_as_list(principal.get("AWS", [])))
    return bool(named & {principal_arn, account, f"arn:aws:iam::{account}:root"})


@lru_cache(maxsize=512)
def _wildcard(pattern: str, flags: int = 0) -> re.Pattern:
    """IAM's wildcards: ``*`` any run of characters, ``?`` any one character."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), flags | re.DOTALL)


def _action_pattern(pattern: str) -> re.Pattern:
    return _wildcard(pattern, re.IGNORECASE)  # action names are case-insensitive


def _resource_pattern(pattern: str) -> re.Pattern:
    return _wildcard(pattern)


# --- conditions --------------------------------------------------------------------------------
def _string_equals(value: str, expected: str) -> bool:
    return value == expected


def _string_equals_ignore_case(value: str, expected: str) -> bool:
    return value.lower() == expected.lower()


def _string_like(value: str, expected: str) -> bool:
    return bool(_wildcard(expected).fullmatch(value))


def _arn_like(value: str, expected: str) -> bool:
    """Each of the six colon-separated parts of the ARN matched on its own, wildcards allowed."""
    parts, patterns = value.split(":", 5), expected.split(":", 5)
    return len(parts) == len(patterns) == 6 and all(
        _wildcard(p).fullmatch(v) for v, p in zip(parts, patterns, strict=True)
    )


def _bool(value: str, expected: str) -> bool:
    return value.lower() == expected.lower()


# Operator → (how one value compares with one expected value, whether the operator is negated).
CONDITION_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}
QUALIFIERS = ("ForAnyValue", "ForAllValues")


def _parse_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` → ("ForAnyValue", "StringLike", True)."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    return qualifier or None, name.removesuffix("IfExists"), if_exists


def _expected_values(expected) -> list[str]:
    """Policy values as IAM compares them: JSON ``true`` is the string "true"."""
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]


def _condition_problem(operator: str, keys) -> LabError | None:
    """A LabError if the lab cannot evaluate ``operator`` on ``keys``."""
    qualifier, name, if_exists = _parse_operator(operator)
    known = (qualifier is None or qualifier in QUALIFIERS) and (
        name in CONDITION_OPERATORS or (name == "Null" and not if_exists)
    )
    if not known:
        return LabError(
            "policy.unsupported_operator",
            field="policy",
            operator=operator,
            operators=", ".join([*CONDITION_OPERATORS, "Null"]),
        )
    known_keys = {key.lower() for key in CONTEXT_KEYS}
    for key in keys:
        if key.lower() not in known_keys:
            return LabError(
                "policy.unsupported_key",
                field="policy",
                condition_key=key,
                keys=", ".join(CONTEXT_KEYS),
            )
    return None


def unsupported_condition(document: dict) -> LabError | None:
    """A LabError naming the first condition operator or key the lab cannot evaluate."""
    for statement in statements(document):
        for operator, block in (statement.get("Condition") or {}).items():
            problem = _condition_problem(operator, block if isinstance(block, dict) else {})
            if problem:
                return problem
    return None


def _condition_holds(operator: str, key: str, expected, context: dict) -> bool:
    problem = _condition_problem(operator, [key])
    if problem:
        raise problem
    qualifier, name, if_exists = _parse_operator(operator)
    key = key.lower()
    present = key in context
    if name == "Null":  # "true": the key must be missing; "false": it must be there
        return any((value == "true") != present for value in _expected_values(expected))
    if not present:
        if qualifier == "ForAllValues":
            return True  # every one of no values matches
        if qualifier == "ForAnyValue":
            return False
        return if_exists or CONDITION_OPERATORS[name][1]
    compare, negated = CONDITION_OPERATORS[name]
    wanted = _expected_values(expected)

    def matches(value: str) -> bool:
        found = any(compare(value, e) for e in wanted)
        return not found if negated else found

    # Every key of a note-app call has one value: both qualifiers then test that one value.
    return matches(context[key])
