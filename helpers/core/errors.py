"""LabError: an expected problem, told to the learner in one message (no traceback); and AWS's
error codes, read in one place, so that every module agrees on which answer means "not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from helpers.core.messages import t


class LabError(Exception):
    """A refusal or failure the learner can act on.

    ``code`` is AWS's error code when AWS would answer the same way (``InvalidServiceName``…),
    else the catalogue key; ``field`` names the form field at fault, if any.
    """

    def __init__(self, key: str, *, code: str | None = None, field: str | None = None, **values):
        self.key = key
        self.code = code or key
        self.field = field
        self.values = values
        super().__init__(t(key, code=self.code, **values))  # messages may quote the code

    @property
    def message(self) -> str:
        return str(self)


# json's own messages (English) by how they start, and the lab's words for each.
JSON_PROBLEMS = (
    ("Expecting value", "json.expecting_value"),
    ("Expecting property name", "json.expecting_name"),
    ("Expecting ',' delimiter", "json.expecting_comma"),
    ("Expecting ':' delimiter", "json.expecting_colon"),
    ("Unterminated string", "json.unterminated_string"),
    ("Extra data", "json.extra_data"),
    ("Invalid control character", "json.control_character"),
    ("Invalid \\", "json.invalid_escape"),
)


def json_problem(error: json.JSONDecodeError) -> str:
    """What is wrong with a learner's JSON and where, in the learner's language."""
    key = next((key for start, key in JSON_PROBLEMS if error.msg.startswith(start)), "json.other")
    return t(key, line=error.lineno, column=error.colno)


def aws_error_code(error: Exception) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


# AWS's answers meaning "no such resource"; EC2 also spells them ``InvalidVpcID.NotFound``…
# DynamoDB's GetResourcePolicy answers PolicyNotFoundException for a table without a policy
# (Amazon DynamoDB API Reference, "GetResourcePolicy").
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NotFoundException",
        "NatGatewayNotFound",
        "PolicyNotFoundException",
    }
)
T = TypeVar("T")


def is_not_found(code: str | None) -> bool:
    """Whether an AWS error code means that the resource asked for does not exist."""
    return bool(code) and (code in NOT_FOUND_CODES or code.endswith(".NotFound"))


def none_if_missing(call: Callable[[], T], *codes: str) -> T | None:
    """``call()``, or None when AWS answers that what it asked for does not exist: with any
    not-found code, or with one of ``codes`` when the caller names them."""
    try:
        return call()
    except Exception as error:
        code = aws_error_code(error)
        missing = code in codes if codes else is_not_found(code)
        if not missing:
            raise
        return None


@dataclass
class Problem:
    field: str | None
    code: str
    message: str
    # "error" refuses the submit; "warning" only informs; "confirm" is a warning the learner
    # must confirm before the form acts (like a cost).
    severity: str = "error"


def problem_from(error: LabError, severity: str = "error") -> Problem:
    return Problem(error.field, error.code, error.message, severity)
