"""An exercise as the learner sees it: the checks of their answer, a hint to reveal, and the
solution to reveal once an answer was wrong.

When the answer was left empty (Run All), the cell judges the solution instead and says so:
the notebook runs on, and the learner sees what a right answer looks like.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets
from IPython.display import display

from helpers.aws.exercises import Exercise, is_empty
from helpers.core.clients import friendly_errors
from helpers.core.messages import t
from helpers.views.checks import render
from helpers.views.html import box


def solution_html(exercise: Exercise) -> str:
    """The solution and why it is right (the same text ``python -m helpers solutions`` prints)."""
    return f"<pre class='lab-solution'>{escape(exercise.solution_text())}</pre>" + box(
        exercise.why, "info"
    )


class ExerciseView:
    """The judged answer, with a "Show hint" button and, after a wrong answer, "Show solution"."""

    def __init__(self, exercise: Exercise, answer):
        self.exercise = exercise
        self.used_solution = is_empty(answer)
        self.answer = exercise.solution if self.used_solution else answer
        with friendly_errors():
            self.checks = exercise.judge(self.answer)
        notice = (
            box(t("exercises.used_solution"), "warning", t("exercises.empty_title"))
            + solution_html(exercise)
            if self.used_solution
            else ""
        )
        self.report = widgets.HTML(
            f"<p><em>{escape(exercise.task)}</em></p>"
            + notice
            + render(self.checks, "exercises.right", "exercises.not_yet")
        )
        self.revealed = widgets.HTML()  # the hint or the solution, once asked for
        self.hint_button = widgets.Button(description=t("exercises.show_hint"), icon="lightbulb-o")
        self.hint_button.on_click(lambda _: self.show_hint())
        self.solution_button = widgets.Button(
            description=t("exercises.show_solution"),
            icon="eye",
            # revealed only after a wrong attempt: a right or empty answer has nothing to fix
            disabled=self.ok or self.used_solution,
            tooltip=t("exercises.solution_after_wrong"),
        )
        self.solution_button.on_click(lambda _: self.show_solution())
        self.widget = widgets.VBox(
            [self.report, widgets.HBox([self.hint_button, self.solution_button]), self.revealed]
        )

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def solution_available(self) -> bool:
        return not self.solution_button.disabled

    def show_hint(self) -> None:
        self.revealed.value = box(self.exercise.hint, "info", t("exercises.hint_title"))

    def show_solution(self) -> None:
        if self.solution_available:
            self.revealed.value = (
                f"<p><strong>{escape(t('exercises.solution_title'))}</strong></p>"
                + solution_html(self.exercise)
            )

    def _ipython_display_(self):
        display(self.widget)
