"""The private path as the learner sees it: a picture and a table, each hop green or red.

Both are drawn from a ``reachability.PathVerdict``, i.e. from the live state of the account.
"""

from __future__ import annotations

import textwrap
import unicodedata
from html import escape

from helpers.aws.reachability import summary
from helpers.core.messages import t
from helpers.views.html import MARKS, STYLES, box

# status → (fill, stroke/text colour); skipped hops are grey: the traffic never gets there.
COLOURS = {
    "ok": STYLES["success"],
    "failed": STYLES["error"],
    "warning": STYLES["warning"],
    "skipped": ("#f1f1f1", "#6b6b6b"),
}
# Traffic leaves a hop of these statuses for the next one.
PASSING = ("ok", "warning")
# Arrow (marker id, colour): traffic goes on (True), or never gets there (False).
ARROWS = {True: ("lab-arrow", "#555"), False: ("lab-arrow-off", "#bbb")}
# Hops drawn inside the VPC's frame.
IN_VPC = ("subnet", "route_table", "route", "firewall", "endpoint")
# Six boxes a row: the function and the five VPC hops on the first, so the VPC frame holds
# exactly the first row's last five.
BOX_WIDTH, BOX_HEIGHT, GAP, PER_ROW, MARGIN = 152, 120, 24, 6, 20
# How many characters of each line fit in a box (bold 12 px titles, 11 px resource names),
# and how many lines: an id with a long Name tag takes four.
TITLE_CHARACTERS, RESOURCE_CHARACTERS = 19, 22  # 22 digits of an id at 11 px fit


def _lines(text: str, width: int, most: int) -> list[str]:
    """``text`` wrapped to at most ``most`` lines of ``width`` characters; only a text longer
    than that loses its end (the table below the picture has it whole)."""
    # Composed letters (NFC), so that a name typed with separate accent marks (NFD) is neither
    # cut early nor cut between a letter and its accents.
    lines = textwrap.wrap(unicodedata.normalize("NFC", text), width) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1] + "…"
    return lines


def _text(lines: list[str], x: int, y: int, size: int, colour: str, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if i == 0 else size + 3}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{x}" y="{y}" font-size="{size}"{weight} fill="{colour}">{spans}</text>'


def _box_position(index: int) -> tuple[int, int]:
    """Left-to-right on the first row, right-to-left on the second (the path bends back)."""
    row, column = divmod(index, PER_ROW)
    if row % 2:
        column = PER_ROW - 1 - column
    return (MARGIN + column * (BOX_WIDTH + GAP), MARGIN + 26 + row * (BOX_HEIGHT + GAP + 26))


def drawn_statuses(hops) -> list[str]:
    """Each hop's status as the picture draws it. Traffic stops at the first hop that blocks
    it, so every hop after that one is drawn not reached, whatever its own verdict (a role
    that would allow the call is no passing hop when the call never gets there); the table
    keeps each hop's own verdict."""
    drawn, blocked = [], False
    for hop in hops:
        drawn.append("skipped" if blocked else hop.status)
        blocked = blocked or hop.status == "failed"
    return drawn


def _arrow(start: tuple[int, int], end: tuple[int, int], reached: bool) -> str:
    """An arrow from one hop to the next: dark where the traffic goes on, grey where it
    never gets (after a blocking or skipped hop)."""
    marker, colour = ARROWS[reached]
    (x1, y1), (x2, y2) = start, end
    if y1 == y2:  # same row: from the side of one box to the side of the next
        forward = x2 > x1
        ax = x1 + BOX_WIDTH if forward else x1
        bx = x2 if forward else x2 + BOX_WIDTH
        ay = by = y1 + BOX_HEIGHT // 2
    else:  # down to the next row
        ax = bx = x1 + BOX_WIDTH // 2
        ay, by = y1 + BOX_HEIGHT, y2
    return (
        f'<line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="{colour}" '
        f'stroke-width="2" marker-end="url(#{marker})"/>'
    )


