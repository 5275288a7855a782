"""The progress table (``python -m helpers progress``, chapter 00's ``ch.progress()``): built
once as a grid of cells from the progress data, drawn as HTML here and as text by the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.messages import t
from helpers.views.html import MARKS, STYLES, Html, box
from helpers.views.html import text as escape


@dataclass(frozen=True)
class Cell:
    text: str
    ok: bool | None = None  # green, red, or no colour


def _state(ok: bool) -> str:
    """The class a check's row has in "Check your work" (helpers.views.checks)."""
    return "ok" if ok else "missing"


def _mark(ok: bool) -> Cell:
    return Cell(MARKS["ok" if ok else "failed"], ok)


def progress_grid(data: dict, per_learner: bool) -> tuple[list[str], list[list[Cell]]]:
    """Columns and rows. ``data``: the progress as JSON (``Progress.as_json``).
    ``per_learner``: one row per learner, one column per chapter (a class); otherwise one row
    per chapter of the one learner, with its first failing check."""
    chapters = data["chapters"]
    if per_learner:
        columns = [t("instructor.column_learner"), *chapters, t("instructor.column_stuck_at")]
        rows = []
        for learner in data["learners"]:
            verdicts = learner["chapters"]
            if learner["problem"]:
                marks = [Cell(MARKS["skipped"]) for _ in chapters]
                rows.append([Cell(learner["learner"]), *marks, Cell(learner["problem"], False)])
                continue
            stuck = next((number for number in chapters if not verdicts[number]["ok"]), None)
            last = (
                Cell(f"{stuck}: {verdicts[stuck]['first_failure']}", False)
                if stuck
                else Cell(t("instructor.all_chapters_pass"), True)
            )
            marks = [_mark(verdicts[number]["ok"]) for number in chapters]
            rows.append([Cell(learner["learner"]), *marks, last])
        return columns, rows
    columns = [
        t("instructor.column_chapter"),
        "",
        t("instructor.column_result"),
        t("instructor.column_first_failure"),
    ]
    rows = []
    for learner in data["learners"]:
        for number, title in chapters.items():
            verdict = learner["chapters"].get(number)
            if verdict is None:  # the learner's lab could not be checked at all
                rows.append([Cell(number), Cell(title), Cell(MARKS["skipped"]), Cell("")])
            else:
                failure = Cell(verdict["first_failure"] or "", False if not verdict["ok"] else None)
                rows.append([Cell(number), Cell(title), _mark(verdict["ok"]), failure])
    return columns, rows


def progress_html(data: dict, per_learner: bool, empty_reason: str | None = None) -> Html:
    """The grid as a coloured HTML table (green: the chapter's checks pass, red: they do not)."""
    problems = [
        box(f"{learner['learner']}: {learner['problem']}", "warning")
        for learner in data["learners"]
        if learner["problem"] and not per_learner
    ]
    if empty_reason:
        return Html(box(empty_reason, "info"))
    columns, rows = progress_grid(data, per_learner)
    head = "".join(f"<th style='text-align:left'>{escape(column)}</th>" for column in columns)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            style = "text-align:left"
            if cell.ok is not None:
                background, colour = STYLES["success" if cell.ok else "error"]
                style += f";background:{background};color:{colour}"
            state = "" if cell.ok is None else f" class='lab-check-{_state(cell.ok)}'"
            cells.append(f"<td{state} style='{style}'>{escape(cell.text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return Html(
        "".join(problems) + f"<table class='lab-table lab-progress'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
