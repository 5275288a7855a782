"""What every chapter offers a notebook: the same few names, each returning what it shows.

A notebook's cells call ``ch = helpers.chapter("02")``, then ``ch.start()``, ``ch.form()``,
``ch.show()``, ``ch.check()``. Each returns an object that renders itself where it is the
cell's value (a widget, or ``Html``), so nothing is displayed behind the learner's back and
tests can look at what a chapter returns. ``catch_up`` builds the chapter's resources from
the learner's remembered choices, through the same checks as the chapter's form.
"""

from __future__ import annotations

import os

from IPython import get_ipython
from IPython.display import HTML, display

from helpers.aws import exercises
from helpers.aws.checks import Check
from helpers.core import journal, read_cache
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.status import describe
from helpers.views.checks import CheckReport
from helpers.views.exercises import ExerciseView
from helpers.views.html import Html, box
from helpers.views.status import panel_html


class Chapter:
    number: str = ""
    slug: str = ""
    workshop: str | None = None  # the original workshop's number, e.g. "2.1.2"
    title_key: str = ""  # catalogue key of the chapter's title
    catches_up: bool = True  # False: opening it must not rebuild earlier chapters (clean-up)
    all_good_key = "checks.all_good"
    something_missing_key = "checks.something_missing"

    def __init__(self, lab: list[Chapter] | None = None):
        # every chapter of the lab, in order (the registry's)
        self.lab = [self] if lab is None else lab

    @property
    def notebook(self) -> str:
        return f"{self.number}-{self.slug}.ipynb"

    @property
    def title(self) -> str:
        return t(self.title_key)

    def earlier(self) -> list[Chapter]:
        return [chapter for chapter in self.lab if chapter.number < self.number]

    # --- the notebook API ---------------------------------------------------------------------
    def start(self) -> Html:
        """The first cell: what the lab talks to, and the earlier chapters' resources made if
        they are missing (unless the chapter must not: clean-up rebuilds nothing to delete it)."""
        install_error_display()
        install_cell_actions()  # from the next cell on: this one began before the hooks were in
        with read_cache.action(), friendly_errors():
            status = describe(start=True)
            parts = [panel_html(status)]
            if status.get("restarted"):
                parts.append(box(t("backend.restarted_catching_up"), "warning"))
            summaries = self.catch_up_earlier() if self.catches_up else []
        if summaries:
            parts.append(box("; ".join(summaries), "info", t("chapters.caught_up_title")))
        return Html("".join(parts))

    def form(self):
        """The chapter's console-like form (a widget); chapters without one refuse clearly."""
        raise LabError("chapters.no_form", chapter=self.number)

    def show(self) -> Html:
        """What the chapter made, as it is now on the backend."""
        raise LabError("chapters.nothing_to_show", chapter=self.number)

    def checks(self) -> list[Check]:
        """What the chapter should have made, checked on the backend (plain data)."""
        return []

    def check(self) -> CheckReport:
        """ "Check your work": the checks under one verdict."""
        with friendly_errors():
            found = self.checks()
        return CheckReport(found, self.all_good_key, self.something_missing_key)

    def exercise(self, key: str, answer=None) -> ExerciseView:
        """Judge the learner's ``answer`` to this chapter's exercise ``key``, as "Check your
        work" does; an empty answer judges the solution instead, and says so (Run All)."""
        found = exercises.exercise(key)
        if found.chapter != self.number:
            raise LabError(
                "exercises.not_in_chapter",
                exercise=key,
                chapter=self.number,
                choices=", ".join(e.key for e in exercises.of_chapter(self.number)) or "-",
            )
        return ExerciseView(found, answer)

    def catch_up(self, choices: dict) -> str | None:
        """Make this chapter's resources if they are missing, from the learner's ``choices``
        ({} = the form's defaults); a one-line summary, or None for a chapter that makes none.
        Must be idempotent."""
        return None

    def catch_up_earlier(self) -> list[str]:
        """Make sure every earlier chapter has its resources; return their summaries."""
        built_in, region = journal.lab_region(), current().region
        if built_in and built_in != region:  # a second lab elsewhere would share the IAM role
            raise LabError(
                "chapters.region_mismatch",
                lab_region=built_in,
                region=region,
            )
        summaries = []
        for earlier in self.earlier():
            summary = earlier.catch_up(journal.choices(earlier.number))
            if summary:
                summaries.append(summary)
        return summaries


def _show_lab_error(shell, etype, value, tb, tb_offset=None):
    code = f" [{value.code}]" if value.code != value.key else ""
    display(HTML(box(value.message + code, "error")))


_cell_opened_action = False


def _begin_cell(*_) -> None:
    global _cell_opened_action
    _cell_opened_action = read_cache.begin_action()


def _end_cell(*_) -> None:
    global _cell_opened_action
    if _cell_opened_action:
        read_cache.end_action()
    _cell_opened_action = False


def install_cell_actions() -> None:
    """Each cell the learner runs (a chapter verb) is one action: its reads are made once."""
    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", _begin_cell)
        shell.events.register("post_run_cell", _end_cell)


def install_error_display() -> None:
    """Expected problems (LabError) show as one message, not a traceback.

    Not under the lab's own notebook tests (LAB_STRICT_ERRORS set by conftest.py): there a
    LabError must stay an error, or a broken chapter would pass.
    """
    if os.environ.get("LAB_STRICT_ERRORS"):
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((LabError,), _show_lab_error)
