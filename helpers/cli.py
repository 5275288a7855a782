"""The lab's command line (``python -m helpers …``), for learners, instructors and tests."""

from __future__ import annotations

import argparse
import json
import sys

from helpers.aws.cleanup import clean_up, reset_lab
from helpers.chapters import catch_up
from helpers.core import backend
from helpers.core.errors import LabError
from helpers.core.settings import current
from helpers.core.status import describe


def _tell(_done: int, _total: int, message: str) -> None:
    """Progress for a person, on stderr: stdout stays the status (JSON with --json)."""
    print(message, file=sys.stderr, flush=True)


def _backend_command(action: str, as_json: bool) -> int:

    settings = current()
    if action != "status" and settings.backend != "embedded":
        raise LabError("backend.not_embedded", backend=settings.backend)
    if action == "start":
        backend.start(settings.home, settings.region)
    elif action == "stop":
        backend.stop(settings.home)
    elif action == "reset":
        report = reset_lab(progress=_tell)
        for line in report.lines():
            _tell(0, 0, line)
        if not report.finished:
            return 1
    status = describe(start=False)
    if as_json:
        print(json.dumps(status, indent=2))
    else:
        for key in ("backend", "running", "endpoint", "region", "account_id", "home"):
            print(f"{key:11} {status.get(key)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backend_parser = commands.add_parser("backend", help="manage the lab's backend")
    backend_parser.add_argument("action", choices=["start", "status", "stop", "reset"])
    backend_parser.add_argument("--json", action="store_true", help="print the status as JSON")
    commands.add_parser("catch-up", help="create every chapter's resources that are missing")
    commands.add_parser("clean-up", help="delete what the lab created (lab-tagged only)")
    args = parser.parse_args(argv)
    try:
        if args.command == "backend":
            return _backend_command(args.action, args.json)
        if args.command == "clean-up":
            report = clean_up(progress=lambda done, total, message: print(message, flush=True))
            print("\n".join(report.lines()))
            return 0 if report.finished else 1
        for summary in catch_up():
            print(summary)
        return 0
    except LabError as error:
        print(error.message, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
