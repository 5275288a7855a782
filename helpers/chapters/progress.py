"""Where learners are: every chapter's "Check your work", run for one learner or a class.

One source: a learner's row is made of the chapters' own ``check()`` (the cell the learner
runs), so the instructor's table never disagrees with what a learner reads. Another learner's
lab is checked by reading the lab's settings as that learner's lab does (``acting_as``): the
same settings, clients and checks, pointed at their home folder or their class account.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from helpers.chapters.base import Chapter
from helpers.core import backend, journal, read_cache
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current

# What chooses a learner's lab: cleared, then set, while acting as another learner.
LEARNER_VARIABLES = (
    "LAB_HOME",
    "LAB_BACKEND",
    "LAB_CLASS_URL",
    "LAB_CLASS_SECRET",
    "LAB_LEARNER",
    "LAB_REGION",
    "AWS_ENDPOINT_URL",
)
# A learner home on a shared host: ~/.vpc-endpoint-lab (home.lab_home's default folder name)
DEFAULT_HOMES = "/home/*/.vpc-endpoint-lab"


@dataclass(frozen=True)
class Verdict:
    """One chapter's "Check your work" for one learner."""

    number: str
    ok: bool
    first_failure: str | None = None  # the first red check ("what: detail"), or why none ran


@dataclass(frozen=True)
class LearnerProgress:
    learner: str
    verdicts: tuple[Verdict, ...] = ()
    problem: str | None = None  # the learner's lab could not be checked at all
    account: str | None = None  # class mode: the learner's account
    home: str | None = None  # shared host: the learner's lab home

    @property
    def stuck_at(self) -> Verdict | None:
        """The first chapter whose check is not green (None: every chapter passes)."""
        return next((verdict for verdict in self.verdicts if not verdict.ok), None)

    def as_json(self) -> dict:
        return {
            "learner": self.learner,
            "account": self.account,
            "home": self.home,
            "problem": self.problem,
            "chapters": {
                verdict.number: {"ok": verdict.ok, "first_failure": verdict.first_failure}
                for verdict in self.verdicts
            },
        }


@dataclass(frozen=True)
class Progress:
    chapters: list[Chapter]  # the chapters with a "Check your work", in order
    learners: list[LearnerProgress] = field(default_factory=list)
    empty_reason: str | None = None  # why there is no learner to show

    def as_json(self) -> dict:
        return {
            "chapters": {chapter.number: chapter.title for chapter in self.chapters},
            "learners": [learner.as_json() for learner in self.learners],
        }


def checked_chapters(chapters: list[Chapter]) -> list[Chapter]:
    """The chapters that have a "Check your work" (the introduction has none)."""
    return [chapter for chapter in chapters if type(chapter).checks is not Chapter.checks]


def _verdict(chapter: Chapter) -> Verdict:
    try:
        report = chapter.check()
    except LabError as error:
        return Verdict(chapter.number, False, t("instructor.check_error", message=error.message))
    failing = next((check for check in report.checks if not check.ok), None)
    if failing is None:
        return Verdict(chapter.number, report.ok)
    detail = f"{failing.what}: {failing.detail}" if failing.detail else failing.what
    return Verdict(chapter.number, False, detail)


def check_learner(chapters: list[Chapter], learner: str, **where) -> LearnerProgress:
    """Every checked chapter's verdict on the lab the settings name now (one action: the
    chapters' checks share their reads, as one click's do)."""
    with read_cache.action():
        verdicts = tuple(_verdict(chapter) for chapter in checked_chapters(chapters))
    return LearnerProgress(learner, verdicts, **where)


@contextlib.contextmanager
def acting_as(environment: dict[str, str]) -> Iterator[None]:
    """Read the lab's settings as the learner's lab whose ``environment`` this is (their home,
    backend, class account). The checks run in this process with its own settings variables
    changed for the while: run them one learner at a time."""
    names = set(LEARNER_VARIABLES) | set(environment)
    saved = {name: os.environ.get(name) for name in names}
    for name in LEARNER_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(environment)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def my_progress(chapters: list[Chapter]) -> Progress:
    """This learner's own lab, as their settings name it."""
    settings = current()
    label = settings.learner or _learner_of(settings.home)
    return Progress(
        checked_chapters(chapters),
        [check_learner(chapters, label, account=settings.learner_account, home=str(settings.home))],
    )


def class_progress(chapters: list[Chapter], class_folder: Path | None = None) -> Progress:
    """Every learner a class backend has seen, each checked in their own account."""
    folder = backend.class_home(class_folder)
    status = backend.class_status(folder)
    if not status["running"]:
        raise LabError("instructor.class_not_running", home=str(folder))
    region = current().region
    learners = []
    # The learners' journals are theirs: the checks read the forms' defaults (an empty home).
    with tempfile.TemporaryDirectory(prefix="lab-progress-") as empty_home:
        for account in status["accounts"]:
            if not account["learners"]:  # requests that named no learner: not a learner's lab
                continue
            environment = {
                "LAB_BACKEND": "class",
                "LAB_CLASS_URL": status["url"],
                "LAB_LEARNER": account["learners"][0],
                # the instructor's keys make each learner's (and open only their account)
                "LAB_CLASS_SECRET": backend.class_learner_keys(folder, account["learners"][0])[
                    "aws_secret_access_key"
                ],
                "LAB_HOME": empty_home,
                "LAB_REGION": region,
            }
            with acting_as(environment):
                learners.append(
                    check_learner(
                        chapters, ", ".join(account["learners"]), account=account["account_id"]
                    )
                )
    reason = None if learners else t("instructor.no_learners", where=status["url"])
    return Progress(checked_chapters(chapters), learners, reason)


def _learner_of(home: Path) -> str:
    """A home folder's learner: the user folder holding ``~/.vpc-endpoint-lab``, else its name."""
    return home.parent.name if home.name.startswith(".") else home.name


def homes_progress(chapters: list[Chapter], pattern: str = DEFAULT_HOMES) -> Progress:
    """Every learner home matching ``pattern`` that the instructor can read, each checked on
    that learner's own embedded backend (never started here: a stopped one is reported)."""
    learners = []
    for found in sorted(glob.glob(os.path.expanduser(pattern))):
        home = Path(found)
        if not backend.state_file(home).is_file():
            continue  # not a lab home, or one whose backend was never started
        learner = _learner_of(home)
        try:  # a home the instructor may not use (its state file is the learner's alone)
            running = backend.running(home)
        except LabError as refused:
            learners.append(LearnerProgress(learner, problem=refused.message, home=found))
            continue
        info = backend.server_info(running.url, running.keys) if running else None
        if info is None:
            learners.append(
                LearnerProgress(learner, problem=t("instructor.backend_not_running"), home=found)
            )
            continue
        with acting_as({"LAB_HOME": found, "LAB_BACKEND": "embedded"}):
            # the region the learner's lab was built in, else the one their backend serves
            os.environ["LAB_REGION"] = journal.lab_region() or info["region"]
            learners.append(check_learner(chapters, learner, home=found))
    reason = None if learners else t("instructor.no_learners", where=pattern)
    return Progress(checked_chapters(chapters), learners, reason)
