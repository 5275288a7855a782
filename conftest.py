"""Test session set-up: a private embedded backend on its own port and home folder.

Every test (unit and notebook) talks to this backend only; a learner's running lab
(their own home folder and state file) and real AWS are never touched.
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
    from helpers.core import backend

    backend.start(_home)


def pytest_unconfigure(config):
    from helpers.core import backend

    if _home is not None:
        backend.stop(_home)
        shutil.rmtree(_home, ignore_errors=True)


_notebooks_started = False


def pytest_runtest_setup(item):
    """Notebooks run in order from an empty backend, as a learner's lab would."""
    global _notebooks_started
    if item.path.suffix == ".ipynb" and not _notebooks_started:
        _notebooks_started = True
        _empty_lab()


def _empty_lab():
    from helpers.core import backend, journal

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
