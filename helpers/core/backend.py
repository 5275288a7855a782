"""The embedded backend: one moto server per learner, found again through a state file.

Every notebook and kernel of a learner shares it, like one AWS account. It is started on
demand (by the first helper call that needs it, or by ``python -m helpers backend start``),
survives kernel restarts (it runs in its own process group) and is stopped only on request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from filelock import FileLock

from helpers.core.backend_process import INFO_PATH
from helpers.core.errors import LabError
from helpers.core.home import lab_home
from helpers.core.settings import current

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
BUSY_SERVER_SECONDS = 20


@dataclass(frozen=True)
class RunningBackend:
    url: str
    pid: int
    instance: str
    restarted: bool = False  # a state file named a server that had died: this one is new


def state_file(home: Path | None = None) -> Path:
    return (home or lab_home()) / "backend.json"


def log_file(home: Path | None = None) -> Path:
    return (home or lab_home()) / "backend.log"


def _lock(home: Path) -> FileLock:
    home.mkdir(parents=True, exist_ok=True)
    return FileLock(str(home / "backend.lock"), timeout=START_TIMEOUT_SECONDS)


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads(state_file(home).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def server_info(url: str, timeout: float = 1.0) -> dict | None:
    """What the server at ``url`` says about itself, or None if nothing answers."""
    try:
        response = requests.get(url + INFO_PATH, timeout=timeout)
        return response.json() if response.ok else None
    except (requests.RequestException, ValueError):
        return None


def _process_exists(pid: int) -> bool:
    if os.name == "nt":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        exit_code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(exit_code))
        kernel32.CloseHandle(handle)
        return exit_code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(state: dict | None) -> dict | None:
    if not state:
        return None
    info = server_info(state["url"], timeout=2)
    if info is None and _process_exists(state["pid"]):
        # A busy machine can keep a live server from answering at once: never mistake that
        # for a dead server, which would start an empty one and "lose" the learner's lab.
        info = server_info(state["url"], timeout=BUSY_SERVER_SECONDS)
    # The instance check guards against another program that took over a freed port.
    return info if info and info.get("instance") == state["instance"] else None


def _stop_unresponsive(state: dict | None) -> None:
    """A server process that no longer answers is stopped before a new one starts."""
    if not state or not _process_exists(state["pid"]):
        return
    try:  # only where the pid is provably still our server (pids get reused after a reboot)
        command_line = Path(f"/proc/{state['pid']}/cmdline").read_bytes()
    except OSError:
        return
    if (
        b"helpers.core.backend_process" in command_line
        and state["instance"].encode() in command_line
    ):
        os.kill(state["pid"], signal.SIGTERM)


def running(home: Path | None = None) -> RunningBackend | None:
    home = home or lab_home()
    state = _read_state(home)
    if _alive(state):
        return RunningBackend(url=state["url"], pid=state["pid"], instance=state["instance"])
    return None


def _spawn(home: Path, region: str, warm_up: bool = True) -> RunningBackend:
    instance = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # the lab launches no instances; saves seconds
    options: dict = {}
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        options["start_new_session"] = True  # a kernel restart must not take the backend along
    with open(log_file(home), "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helpers.core.backend_process",
                "--state-file",
                str(state_file(home)),
                "--instance",
                instance,
                "--region",
                region,
                *([] if warm_up else ["--no-warm-up"]),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
            **options,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        state = _read_state(home)
        if state and state.get("instance") == instance and _alive(state):
            return RunningBackend(url=state["url"], pid=state["pid"], instance=instance)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise LabError("backend.start_failed", log=str(log_file(home)))


def start(
    home: Path | None = None, region: str | None = None, warm_up: bool = True
) -> RunningBackend:
    """The learner's running backend, started (and warmed, unless told not to) if need be."""
    home = home or lab_home()
    existing = running(home)  # the common case needs no lock
    if existing:
        return existing
    region = region or current().region
    with _lock(home):
        existing = running(home)
        if existing:
            return existing
        previous = _read_state(home)
        _stop_unresponsive(previous)
        started = _spawn(home, region, warm_up)
        return RunningBackend(
            started.url, started.pid, started.instance, restarted=previous is not None
        )


def stop(home: Path | None = None) -> bool:
    """Stop the learner's backend; True if one was running."""
    home = home or lab_home()
    with _lock(home):
        state = _read_state(home)
        if not _alive(state):
            state_file(home).unlink(missing_ok=True)
            return False
        os.kill(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and _alive(state):
            time.sleep(0.05)
        state_file(home).unlink(missing_ok=True)
        return True


def wipe(home: Path | None = None) -> RunningBackend:
    """Empty the backend: every resource of every service is gone, lab-made or not, and the
    server keeps running. Only for test sessions, which own their backend; a learner's lab is
    reset by ``cleanup.reset_lab``, which touches only what the lab made."""
    backend = start(home)
    _wait_for_warm_up(backend.url)  # resetting while warming races inside moto (HTTP 500)
    requests.post(backend.url + "/moto-api/reset", timeout=60).raise_for_status()
    requests.post(
        backend.url + "/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10
    ).raise_for_status()
    return backend


def _wait_for_warm_up(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        info = server_info(url, timeout=BUSY_SERVER_SECONDS)
        if info is None or info["warm"]["done"]:
            return
        time.sleep(0.1)


def warm_status(home: Path | None = None) -> dict | None:
    backend = running(home)
    info = server_info(backend.url) if backend else None
    return info.get("warm") if info else None