def diagram(verdict) -> str:
    """An SVG of the path: function → … → table, each hop coloured by its status up to the
    first hop that blocks the path, the hops after it grey (``drawn_statuses``)."""
    hops = verdict.hops
    rows = (len(hops) + PER_ROW - 1) // PER_ROW
    width = MARGIN * 2 + PER_ROW * BOX_WIDTH + (PER_ROW - 1) * GAP
    height = _box_position((rows - 1) * PER_ROW)[1] + BOX_HEIGHT + MARGIN
    drawn = drawn_statuses(hops)
    markers = "".join(
        f'<marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
        for marker, colour in ARROWS.values()
    )
    parts = [f"<defs>{markers}</defs>"]
    positions = [_box_position(i) for i in range(len(hops))]
    inside = [p for p, hop in zip(positions, hops, strict=False) if hop.key in IN_VPC]
    if inside:
        left = min(x for x, _ in inside) - 10
        top = min(y for _, y in inside) - 22
        right = max(x for x, _ in inside) + BOX_WIDTH + 10
        bottom = max(y for _, y in inside) + BOX_HEIGHT + 10
        parts.append(
            f'<rect class="lab-vpc-frame" x="{left}" y="{top}" width="{right - left}" '
            f'height="{bottom - top}" rx="8" fill="none" stroke="#7a5fc8" '
            f'stroke-dasharray="6 4"/><text x="{left + 8}" y="{top + 15}" '
            f'font-size="12" fill="#7a5fc8">VPC</text>'
        )
    for index, (hop, status) in enumerate(zip(hops, drawn, strict=True)):
        x, y = positions[index]
        fill, colour = COLOURS[status]
        if index:
            parts.append(_arrow(positions[index - 1], (x, y), drawn[index - 1] in PASSING))
        reason = hop.reason if status == hop.status else t("reachability.not_reached")
        parts.append(
            f'<g class="lab-hop lab-hop-{status}" data-hop="{hop.key}">'
            f"<title>{escape(hop.title)}: {escape(reason)}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
            f'fill="{fill}" stroke="{colour}" stroke-width="2"/>'
            + _text(
                _lines(f"{MARKS[status]} {hop.title}", TITLE_CHARACTERS, 2),
                x + 8,
                y + 18,
                12,
                colour,
                bold=True,
            )
            + _text(_lines(hop.resource, RESOURCE_CHARACTERS, 4), x + 8, y + 52, 11, colour)
            + _text([t(f"reachability.status_{status}")], x + 8, y + BOX_HEIGHT - 8, 10, colour)
            + "</g>"
        )
    return (
        f'<svg class="lab-path" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" '
        f'font-family="sans-serif">'
        f"{''.join(parts)}</svg>"
    )


def row(hop) -> list[str]:
    """A hop as a table row: hop, resource, verdict mark, reason."""
    return [hop.title, hop.resource, MARKS[hop.status], hop.reason]


def hops_table(verdict) -> str:
    """The hops as a table: hop, resource, verdict, reason (failed rows in red)."""
    head = "".join(
        f"<th style='text-align:left'>{escape(t(key))}</th>"
        for key in (
            "reachability.column_hop",
            "reachability.column_resource",
            "reachability.column_verdict",
            "reachability.column_reason",
        )
    )
    body = []
    for hop in verdict.hops:
        fill, colour = COLOURS[hop.status]
        cells = "".join(f"<td style='text-align:left'>{escape(str(v))}</td>" for v in row(hop))
        body.append(
            f"<tr class='lab-hop-{hop.status}' style='background:{fill};color:{colour}'>"
            f"{cells}</tr>"
        )
    caption = escape(t("reachability.table_caption"))
    return (
        f"<table class='lab-table lab-path-table'><caption style='text-align:left'>{caption}"
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def html(verdict) -> str:
    """The verdict in one sentence, the picture and the table."""
    return (
        box(summary(verdict), "success" if verdict.ok else "error")
        + diagram(verdict)
        + hops_table(verdict)
    )
