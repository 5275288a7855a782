"""What the lab is talking to: backend kind, endpoint, region, account — as data and as a panel."""

from __future__ import annotations

from helpers.core import backend, backend_inprocess
from helpers.core.clients import account_id, credentials
from helpers.core.home import BROWSER, settings_file
from helpers.core.messages import t
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
    elif settings.backend == "inprocess":
        backend_inprocess.start()
        where = "endpoint_in_browser" if BROWSER else "endpoint_in_kernel"
        status.update(running=True, endpoint=t(f"status.{where}"), account_id=EMBEDDED_ACCOUNT_ID)
    elif settings.backend == "class":  # asked of the class backend itself: no AWS call
        keys = credentials(settings) if settings.class_secret else None  # none: refused
        reachable = backend.server_info(settings.endpoint_url, keys, timeout=5) is not None
        url = settings.endpoint_url
        status.update(
            running=reachable,
            endpoint=url if reachable else f"{url} ({t('status.not_running')})",
            account_id=settings.learner_account,
            learner=settings.learner,
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
