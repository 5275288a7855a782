"""The learner's backend dashboard in the browser, through Jupyter, with no port of its own.

jupyter-server-proxy finds ``lab_backend_proxy`` through the ``jupyter_serverproxy_servers``
entry point (pyproject.toml) and serves ``<Jupyter's base URL>/lab-backend/`` behind Jupyter's
own login; moto's dashboard is ``lab-backend/moto-api/``.

jupyter-server-proxy supervises a small relay here, not the backend itself. Kernels must reach
the backend on its own loopback port (they can neither learn a port the proxy picks nor pass
Jupyter's token); a learner must have exactly one backend (a second would be an empty account);
and it must outlive kernel restarts and serve plain ``jupyter lab`` too. The state file
(``helpers.core.backend``) gives all that already. So, for each browser connection, the relay
asks ``backend.start`` (idempotent: it starts a backend only when none runs) where the learner's
backend listens now and pipes the bytes there: a backend restarted on another port is followed,
and nothing starts before the learner opens the dashboard.

The backend lets in only requests that carry its keys (``helpers.core.backend_process``); the
browser never holds them. The relay, which runs as the learner and reads their state file,
adds them to each request it passes on (``with_keys``), one request per connection.

Run by jupyter-server-proxy as ``python -m helpers.core.server_proxy --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from urllib.parse import urlsplit

from helpers.core import backend
from helpers.core.backend_process import http_auth
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current

PROXY_NAME = "lab-backend"  # the path under Jupyter's base URL
DASHBOARD_PATH = "/moto-api/"
# moto's dashboard page and its script: they name moto's paths from the server's root
DASHBOARD_FILES = (DASHBOARD_PATH, DASHBOARD_PATH + "lib.js")
CHUNK_BYTES = 64 * 1024


def lab_backend_proxy() -> dict:
    """jupyter-server-proxy's server-process settings for ``lab-backend/``."""
    try:
        embedded = current().backend == "embedded"
    except LabError:  # unusable settings: every chapter says why; no launcher tile meanwhile
        embedded = False
    return {
        "command": [sys.executable, "-m", "helpers.core.server_proxy", "--port", "{port}"],
        # the relay answers at once, but its first request may start (and warm) the backend
        "timeout": backend.START_TIMEOUT_SECONDS,
        "rewrite_response": dashboard_paths_under_proxy,
        "new_browser_tab": True,
        "launcher_entry": {
            "enabled": embedded,
            "title": t("dashboard.launcher_title"),
            "path_info": PROXY_NAME + DASHBOARD_PATH,
        },
    }


def dashboard_paths_under_proxy(response, request, path: str) -> None:
    """moto's dashboard loads ``/moto-api/lib.js``, which fetches ``/moto-api/data.json``: from
    the server's root. Behind the proxy those paths are re-rooted at the proxy's own prefix
    (e.g. ``/user/<name>/lab-backend``), else the browser would ask Jupyter's root for them."""
    if path not in DASHBOARD_FILES or not request.path.endswith(path):
        return
    prefix = request.path[: len(request.path) - len(path)].encode()
    for quote in (b'"', b"'"):
        response.body = response.body.replace(quote + b"/moto-api", quote + prefix + b"/moto-api")


def backend_address() -> tuple[str, int, dict]:
    """Where the learner's embedded backend listens now (started if none runs), and its keys."""
    settings = current()
    if settings.backend != "embedded":
        raise LabError("dashboard.not_embedded", backend=settings.backend)
    running = backend.start(settings.home, settings.region)
    url = urlsplit(running.url)
    return url.hostname, url.port, running.keys


def with_keys(head: bytes, keys: dict) -> bytes:
    """A request's head with the backend's keys as its Authorization (whatever the browser
    sent there is dropped) and ``Connection: close``: a next request on the same connection
    would pass through without them."""
    request_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [
        line
        for line in lines
        if line.split(b":", 1)[0].strip().lower() not in (b"authorization", b"connection")
    ]
    token = base64.b64encode(":".join(http_auth(keys)).encode())
    added = [b"Authorization: Basic " + token, b"Connection: close"]
    return b"\r\n".join([request_line, *kept, *added]) + b"\r\n\r\n"


def _plain_response(status: str, text: str) -> bytes:
    body = text.encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK_BYTES):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:  # one side went away: end the other side too
        writer.close()


async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
    """One browser connection (through the proxy), piped to the learner's backend."""
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
        host, port, keys = await asyncio.to_thread(backend_address)
        backend_reader, backend_writer = await asyncio.open_connection(host, port)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):  # no request came
        client_writer.close()
        return
    except LabError as error:
        client_writer.write(_plain_response("503 Service Unavailable", error.message))
        await client_writer.drain()
        client_writer.close()
        return
    except OSError:  # the backend went away between the look-up and the connection
        client_writer.close()
        return
    backend_writer.write(with_keys(head, keys))
    await asyncio.gather(_pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer))
    backend_writer.close()
    client_writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(relay, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="the port the proxy chose")
    asyncio.run(serve(parser.parse_args(argv).port))


if __name__ == "__main__":
    main()
