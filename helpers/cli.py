"""The lab's command line (``python -m helpers …``), for learners, instructors and tests."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from helpers import instructor, lite
from helpers.aws import exercises
from helpers.aws.cleanup import clean_up, reset_lab
from helpers.chapters import catch_up, chapter
from helpers.core import backend, jupyterlab
from helpers.core.clients import credentials, endpoint_url
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.status import describe


def _tell(_done: int, _total: int, message: str) -> None:
    """Progress for a person, on stderr: stdout stays the status (JSON with --json)."""
    print(message, file=sys.stderr, flush=True)


def _print_variables(variables: dict) -> None:
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")


def _backend_env() -> int:
    """The backend's URL and keys as shell variables, for the learner's own AWS CLI or SDK
    (the only place the lab prints keys: on the learner's request, to their terminal)."""
    settings = current()
    if settings.backend not in ("embedded", "class"):
        raise LabError("backend.not_embedded", backend=settings.backend)
    keys = credentials(settings)  # starts the embedded backend if none runs
    url = endpoint_url(settings)
    print(t("backend.env_note"), file=sys.stderr)
    _print_variables(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": settings.region,
        }
    )
    return 0


def _backend_command(action: str, as_json: bool) -> int:
    if action == "env":
        return _backend_env()
    settings = current()
    # reset deletes only what the lab made, in the learner's own account: a class's too
    class_reset = action == "reset" and settings.backend == "class"
    if action != "status" and settings.backend != "embedded" and not class_reset:
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
        for key in ("backend", "running", "endpoint", "region", "account_id", "learner", "home"):
            if key in status:
                print(f"{key:11} {status[key]}")
    return 0


def _class_backend_command(args) -> int:
    """The instructor's class backend: one server, an account per learner."""
    home = backend.class_home(args.home)
    if args.action == "learner":
        return _class_learners(home, args.names, args.as_json)
    if args.action == "start":
        backend.start(home, current().region, class_port=args.port, class_host=args.host)
    elif args.action == "stop":
        backend.stop(home)
    status = backend.class_status(home)
    if args.as_json:
        print(json.dumps(status, indent=2))
    elif status["running"]:
        print(t("backend.class_running", url=status["url"], home=home))
        for account in status["accounts"]:
            print(f"{account['account_id']}  {', '.join(account['learners'])}")
    else:
        print(t("backend.class_not_running", home=home))
    for account in status["accounts"]:
        if len(account["learners"]) > 1:
            learners = ", ".join(account["learners"])
            _tell(
                0,
                0,
                t("backend.class_shared_account", account=account["account_id"], learners=learners),
            )
    return 0 if status["running"] or args.action == "stop" else 1


def _class_learners(home, names: list[str], as_json: bool) -> int:
    """Each learner's settings for the class backend, their key included: for the hub (or
    the instructor) to put in that learner's environment, and nowhere else."""
    url = backend.class_status(home)["url"]
    settings = {
        name: {
            "LAB_BACKEND": "class",
            "LAB_CLASS_URL": url,
            "LAB_LEARNER": name,
            "LAB_CLASS_SECRET": backend.class_learner_keys(home, name)["aws_secret_access_key"],
        }
        for name in names
    }
    if as_json:
        print(json.dumps(settings, indent=2, ensure_ascii=False))
    for name, variables in ({} if as_json else settings).items():
        print(f"# {name}")
        _print_variables(variables)
    return 0


def _solutions_command(number: str | None) -> int:
    """Every exercise's solution (or one chapter's), from the one source the learners' "Show
    solution" button reads."""
    chosen = exercises.EXERCISES if number is None else exercises.of_chapter(number.zfill(2))
    if not chosen:
        numbers = sorted({exercise.chapter for exercise in exercises.EXERCISES})
        raise LabError(
            "exercises.solutions_none", chapter=number.zfill(2), choices=", ".join(numbers)
        )
    for exercise in chosen:
        heading = t(
            "exercises.solutions_heading",
            chapter=exercise.chapter,
            title=chapter(exercise.chapter).title,
            exercise=exercise.key,
        )
        print(heading)
        print(t("exercises.solutions_task", task=exercise.task))
        print(t("exercises.solutions_solution"))
        print(exercise.solution_text())
        print(t("exercises.solutions_why", why=exercise.why))
        print()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backend_parser = commands.add_parser("backend", help="manage the lab's backend")
    backend_parser.add_argument(
        "action",
        choices=["start", "status", "stop", "reset", "env"],
        help="env: print the backend's URL and keys as shell variables (for the AWS CLI)",
    )
    backend_parser.add_argument("--json", action="store_true", help="print the status as JSON")
    class_parser = commands.add_parser(
        "class-backend", help="the instructor's backend for a whole class (an account each)"
    )
    class_parser.add_argument(
        "action",
        choices=["start", "status", "stop", "learner"],
        help="learner NAME…: print each learner's variables, their key included",
    )
    class_parser.add_argument("names", nargs="*", help="learners' names (for learner)")
    class_parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    class_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)"
    )
    class_parser.add_argument(
        "--home", help="folder for its state and log (LAB_CLASS_HOME, else in the lab home)"
    )
    class_parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print the status as JSON"
    )
    commands.add_parser("catch-up", help="create every chapter's resources that are missing")
    commands.add_parser("clean-up", help="delete what the lab created (lab-tagged only)")
    commands.add_parser(
        "jupyterlab-settings",
        help="write JupyterLab's default settings for the learner's language; print their folder",
    )
    solutions_parser = commands.add_parser(
        "solutions", help="print the exercises' solutions (for instructors)"
    )
    solutions_parser.add_argument("chapter", nargs="?", help="only this chapter's (01…07)")
    instructor.add_commands(commands)
    lite.add_command(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "lite":
            if args.action == "fetch-pyodide":
                print(lite.fetch_pyodide())
            else:
                print(lite.build(args.out, args.pyodide_url, args.offline_pyodide))
            return 0
        instructor_exit = instructor.run_command(args)
        if instructor_exit is not None:
            return instructor_exit
        if args.command == "backend":
            return _backend_command(args.action, args.json)
        if args.command == "class-backend":
            return _class_backend_command(args)
        if args.command == "solutions":
            return _solutions_command(args.chapter)
        if args.command == "jupyterlab-settings":
            print(jupyterlab.settings_folder())
            return 0
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
