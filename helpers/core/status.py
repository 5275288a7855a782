"""What the lab is talking to: backend kind, endpoint, region, account — as data and as a panel."""

from __future__ import annotations

from helpers.core import backend
from helpers.core.clients import account_id
from helpers.core.home import settings_file
from helpers.core.settings import EMBEDDED_ACCOUNT_ID, aws_config_files, current


def describe(start: bool = False) -> dict:
    """The backend's status. ``start``: start the embedded backend if it is not running."""
    settings = current()
    status = {
        "backend": settings.backend,
        "region": settings.region,
        "region_source": settings.region_source,
        "region_profile": settings.region_profile,
        "region_file": _region_file(settings.region_source),
        "language": settings.language,
        "home": str(settings.home),
    }
    if settings.backend == "embedded":
        running = backend.start(settings.home, settings.region) if start else backend.running()
        status.update(
            running=bool(running),
            restarted=bool(running and running.restarted),
            endpoint=running.url if running else None,
            pid=running.pid if running else None,
            account_id=EMBEDDED_ACCOUNT_ID,
            warm=backend.warm_status() if running else None,
        )
    else:
        status.update(
            endpoint=settings.endpoint_url or f"AWS ({settings.region})",
            account_id=account_id(settings),
            running=True,
        )
    return status


def _region_file(source: str) -> str | None:
    """The file the region was read from, if it came from one."""
    if source == "settings_file":
        return str(settings_file())
    if source == "profile":
        return str(aws_config_files()[0])
    return None
