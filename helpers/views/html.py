"""HTML building blocks shared by every picture and table the lab shows."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Link:
    """A table cell that links to ``href`` (relative to the notebook, where JupyterLab opens
    it in a new tab)."""

    label: str
    href: str

    def html(self) -> str:
        return f'<a href="{escape(self.href)}">{text(self.label)}</a>'


@dataclass(frozen=True)
class Verbatim:
    """A table cell that is data or code (a request, a JSON body), shown as written, in the
    code font: it stays as the program wrote it in every language."""

    value: str

    def html(self) -> str:
        return f"<code>{text(self.value)}</code>"


def text(value) -> str:
    """``value`` as HTML text. JupyterLab typesets whatever stands between two "$" as LaTeX,
    which turns prices into maths; a "$" in its own element is left alone."""
    return escape(str(value)).replace("$", "<span>$</span>")


# A status's mark beside its words: ✔ done, ✘ failed, ! worth a look, – never reached.
MARKS = {"ok": "✔", "failed": "✘", "warning": "!", "skipped": "–"}


@dataclass(frozen=True)
class Html:
    """HTML that Jupyter renders where it is returned (a cell's value): no display call, so a
    chapter's functions can be tested for what they return."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


STYLES = {
    "error": ("#fdecea", "#b3261e"),
    "warning": ("#fff4e5", "#8a5300"),
    "info": ("#e8f1fb", "#1d4f91"),
    "success": ("#e9f6ec", "#1e6b34"),
}


def _box_open(kind: str) -> str:
    """A message box's opening tag. Its font size is set, not inherited: a box reads the same
    in a widget (13 px there) as in a cell's output (14 px), e.g. a form's judgement above
    the button and its result below it."""
    background, colour = STYLES[kind]
    return (
        f'<div class="lab-{kind}" style="background:{background};color:{colour};'
        f"border-left:4px solid {colour};padding:6px 10px;margin:4px 0;"
        f'font-size:var(--jp-content-font-size1, 14px);line-height:1.45">'
    )


def box(message: str, kind: str = "info", title: str | None = None) -> str:
    """A coloured message box (``kind``: error, warning, info, success)."""
    heading = f"<strong>{text(title)}</strong><br>" if title else ""
    return f"{_box_open(kind)}{heading}{text(message)}</div>"


def boxes(messages: list[tuple[str, str]]) -> str:
    """One box per kind (in the order error, warning, info, success), each message on its own
    line: a form's judgement reads as a few boxes, not a stack of them."""
    parts = []
    for kind in STYLES:
        lines = [message for message_kind, message in messages if message_kind == kind]
        if lines:
            body = "".join(f"<div>{text(line)}</div>" for line in lines)
            parts.append(f"{_box_open(kind)}{body}</div>")
    return "".join(parts)


def table(
    columns: list[str],
    rows: list[list],
    highlight: set[int] | None = None,
    caption: str | None = None,
    struck: set[int] | None = None,
) -> str:
    """An HTML table; rows whose index is in ``highlight`` are marked (class lab-new), rows in
    ``struck`` are struck through (class lab-removed: a row that went away)."""
    highlight, struck = highlight or set(), struck or set()
    head = "".join(f"<th style='text-align:left'>{text(c)}</th>" for c in columns)
    body = []
    for index, row in enumerate(rows):
        style = (
            " class='lab-new' style='background:#e9f6ec;font-weight:bold'"
            if index in highlight
            else " class='lab-removed' style='background:#fdecea;color:#8c1d18;"
            "text-decoration:line-through'"
            if index in struck
            else ""
        )
        cells = "".join(
            f"<td style='text-align:left'>{v.html() if hasattr(v, 'html') else text(v)}</td>"
            for v in row
        )
        body.append(f"<tr{style}>{cells}</tr>")
    title = f"<caption style='text-align:left'>{text(caption)}</caption>" if caption else ""
    return (
        f"<table class='lab-table'>{title}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
