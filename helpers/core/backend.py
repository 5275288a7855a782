"""The embedded backend: one moto server per learner, found again through a state file.

Every notebook and kernel of a learner shares it, like one AWS account. It is started on
demand (by the first helper call that needs it, or by ``python -m helpers backend start``),
survives kernel restarts (it runs in its own process group) and is stopped only on request.

A class backend is the same server started by the instructor for a whole class
(``python -m helpers class-backend start``), its state file in a folder of the instructor's
choosing (``class_home``); learners reach it by URL (``LAB_BACKEND=class``), each in an account
of their own, and never start or stop it.

Only the learner gets in: the server's keys (``backend_process``) are in the state file, which
the lab keeps readable by the learner alone and refuses to use when other users of the machine
could read or write it, or its folder. That keeps out the other users of a shared host; it
does not keep out root, or anyone who can read the learner's files.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from helpers.core import read_cache
from helpers.core.backend_process import INFO_PATH, http_auth, learner_keys
from helpers.core.errors import LabError
from helpers.core.home import lab_home
from helpers.core.settings import current, learner_account_id

if TYPE_CHECKING:
    from filelock import FileLock

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
BUSY_SERVER_SECONDS = 20


@dataclass(frozen=True)
class RunningBackend:
    url: str
    pid: int
    instance: str
    restarted: bool = False  # a state file named a server that had died: this one is new
    # the server's own keys (boto3 Session arguments): never printed, never in a repr
    keys: dict = field(default_factory=dict, repr=False, compare=False)


def state_file(home: Path | None = None) -> Path:
    return (home or lab_home()) / "backend.json"


def log_file(home: Path | None = None) -> Path:
    return (home or lab_home()) / "backend.log"


def class_keys_file(home: Path) -> Path:
    """A class backend's keys, kept across its restarts (the learners' keys derive from them)."""
    return home / "class-keys.json"


def class_home(chosen: str | Path | None = None) -> Path:
    """Where a class backend's state file and log live: the folder given, else
    ``LAB_CLASS_HOME``, else ``class-backend`` in the instructor's lab home."""
    folder = chosen or os.environ.get("LAB_CLASS_HOME")
    return Path(folder).expanduser() if folder else lab_home() / "class-backend"


def _lock(home: Path) -> FileLock:
    # Imported only where a server is started: in the browser (the in-process backend, no
    # server, nothing to lock) importing filelock warns "only soft file lock is available".
    from filelock import FileLock

    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_private(home)
    return FileLock(str(home / "backend.lock"), timeout=START_TIMEOUT_SECONDS)


def ensure_private(path: Path) -> None:
    """Refuse a lab home or state file that other users can read or write (it holds, or will
    hold, the backend's keys), saying which path and the chmod that fixes it."""
    if os.name == "nt":  # no POSIX permission bits: the user's profile folder is private
        return
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        wanted = "700" if stat.S_ISDIR(mode) else "600"
        raise LabError(
            "backend.not_private", path=str(path), mode=oct(mode & 0o777)[2:], wanted=wanted
        )


def _read_state(home: Path) -> dict | None:
    ensure_private(home)
    ensure_private(state_file(home))
    try:
        return json.loads(state_file(home).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _keys(state: dict) -> dict:
    return {name: state[name] for name in ("aws_access_key_id", "aws_secret_access_key")}


def server_info(url: str, keys: dict | None = None, timeout: float = 1.0) -> dict | None:
    """What the server at ``url`` says about itself to the holder of ``keys``, or None if
    nothing answers (or it refuses them)."""
    try:
        response = requests.get(
            url + INFO_PATH, auth=http_auth(keys) if keys else None, timeout=timeout
        )
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
    keys = _keys(state) if "aws_access_key_id" in state else None  # none: a server too old
    info = server_info(state["url"], keys, timeout=2)
    if info is None and _process_exists(state["pid"]):
        # A busy machine can keep a live server from answering at once: never mistake that
        # for a dead server, which would start an empty one and "lose" the learner's lab.
        info = server_info(state["url"], keys, timeout=BUSY_SERVER_SECONDS)
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
        return RunningBackend(
            url=state["url"], pid=state["pid"], instance=state["instance"], keys=_keys(state)
        )
    return None


def _spawn(home: Path, region: str, warm_up: bool, listen: list[str]) -> RunningBackend:
    instance = uuid.uuid4().hex
    # MOTO_ACCOUNT_ID would override every request's account header (one account for all)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "MOTO_ACCOUNT_ID"
    }
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # the lab launches no instances; saves seconds
    env["MALLOC_ARENA_MAX"] = "2"  # glibc's arena per thread holds freed memory: RSS grows
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
                *listen,
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
            return RunningBackend(
                url=state["url"], pid=state["pid"], instance=instance, keys=_keys(state)
            )
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise LabError("backend.start_failed", log=str(log_file(home)))


def start(
    home: Path | None = None,
    region: str | None = None,
    warm_up: bool = True,
    class_port: int | None = None,
    class_host: str = "127.0.0.1",
) -> RunningBackend:
    """The learner's running backend, started (and warmed, unless told not to) if need be.

    ``class_port`` (0: any free port) makes it a class backend, listening on ``class_host``;
    ``home`` is then the class's folder (``class_home``)."""
    home = home or lab_home()
    listen = (
        []
        if class_port is None
        else [
            "--class-backend",
            "--port",
            str(class_port),
            "--host",
            class_host,
            "--keys-file",
            str(class_keys_file(home)),
        ]
    )
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
        started = _spawn(home, region, warm_up, listen)
        return RunningBackend(
            started.url,
            started.pid,
            started.instance,
            restarted=previous is not None,
            keys=started.keys,
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
    _wait_for_warm_up(backend)  # resetting while warming races inside moto (HTTP 500)
    auth = http_auth(backend.keys)
    requests.post(backend.url + "/moto-api/reset", auth=auth, timeout=60).raise_for_status()
    read_cache.forget_session()  # the reset made new prefix lists (new ids)
    requests.post(
        backend.url + "/moto-api/config",
        json={"lambda": {"use_docker": False}},
        auth=auth,
        timeout=10,
    ).raise_for_status()
    return backend


def _wait_for_warm_up(backend: RunningBackend) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        info = server_info(backend.url, backend.keys, timeout=BUSY_SERVER_SECONDS)
        if info is None or info["warm"]["done"]:
            return
        time.sleep(0.1)


def warm_status(home: Path | None = None) -> dict | None:
    backend = running(home)
    info = server_info(backend.url, backend.keys) if backend else None
    return info.get("warm") if info else None


def class_status(home: Path) -> dict:
    """A class backend's URL, and every account it has served with the learners who named it."""
    found = running(home)
    info = server_info(found.url, found.keys, timeout=BUSY_SERVER_SECONDS) if found else None
    accounts = info.get("accounts", []) if info else []
    return {
        "home": str(home),
        "running": info is not None,
        "url": found.url if info else None,
        "pid": found.pid if info else None,
        "learners": sorted({name for account in accounts for name in account["learners"]}),
        "accounts": accounts,
    }


def class_learner_keys(home: Path, learner: str) -> dict:
    """The key pair of the learner named ``learner`` on the class backend whose state is in
    ``home`` (derived from the instructor's keys: the same for as long as that server runs)."""
    found = running(home)
    if not found:
        raise LabError("backend.class_not_running", home=str(home))
    return learner_keys(found.keys, learner_account_id(learner))
