"""Classroom deployments: Binder (repo2docker) builds on the Python the lab needs, the README's
Binder link opens the chapters, and the backend dashboard reaches the browser through Jupyter
(jupyter-server-proxy, helpers/core/server_proxy.py) without a port of its own."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import time
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yaml

from helpers.core import backend, server_proxy, settings
from helpers.core.backend_process import learner_keys, new_owner_keys

ROOT = Path(__file__).resolve().parents[1]

# repo2docker 2026.4.0, repo2docker/buildpacks/conda/__init__.py: the pattern it matches each
# plain (string) conda dependency of environment.yml against, and CondaBuildPack.python_version:
# the first dependency that matches gives the version, "X" alone maps through major_pythons,
# else "X.Y" is kept; none matching logs "Python version unspecified, using current default
# Python version 3.10" and builds the base environment on that default.
REPO2DOCKER_PYTHON_REGEX = re.compile(r"python\s*=+\s*([\d\.]*)")
REPO2DOCKER_MAJOR_PYTHONS = {"3": "3.10"}  # its default for "python=3" (and for none) today


def repo2docker_python_version(environment: dict) -> str | None:
    """The Python version repo2docker reads from ``environment`` (None: unspecified)."""
    for dependency in environment.get("dependencies", []):
        if not isinstance(dependency, str):
            continue
        match = REPO2DOCKER_PYTHON_REGEX.match(dependency)
        if match:
            parts = match.group(1).split(".")
            if len(parts) == 1:
                return REPO2DOCKER_MAJOR_PYTHONS.get(parts[0])
            return ".".join(parts[:2])
    return None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.nobackend
def test_repo2docker_builds_binder_on_the_python_the_lab_needs():
    """repo2docker's own rule (repo2docker/buildpacks/conda/__init__.py, PYTHON_REGEX and
    CondaBuildPack.python_version) reads the pinned version, at least pyproject's
    ``requires-python`` (3.11: tomllib); a ``python>=3.11`` lower bound reads as unspecified
    ("Python version unspecified, using current default Python version 3.10")."""
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    version = repo2docker_python_version(environment)
    assert version is not None, "repo2docker would build on its default Python"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.startswith(">=")
    assert _version(version) >= _version(requires[2:]) >= (3, 11)
    # the rule as replicated tells a lower bound from a pin, as repo2docker does
    assert repo2docker_python_version({"dependencies": ["python>=3.11"]}) is None
    assert repo2docker_python_version({"dependencies": ["python=3"]}) == "3.10"


@pytest.mark.nobackend
def test_the_readme_binder_link_opens_the_chapters_folder():
    """mybinder.org links are ``https://mybinder.org/v2/gh/<owner>/<repo>/<ref>``; JupyterLab
    opens the ``urlpath`` given, ``lab/tree/<folder>`` for a folder."""
    links = re.findall(
        r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)", (ROOT / "README.md").read_text()
    )
    assert links, "README.md has no Binder link"
    for link in links:
        assert link.endswith("?urlpath=lab/tree/notebooks"), link
    assert sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.nobackend
def test_the_dashboard_entry_point_is_a_server_process_jupyter_server_proxy_accepts():
    """jupyter-server-proxy loads every ``jupyter_serverproxy_servers`` entry point, builds a
    ``ServerProcess`` from what it returns and routes ``<base URL>/<name>/`` to it."""
    from jupyter_server_proxy.config import ServerProcess, make_handlers
    from jupyter_server_proxy.handlers import SuperviseAndProxyHandler

    (entry,) = [
        e for e in entry_points(group="jupyter_serverproxy_servers") if e.name == "lab-backend"
    ]
    assert entry.value == "helpers.core.server_proxy:lab_backend_proxy"
    process = ServerProcess(name=entry.name, **entry.load()())
    handlers = make_handlers("/user/alice/", [process])
    assert [route for route, *_ in handlers] == [
        "/user/alice/lab-backend/(.*)",
        "/user/alice/lab-backend",
    ]
    assert issubclass(handlers[0][1], SuperviseAndProxyHandler)  # it launches the relay
    assert process.command[-2:] == ["--port", "{port}"]
    assert process.timeout >= backend.START_TIMEOUT_SECONDS
    assert process.launcher_entry.enabled  # the test session's backend is embedded
    assert process.launcher_entry.path_info == "lab-backend/moto-api/"


@pytest.mark.nobackend
def test_the_launcher_tile_is_hidden_where_the_lab_has_no_embedded_backend(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "aws")
    assert server_proxy.lab_backend_proxy()["launcher_entry"]["enabled"] is False


@pytest.mark.nobackend
def test_the_dashboard_finds_its_script_and_data_under_the_proxy_prefix():
    """moto's dashboard names ``/moto-api/lib.js`` and ``/moto-api/data.json`` from the
    server's root; behind the proxy they must be under ``/user/<name>/lab-backend``."""
    page = SimpleNamespace(
        body=b'<a href="/moto-api">Home</a><script src="/moto-api/lib.js"></script>'
    )
    server_proxy.dashboard_paths_under_proxy(
        page, SimpleNamespace(path="/user/alice/lab-backend/moto-api/"), "/moto-api/"
    )
    assert page.body == (
        b'<a href="/user/alice/lab-backend/moto-api">Home</a>'
        b'<script src="/user/alice/lab-backend/moto-api/lib.js"></script>'
    )
    script = SimpleNamespace(body=b"await fetch('/moto-api/data.json')")
    server_proxy.dashboard_paths_under_proxy(
        script, SimpleNamespace(path="/lab-backend/moto-api/lib.js"), "/moto-api/lib.js"
    )
    assert script.body == b"await fetch('/lab-backend/moto-api/data.json')"
    data = SimpleNamespace(body=b'{"path": "/moto-api/x"}')  # the data itself is left alone
    server_proxy.dashboard_paths_under_proxy(
        data, SimpleNamespace(path="/lab-backend/moto-api/data.json"), "/moto-api/data.json"
    )
    assert data.body == b'{"path": "/moto-api/x"}'


