"""The status panel at the top of every chapter: what the lab is talking to."""

from __future__ import annotations

from helpers.core.messages import t
from helpers.views.html import STYLES
from helpers.views.html import text as escape


def panel_html(status: dict) -> str:
    real = status["backend"] == "aws"
    region = status["region"]
    background, colour = STYLES["warning" if real else "info"]
    rows = [
        (t("status.kind"), t(f"status.kind_{status['backend']}", learner=status.get("learner"))),
        (t("status.endpoint"), status.get("endpoint") or t("status.not_running")),
        (t("status.region"), f"{region} ({region_source(status)})"),
        (t("status.account"), status.get("account_id") or "?"),
    ]
    cells = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th>"
        f"<td style='text-align:left'>{escape(str(v))}</td></tr>"
        for k, v in rows
    )
    warning = (
        f"<p class='lab-real-aws-warning' style='font-weight:bold'>"
        f"{escape(t('status.real_aws_warning', account=status.get('account_id'), region=region))}"
        "</p>"
        if real
        else ""
    )
    return (
        f"<div class='lab-status' style='background:{background};color:{colour};"
        f"border:2px solid {colour};padding:6px 10px'><strong>{escape(t('status.title'))}"
        f"</strong>{warning}<table>{cells}</table></div>"
    )


def region_source(status: dict) -> str:
    """Where the region came from, in the learner's words."""
    return t(
        f"status.region_source_{status['region_source'].lower()}",
        profile=status.get("region_profile"),
        file=status.get("region_file"),
    )
