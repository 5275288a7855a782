"""Test session set-up: a private embedded backend on its own port and home folder.

Every test (unit and notebook) talks to this backend only; a learner's running lab
(their own home folder and state file) and real AWS are never touched: LAB_HOME is always a
temporary folder and the learner's AWS_/LAB_ variables are cleared, for every session.

The backend is started by the first test that is not marked ``nobackend`` (each xdist worker
starts its own), so ``pytest -m nobackend`` runs without one; a ``nobackend`` test that starts
a backend anyway is reported as an error.

Under ``--dist loadgroup`` a test file's tests stay on one worker (as with ``loadfile``:
module-scoped fixtures build once), unless the tests name their own ``xdist_group``
(each notebook run is a group of its own). pytest 9.2 silently breaks that grouping, hence
pyproject.toml's ``pytest<9.2`` and ``tests/test_xdist_groups.py``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_home: Path | None = None


def _is_xdist_controller(config) -> bool:
    """With pytest-xdist, each worker has its own backend; the controller runs no tests."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    global _home
    if not config.pluginmanager.hasplugin("xdist"):  # e.g. -p no:xdist: the mark means nothing
        config.addinivalue_line("markers", "xdist_group(name): tests run on one xdist worker")
    if _is_xdist_controller(config):
        return
    _home = Path(tempfile.mkdtemp(prefix="lab-test-home-"))
    for name in list(os.environ):
        if name.startswith(("AWS_", "LAB_")):
            del os.environ[name]
    os.environ.update(
        LAB_HOME=str(_home),
        LAB_BACKEND="embedded",
        LAB_REGION="us-east-1",
        LAB_LANG="en",
        LAB_STRICT_ERRORS="1",
    )


def pytest_unconfigure(config):
    if _home is not None:
        from helpers.core import backend

        backend.stop(_home)  # also one a helper started on its own
        shutil.rmtree(_home, ignore_errors=True)


_backend_started = False


def _start_backend() -> None:
    global _backend_started
    if not _backend_started:
        from helpers.core import backend

        backend.start(_home)
        _backend_started = True


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Tests without an xdist_group of their own are grouped by file (see the docstring)."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers by --dist
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """This worker's backend is started before the first test that may need one."""
    if item.get_closest_marker("nobackend") is None:
        _start_backend()


@pytest.hookimpl(trylast=True)  # after the test's fixtures are torn down
def pytest_runtest_teardown(item):
    """A test marked nobackend must not start a backend (helpers start one on demand)."""
    if item.get_closest_marker("nobackend") is not None and not _backend_started:
        from helpers.core import backend

        if backend.state_file(_home).exists():
            backend.stop(_home)
            backend.state_file(_home).unlink(missing_ok=True)
            pytest.fail(f"{item.nodeid} is marked nobackend but started the backend")


def _empty_lab():
    from helpers.core import backend, journal

    _start_backend()
    backend.wipe(_home)
    journal.forget()


@pytest.fixture
def lab_home() -> Path:
    return _home


@pytest.fixture(scope="session")
def empty_lab():
    """Empties this worker's backend and journal when called (for module-scoped fixtures)."""
    return _empty_lab


@pytest.fixture
def fresh_lab(lab_home):
    """An empty backend and an empty journal, as for a learner starting the lab."""
    _empty_lab()
    yield lab_home


@pytest.fixture
def calls(tmp_path, monkeypatch):
    """The AWS calls made from now on, per ``service.Operation`` (a function returning a
    Counter), from the lab's own call log (``LAB_CALL_LOG``, in this process and any kernel
    started with this environment)."""
    import collections

    from helpers.core import read_cache

    log = tmp_path / "calls.log"
    monkeypatch.setenv(read_cache.CALL_LOG_ENV, str(log))

    def counted() -> collections.Counter:
        return collections.Counter(log.read_text().split() if log.exists() else [])

    return counted