async def _get(port: int) -> tuple[bytes, bytes]:
    """(status line, body) of ``GET /`` on a loopback port."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


async def _server_answering(text: bytes) -> asyncio.Server:
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


@pytest.mark.nobackend
def test_the_relay_follows_the_backend_to_the_port_it_listens_on_now(monkeypatch):
    """Each connection asks where the backend is: after a restart on another port, the
    dashboard reaches the new server, not the old port."""

    async def scenario():
        old, new = await _server_answering(b"old"), await _server_answering(b"new")
        listening = [old]
        keys = new_owner_keys()
        monkeypatch.setattr(
            server_proxy,
            "backend_address",
            lambda: (*listening[0].sockets[0].getsockname()[:2], keys),
        )
        relay = await asyncio.start_server(server_proxy.relay, "127.0.0.1", 0)
        port = relay.sockets[0].getsockname()[1]
        answers = [await _get(port)]
        listening[0] = new
        answers.append(await _get(port))
        for server in (relay, old, new):
            server.close()
        return answers

    assert asyncio.run(scenario()) == [(b"HTTP/1.1 200 OK", b"old"), (b"HTTP/1.1 200 OK", b"new")]


@pytest.mark.nobackend
def test_the_relay_says_why_when_the_lab_has_no_embedded_backend(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "aws")

    async def scenario():
        relay = await asyncio.start_server(server_proxy.relay, "127.0.0.1", 0)
        answer = await _get(relay.sockets[0].getsockname()[1])
        relay.close()
        return answer

    status, body = asyncio.run(scenario())
    assert status == b"HTTP/1.1 503 Service Unavailable"
    assert body.decode() == (
        "The backend dashboard is there only for the embedded backend; the lab is set to use aws."
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_relay_jupyter_server_proxy_launches_reaches_the_running_backend():
    """The command the entry point gives, run as jupyter-server-proxy runs it ({port} filled
    in), answers with the learner's running backend: the same server instance, moto's
    dashboard included, the backend's keys added by the relay."""
    running = backend.start()
    port = _free_port()
    command = [
        part.replace("{port}", str(port)) for part in server_proxy.lab_backend_proxy()["command"]
    ]
    relay = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                info = requests.get(f"http://127.0.0.1:{port}/lab-backend/info", timeout=20)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the relay did not listen"
                time.sleep(0.1)
        assert info.json()["instance"] == running.instance
        dashboard = requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=20)
        assert dashboard.status_code == 200 and "/moto-api/lib.js" in dashboard.text
        # the relay added the keys: the backend's own port refuses the same request without
        assert requests.get(running.url + "/moto-api/", timeout=20).status_code == 403
    finally:
        relay.terminate()
        relay.wait(timeout=10)


@pytest.mark.nobackend
def test_the_deployment_files_set_only_variables_the_lab_reads():
    """A misspelt variable in a hub's configuration would be ignored silently."""
    read = "".join(path.read_text() for path in (ROOT / "helpers" / "core").glob("*.py"))
    deploy = "".join(path.read_text() for path in (ROOT / "deploy").rglob("*") if path.is_file())
    named = set(re.findall(r"\bLAB_[A-Z_]+\b", deploy))
    assert {"LAB_BACKEND", "LAB_CLASS_URL", "LAB_LEARNER"} <= named
    assert {name for name in named if f'"{name}"' not in read} == set()
    values = yaml.safe_load((ROOT / "deploy" / "z2jh" / "values-class.yaml").read_text())
    manifests = list(
        yaml.safe_load_all((ROOT / "deploy" / "z2jh" / "class-backend.yaml").read_text())
    )
    service = next(m for m in manifests if m["kind"] == "Service")
    url = values["singleuser"]["extraEnv"]["LAB_CLASS_URL"]
    assert url == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"


@pytest.mark.nobackend
def test_the_hubs_learner_key_snippet_makes_the_keys_the_class_backend_accepts(tmp_path):
    """zero-to-jupyterhub's hub has no lab package, so values-class.yaml derives each
    learner's key itself: run that snippet (as the hub would, with a stand-in spawner and
    the class's keys file) and it must give the key the class backend accepts for that
    learner (helpers.core.backend_process.learner_keys of the learner's account)."""
    values = yaml.safe_load((ROOT / "deploy" / "z2jh" / "values-class.yaml").read_text())
    snippet = values["hub"]["extraConfig"]["vpc-endpoint-lab-keys"]
    owner = new_owner_keys()
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(owner))
    config = SimpleNamespace(KubeSpawner=SimpleNamespace())
    exec(snippet.replace("/etc/lab-class-keys/keys.json", str(keys_file)), {"c": config})
    for name in ("alice", "Nguyễn Văn A", "  Bob "):
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={})
        config.KubeSpawner.pre_spawn_hook(spawner)
        expected = learner_keys(owner, settings.learner_account_id(name))
        assert spawner.environment == {"LAB_CLASS_SECRET": expected["aws_secret_access_key"]}
