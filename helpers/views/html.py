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


def box(message: str, kind: str = "info", title: str | None = None) -> str:
    """A coloured message box (``kind``: error, warning, info, success)."""
    background, colour = STYLES[kind]
    heading = f"<strong>{text(title)}</strong><br>" if title else ""
    return (
        f'<div class="lab-{kind}" style="background:{background};color:{colour};'
        f'border-left:4px solid {colour};padding:6px 10px;margin:4px 0">'
        f"{heading}{text(message)}</div>"
    )


def boxes(messages: list[tuple[str, str]]) -> str:
    """One box per kind (in the order error, warning, info, success), each message on its own
    line: a form's judgement reads as a few boxes, not a stack of them."""
    parts = []
    for kind in STYLES:
        lines = [message for message_kind, message in messages if message_kind == kind]
        if lines:
            background, colour = STYLES[kind]
            body = "".join(f"<div>{text(line)}</div>" for line in lines)
            parts.append(
                f'<div class="lab-{kind}" style="background:{background};color:{colour};'
                f'border-left:4px solid {colour};padding:6px 10px;margin:4px 0">{body}</div>'
            )
    return "".join(parts)


def table(
    columns: list[str],
    rows: list[list],
    highlight: set[int] | None = None,
    caption: str | None = None,
) -> str:
    """An HTML table; rows whose index is in ``highlight`` are marked (class lab-new)."""
    highlight = highlight or set()
    head = "".join(f"<th style='text-align:left'>{text(c)}</th>" for c in columns)
    body = []
    for index, row in enumerate(rows):
        marked = index in highlight
        style = " class='lab-new' style='background:#e9f6ec;font-weight:bold'" if marked else ""
        cells = "".join(
            f"<td style='text-align:left'>{v.html() if isinstance(v, Link) else text(v)}</td>"
            for v in row
        )
        body.append(f"<tr{style}>{cells}</tr>")
    title = f"<caption style='text-align:left'>{text(caption)}</caption>" if caption else ""
    return (
        f"<table class='lab-table'>{title}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
