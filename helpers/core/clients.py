"""botocore clients for the chosen backend: the only place the lab builds one.

Embedded backend: the learner's moto server, signed with that server's own keys (from its
state file; a learner's real keys are never sent anywhere by accident). ``aws``: boto3's
normal credential chain. ``endpoint``: the URL in ``AWS_ENDPOINT_URL``. ``class``: the class
backend's URL, the learner's own key (``LAB_CLASS_SECRET``), and the learner's own account named
in every request. ``inprocess``: moto's mock inside the kernel (AWS's own URLs, answered
in-process), dummy credentials. Retry mode ``standard`` everywhere.
"""

from __future__ import annotations

import contextlib
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from helpers.core import backend, backend_inprocess, read_cache
from helpers.core.backend_process import (
    DUMMY_CREDENTIALS,
    REFUSED_HEADER,
    learner_key_id,
    naming_hook,
)
from helpers.core.errors import LabError, aws_error_code
from helpers.core.settings import EMBEDDED_ACCOUNT_ID, Settings, current

_clients: dict[tuple, object] = {}
_accounts: dict[tuple, str] = {}  # the account behind each backend, asked once (STS)
_clients_lock = threading.Lock()  # widget callbacks may run on kernel subshell threads


def _access(settings: Settings) -> tuple[str | None, dict]:
    """Where AWS calls go (the embedded server's URL, the configured endpoint, or None: AWS)
    and the keys they are signed with (boto3 Session arguments; {}: boto3's own chain)."""
    if settings.backend == "embedded":
        running = backend.start(settings.home, settings.region)
        if running.restarted:  # the learner must know their resources are gone
            _forget_backend()
            raise LabError("backend.restarted")
        return running.url, running.keys
    if settings.backend == "inprocess":  # AWS's own URLs, answered by moto inside the kernel
        backend_inprocess.start()
        return None, DUMMY_CREDENTIALS
    if settings.backend == "class":
        if not settings.class_secret:
            raise LabError("backend.class_secret_missing", learner=settings.learner)
        key_id = learner_key_id(settings.learner_account)
        return settings.endpoint_url, {
            "aws_access_key_id": key_id,
            "aws_secret_access_key": settings.class_secret,
        }
    return settings.endpoint_url, {}


def endpoint_url(settings: Settings | None = None) -> str | None:
    """Where AWS calls go: the embedded server's URL, the configured endpoint, or None (AWS)."""
    return _access(settings or current())[0]


def credentials(settings: Settings | None = None) -> dict:
    """The keys the lab signs its calls to the backend with (never printed but by
    ``python -m helpers backend env``)."""
    return _access(settings or current())[1]


def client(service: str, settings: Settings | None = None):
    """A botocore client for ``service`` in the lab's region, on the lab's backend."""
    settings = settings or current()
    url, keys = _access(settings)
    key_id = keys.get("aws_access_key_id")
    key = (service, settings.backend, settings.region, url, settings.learner_account, key_id)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _new_client(service, settings, url, keys)
        return _clients[key]


# API Gateway can refuse a change to a REST API while another change to it is under way, with
# ConflictException "Unable to complete operation due to concurrent modification. Please try
# again later." (reported by its users, e.g. terraform-provider-aws issues 776 and 16439, which
# retry it; AWS's API Reference says only "The request configuration has conflicts", so this is
# not from AWS's documentation). The lab makes such changes at once, so the change is sent again
# after these pauses, as botocore retries a throttle; any other conflict is the learner's.
CONCURRENT_CHANGE_PAUSES_S = (0.2, 0.4, 0.8)
CONCURRENT_MODIFICATION = "concurrent modification"


def again_after_concurrent_change(response, attempts: int, **_) -> float | None:
    """botocore's ``needs-retry`` hook: the pause before sending a change again, or None."""
    error = (response[1] if response else {}).get("Error", {})
    if (
        error.get("Code") == "ConflictException"
        and CONCURRENT_MODIFICATION in str(error.get("Message", ""))
        and attempts <= len(CONCURRENT_CHANGE_PAUSES_S)
    ):
        return CONCURRENT_CHANGE_PAUSES_S[attempts - 1]
    return None


def _new_client(service: str, settings: Settings, url: str | None, keys: dict):
    session = boto3.session.Session(region_name=settings.region, **keys)
    local = settings.backend in ("embedded", "inprocess")
    config = Config(
        retries={"mode": "standard", "max_attempts": 3 if local else 5},
        connect_timeout=2 if local else 10,
        read_timeout=120,
        user_agent_extra="vpc-endpoint-lab",
    )
    made = session.client(service, endpoint_url=url, config=config)
    scope = (service, settings.backend, settings.region, url, settings.learner_account)
    read_cache.install(made.meta.events, scope)
    if service == "apigateway":
        made.meta.events.register("needs-retry.api-gateway", again_after_concurrent_change)
    if settings.learner_account:  # class mode: the learner's own account on the shared server
        made.meta.events.register(
            "before-sign", naming_hook(settings.learner_account, settings.learner)
        )
    return made


def account_id(settings: Settings | None = None) -> str:
    settings = settings or current()
    if settings.backend in ("embedded", "inprocess"):
        return EMBEDDED_ACCOUNT_ID
    if settings.learner_account:
        return settings.learner_account
    key = (settings.backend, settings.endpoint_url)
    if key not in _accounts:
        with friendly_errors():
            _accounts[key] = client("sts", settings).get_caller_identity()["Account"]
    return _accounts[key]


def _forget_backend() -> None:
    """The backend restarted: its clients and the facts read from it are stale."""
    _clients.clear()
    read_cache.forget_session()


@contextlib.contextmanager
def friendly_errors():
    """Turn botocore failures into one LabError sentence the learner can act on. This is where
    the lab's work on AWS for a learner's action begins: its reads are made once inside."""
    try:
        with read_cache.action():
            yield
    except LabError:
        raise
    except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError) as error:
        settings = current()
        if settings.backend == "embedded":
            running = backend.start(settings.home, settings.region)
            _forget_backend()
            key = "backend.restarted" if running.restarted else "backend.interrupted"
            raise LabError(key) from error
        if settings.backend == "class":
            raise LabError("backend.class_unreachable", url=settings.endpoint_url) from error
        raise LabError("backend.unreachable", url=settings.endpoint_url or "AWS") from error
    except NoCredentialsError as error:
        raise LabError("backend.no_credentials") from error
    except ClientError as error:
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if REFUSED_HEADER in headers:  # the backend's own refusal: wrong or no keys
            settings = current()
            if settings.backend == "class":
                raise LabError(
                    "backend.class_refused", url=settings.endpoint_url, learner=settings.learner
                ) from error
            url = settings.endpoint_url
            if not url and settings.backend == "embedded":  # its URL is in its state file
                found = backend.running(settings.home)
                url = found.url if found else ""
            raise LabError("backend.refused", url=url or "-") from error
        code = aws_error_code(error) or "ClientError"
        detail = error.response.get("Error", {}).get("Message", "")
        raise LabError("backend.aws_error", code=code, detail=detail) from error
