"""botocore clients for the chosen backend: the only place the lab builds one.

Embedded backend: the learner's moto server, dummy credentials (a learner's real keys are
never sent anywhere by accident). ``aws``: boto3's normal credential chain. ``endpoint``: the
URL in ``AWS_ENDPOINT_URL``. Retry mode ``standard`` everywhere.
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

from helpers.core import backend
from helpers.core.backend_process import DUMMY_CREDENTIALS
from helpers.core.errors import LabError, aws_error_code
from helpers.core.settings import EMBEDDED_ACCOUNT_ID, Settings, current

_clients: dict[tuple, object] = {}
_accounts: dict[tuple, str] = {}  # the account behind each backend, asked once (STS)
_clients_lock = threading.Lock()  # widget callbacks may run on kernel subshell threads


def endpoint_url(settings: Settings | None = None) -> str | None:
    """Where AWS calls go: the embedded server's URL, the configured endpoint, or None (AWS)."""
    settings = settings or current()
    if settings.backend == "embedded":
        running = backend.start(settings.home, settings.region)
        if running.restarted:  # the learner must know their resources are gone
            _clients.clear()
            raise LabError("backend.restarted")
        return running.url
    return settings.endpoint_url


def client(service: str, settings: Settings | None = None):
    """A botocore client for ``service`` in the lab's region, on the lab's backend."""
    settings = settings or current()
    url = endpoint_url(settings)
    key = (service, settings.backend, settings.region, url)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = _new_client(service, settings, url)
        return _clients[key]


def _new_client(service: str, settings: Settings, url: str | None):
    credentials = DUMMY_CREDENTIALS if settings.backend == "embedded" else {}
    session = boto3.session.Session(region_name=settings.region, **credentials)
    local = settings.backend == "embedded"
    config = Config(
        retries={"mode": "standard", "max_attempts": 3 if local else 5},
        connect_timeout=2 if local else 10,
        read_timeout=120,
        user_agent_extra="vpc-endpoint-lab",
    )
    return session.client(service, endpoint_url=url, config=config)


def account_id(settings: Settings | None = None) -> str:
    settings = settings or current()
    if settings.backend == "embedded":
        return EMBEDDED_ACCOUNT_ID
    key = (settings.backend, settings.endpoint_url)
    if key not in _accounts:
        with friendly_errors():
            _accounts[key] = client("sts", settings).get_caller_identity()["Account"]
    return _accounts[key]


@contextlib.contextmanager
def friendly_errors():
    """Turn botocore failures into one LabError sentence the learner can act on."""
    try:
        yield
    except LabError:
        raise
    except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError) as error:
        settings = current()
        if settings.backend == "embedded":
            running = backend.start(settings.home, settings.region)
            _clients.clear()
            key = "backend.restarted" if running.restarted else "backend.interrupted"
            raise LabError(key) from error
        raise LabError("backend.unreachable", url=settings.endpoint_url or "AWS") from error
    except NoCredentialsError as error:
        raise LabError("backend.no_credentials") from error
    except ClientError as error:
        code = aws_error_code(error) or "ClientError"
        detail = error.response.get("Error", {}).get("Message", "")
        raise LabError("backend.aws_error", code=code, detail=detail) from error
