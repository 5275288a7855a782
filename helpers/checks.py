""""Check your work": each chapter lists what should exist and says what is missing."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .messages import t
from .rendering import STYLES


@dataclass
class Check:
    what: str  # what should be true, in the learner's words
    ok: bool
    detail: str = ""  # what was found, or what is missing and how to fix it


def render(checks: list[Check]) -> str:
    rows = []
    for check in checks:
        background, colour = STYLES["success" if check.ok else "error"]
        mark = "✔" if check.ok else "✘"
        rows.append(f"<tr class='lab-check-{'ok' if check.ok else 'missing'}' "
                    f"style='background:{background};color:{colour}'><td>{mark}</td>"
                    f"<td>{escape(check.what)}</td><td>{escape(check.detail)}</td></tr>")
    verdict = t("checks.all_good") if all(c.ok for c in checks) else t("checks.something_missing")
    return f"<p><strong>{escape(verdict)}</strong></p><table>{''.join(rows)}</table>"
