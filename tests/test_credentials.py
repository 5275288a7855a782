"""Credentials never appear in a notebook output, a file the lab writes, or a log.

Every notebook runs top to bottom (nbclient, one kernel each, in order) with recognisable
fake credentials in the kernel's environment and a fresh lab home; then every output, the
widget state, and every file the run wrote (lab home: journal, settings, backend state and
log; the kernel's temporary folder; new files in the repository) are scanned for them.
Twice: on the embedded backend (credentials present but unused), and with
``LAB_BACKEND=endpoint`` where boto3 signs every request with them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

from helpers.core import backend
from helpers.instructor import notebook_client

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKELEAK_CHECK_1",
    "AWS_SECRET_ACCESS_KEY": "fakeSecretLeakCheck/9f8e7d6c5b4a39281706fakeKEY",
    "AWS_SESSION_TOKEN": "FakeSessionTokenLeakCheck//AQoDYXdzEJr//fake//token==",
}
# A part of each, in case something prints a credential cut short or masked at the end.
FRAGMENTS = ["FAKELEAK", "SecretLeakCheck", "SessionTokenLeakCheck"]
SKIPPED_PARTS = {".git", ".venv", "__pycache__", ".ipynb_checkpoints", "node_modules"}


def _leaks(text: str) -> list[str]:
    return [fragment for fragment in [*FAKE_CREDENTIALS.values(), *FRAGMENTS] if fragment in text]


def _repository_files() -> dict[Path, float]:
    found = {}
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIPPED_PARTS & set(path.relative_to(ROOT).parts):
            with contextlib.suppress(FileNotFoundError):  # another process removed it meanwhile
                found[path] = path.stat().st_mtime
    return found


def _scan_files(paths) -> list[str]:
    problems = []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
        problems += [f"{path}: {leak}" for leak in _leaks(text)]
    return problems


def _kernel_environment(home: Path, scratch: Path, extra: dict) -> dict:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "LAB_"))
    }
    environment.update(FAKE_CREDENTIALS)
    environment.update(
        LAB_HOME=str(home),
        LAB_REGION="us-east-1",
        LAB_LANG="en",
        TMPDIR=str(scratch),
        TMP=str(scratch),
        TEMP=str(scratch),
        **extra,
    )
    return environment


def _run_every_notebook(environment: dict) -> list[str]:
    problems = []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        with notebook_client(notebook, path.parent, timeout=600, allow_errors=True) as runner:
            runner.execute(env=environment)
        errors = [
            output
            for cell in notebook.cells
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
        ]
        assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
        problems += [f"{path.name} (outputs): {leak}" for leak in _leaks(json.dumps(notebook))]
    return problems


@pytest.fixture
def endpoint_backend(tmp_path):
    """A plain moto server for LAB_BACKEND=endpoint (any AWS-compatible endpoint would do;
    the lab's own backends take only their own keys, never a learner's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / "endpoint-server"
    home.mkdir()
    with (home / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/moto-api/data.json", timeout=1).ok:
                break
        time.sleep(0.1)
    yield url, home
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.parametrize("backend_kind", ["embedded", "endpoint"])
def test_no_notebook_output_or_lab_file_shows_the_credentials(backend_kind, tmp_path, request):
    assert NOTEBOOKS, "no notebooks to run"
    home, scratch = tmp_path / "lab-home", tmp_path / "kernel-tmp"
    home.mkdir(mode=0o700)  # the lab keeps its backend's keys only in a home of the learner's
    scratch.mkdir()
    extra = {"LAB_BACKEND": backend_kind}
    scanned_elsewhere = []
    if backend_kind == "endpoint":
        url, server_home = request.getfixturevalue("endpoint_backend")
        extra["AWS_ENDPOINT_URL"] = url
        scanned_elsewhere.append(server_home)
    before = _repository_files()
    try:
        problems = _run_every_notebook(_kernel_environment(home, scratch, extra))
    finally:
        backend.stop(home)  # the embedded run started its own backend in that home
    written = [
        path
        for folder in (home, scratch, *scanned_elsewhere)
        for path in folder.rglob("*")
        if path.is_file()
    ]
    assert any(path.name == "journal.json" for path in written)  # the run did write its files
    changed = [
        path for path, modified in _repository_files().items() if before.get(path) != modified
    ]
    problems += _scan_files(written + changed)
    assert not problems, "credentials leaked:\n" + "\n".join(problems)


@pytest.mark.nobackend
def test_the_scan_finds_a_credential_when_one_is_shown():
    """The scanner itself works: a printed (even cut-short) key is caught."""
    assert _leaks("key=" + FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"][:12] + "…")
    assert _leaks(json.dumps({"text": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}))
    assert not _leaks("AKIA_SOMEONE_ELSES_KEY testing testing")
