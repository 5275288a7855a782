#!/usr/bin/env python3
"""Set up and run the VPC endpoint lab on Linux, macOS and Windows (no POSIX shell needed).

    python lab.py            set up on first use, start the embedded backend, open JupyterLab
    python lab.py test       set up on first use, run every test (unit and notebook tests)
    python lab.py backend …  manage the backend (start | status | stop | reset [--json])

Set-up makes a virtual environment in .venv and installs the lab into it; it is redone
only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# Checked before the tests, on the whole tree (notebooks' code cells included): lint with
# import order, formatting, the layers' one-way imports, and no import circle at all.
HOUSE_RULES = (
    ("-m", "ruff", "check", "."),
    ("-m", "ruff", "format", "--check", "."),
    ("-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"),
    ("tools/import_cycles.py",),
)


def say(key: str) -> None:
    """Print a launcher message from the lab's catalogue, in the learner's language."""
    with (ROOT / "helpers" / "catalogue" / "launcher.toml").open("rb") as handle:
        texts = tomllib.load(handle)[key]
    print(texts.get(os.environ.get("LAB_LANG", "en"), texts["en"]), flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def set_up(extras: str) -> Path:
    """Create .venv and install the lab (with ``extras``) unless already done for this version."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    python = venv_python()
    stamp = VENV / f"lab-installed-{extras or 'base'}.txt"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not python.exists():
        say("creating_venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing")
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(wanted)
    return python


def run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        argv = ["start", *argv]  # options for JupyterLab, e.g. --no-browser
    command = argv[0]
    if command == "test":
        python = set_up("test")
        # The JupyterLite browser tests build a site with its own Pyodide, fetched once from
        # npm and PyPI like the packages (without it those tests are skipped, saying why).
        if run(python, "-m", "helpers", "lite", "fetch-pyodide") != 0:
            say("no_offline_pyodide")
        if not argv[1:]:  # the whole suite: house rules first, they take seconds
            for rule in HOUSE_RULES:
                if run(python, *rule) != 0:
                    return 1
        # Test files run on all cores, each worker with a backend of its own.
        options = argv[1:] or ["-n", "auto", "--dist", "loadgroup"]
        return run(python, "-m", "pytest", *options)
    if command == "backend":
        return run(set_up(""), "-m", "helpers", "backend", *argv[1:])
    if command != "start":
        say("usage")
        return 2
    python = set_up("")
    if run(python, "-m", "helpers", "backend", "start") != 0:
        return 1
    # JupyterLab's menus in the learner's language (English stays in Settings ▸ Language).
    settings = subprocess.run(
        [str(python), "-m", "helpers", "jupyterlab-settings"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    jupyter = [
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={ROOT / 'notebooks'}",
        "--ServerApp.ip=127.0.0.1",
        f"--LabApp.app_settings_dir={settings}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        jupyter.append("--allow-root")  # containers and classroom VMs often run as root
    return run(python, *jupyter, *argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
