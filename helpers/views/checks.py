""" "Check your work" as the learner sees it: one verdict over a table of checks."""

from __future__ import annotations

from helpers.aws.checks import Check
from helpers.core.messages import t
from helpers.views.html import MARKS, STYLES, Html
from helpers.views.html import text as escape


def render(
    checks: list[Check],
    all_good_key: str = "checks.all_good",
    something_missing_key: str = "checks.something_missing",
) -> str:
    """The checks as a table under one verdict (a chapter may word its verdicts itself)."""
    rows = []
    for check in checks:
        background, colour = STYLES["success" if check.ok else "error"]
        mark = MARKS["ok" if check.ok else "failed"]
        rows.append(
            f"<tr class='lab-check-{'ok' if check.ok else 'missing'}' "
            f"style='background:{background};color:{colour}'><td>{mark}</td>"
            f"<td style='text-align:left'>{escape(check.what)}</td>"
            f"<td style='text-align:left'>{escape(check.detail)}</td></tr>"
        )
    verdict = t(all_good_key) if all(c.ok for c in checks) else t(something_missing_key)
    return f"<p><strong>{escape(verdict)}</strong></p><table>{''.join(rows)}</table>"


class CheckReport(Html):
    """The rendered checks, with the checks themselves for whoever asks (tests, progress)."""

    def __init__(
        self,
        checks: list[Check],
        all_good_key: str = "checks.all_good",
        something_missing_key: str = "checks.something_missing",
    ):
        super().__init__(render(checks, all_good_key, something_missing_key))
        object.__setattr__(self, "checks", checks)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)
