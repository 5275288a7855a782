"""LabError: an expected problem, told to the learner in one message (no traceback)."""

from __future__ import annotations

from dataclasses import dataclass

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


def aws_error_code(error: Exception) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


@dataclass
class Problem:
    field: str | None
    code: str
    message: str
    severity: str = "error"  # "error" refuses the submit; "warning" only informs


def problem_from(error: LabError, severity: str = "error") -> Problem:
    return Problem(error.field, error.code, error.message, severity)
