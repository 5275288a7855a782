""""Check your work": each chapter lists what should exist and says what is missing."""
from __future__ import annotations

from dataclasses import dataclass
from helpers.views.html import text as escape

from helpers.core.messages import t
from helpers.views.html import STYLES


@dataclass
class Check:
    what: str  # what should be true, in the learner's words
    ok: bool
    detail: str = ""  # what was found, or what is missing and how to fix it


def render(checks: list[Check], all_good_key: str = "checks.all_good",
           something_missing_key: str = "checks.something_missing") -> str:
    """The checks as a table under one verdict (a chapter may word its verdicts itself)."""
    rows = []
    for check in checks:
        background, colour = STYLES["success" if check.ok else "error"]
        mark = "✔" if check.ok else "✘"
        rows.append(f"<tr class='lab-check-{'ok' if check.ok else 'missing'}' "
                    f"style='background:{background};color:{colour}'><td>{mark}</td>"
                    f"<td style='text-align:left'>{escape(check.what)}</td>"
                    f"<td style='text-align:left'>{escape(check.detail)}</td></tr>")
    verdict = t(all_good_key) if all(c.ok for c in checks) else t(something_missing_key)
    return f"<p><strong>{escape(verdict)}</strong></p><table>{''.join(rows)}</table>"
