"""What the lab is talking to: backend kind, endpoint, region, account — as data and as a panel."""
from __future__ import annotations

from helpers.views.html import text as escape

from helpers.core import backend
from helpers.core.messages import t
from helpers.views.html import STYLES
from helpers.core.settings import EMBEDDED_ACCOUNT_ID, current


def describe(start: bool = False) -> dict:
    """The backend's status. ``start``: start the embedded backend if it is not running."""
    settings = current()
    status = {"backend": settings.backend, "region": settings.region,
              "language": settings.language, "home": str(settings.home)}
    if settings.backend == "embedded":
        running = backend.start(settings.home, settings.region) if start else backend.running()
        status.update(running=bool(running), restarted=bool(running and running.restarted), endpoint=running.url if running else None,
                      pid=running.pid if running else None,
                      account_id=EMBEDDED_ACCOUNT_ID,
                      warm=backend.warm_status() if running else None)
    else:
        from helpers.core.clients import account_id

        status.update(endpoint=settings.endpoint_url or f"AWS ({settings.region})",
                      account_id=account_id(settings), running=True)
    return status


def panel_html(status: dict) -> str:
    real = status["backend"] == "aws"
    background, colour = STYLES["warning" if real else "info"]
    rows = [(t("status.kind"), t(f"status.kind_{status['backend']}")),
            (t("status.endpoint"), status.get("endpoint") or t("status.not_running")),
            (t("status.region"), status["region"]),
            (t("status.account"), status.get("account_id") or "?")]
    cells = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th>"
                    f"<td style='text-align:left'>{escape(str(v))}</td></tr>" for k, v in rows)
    warning = (f"<p class='lab-real-aws-warning' style='font-weight:bold'>"
               f"{escape(t('status.real_aws_warning', account=status.get('account_id'), region=status['region']))}</p>"
               if real else "")
    return (f"<div class='lab-status' style='background:{background};color:{colour};"
            f"border:2px solid {colour};padding:6px 10px'><strong>{escape(t('status.title'))}"
            f"</strong>{warning}<table>{cells}</table></div>")
