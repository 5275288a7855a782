"""Chapter 07 (new): prove the private path hop by hop, break it on purpose, and fix it."""

from __future__ import annotations

from helpers.aws import api, reachability, table_lock
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.views.forms import breakfix
from helpers.views.forms.api import ResponseView
from helpers.views.forms.base import FormView
from helpers.views.html import Html
from helpers.views.path import html as path_html


class Verify(Chapter):
    number, slug, title_key = "07", "verify-private-path", "chapters.verify"

    def show(self) -> Html:
        """The path from the function to the table: a picture and a table, each hop judged."""
        return Html(path_html(reachability.explain()))

    def request(self, method: str, body=None, query: dict | None = None) -> ResponseView:
        return ResponseView(api.request(method, body=body, query=query))

    def remove_route(self) -> breakfix.ExerciseResult:
        return breakfix.remove_route()

    def wrong_route_table(self) -> breakfix.ExerciseResult:
        return breakfix.wrong_route_table()

    def restrict_policy(self) -> breakfix.ExerciseResult:
        return breakfix.restrict_policy()

    def lock_table(self, policy: dict | str | None = None) -> breakfix.ExerciseResult:
        """Lock the note table to the endpoint (``policy``: your own table policy instead)."""
        return breakfix.lock_table(policy)

    def lock_policy(self) -> Html:
        """The lab's table policy for your table and endpoint, to read (or copy and change)."""
        return Html(breakfix.lock_policy_html())

    def call_from_outside(self) -> Html:
        """Scan the note table from this notebook: a call that does not use the endpoint."""
        return Html(breakfix.outside_call_html(table_lock.call_from_outside()))

    def unlock_table(self) -> Html:
        """Take the table's policy off again."""
        return Html(breakfix.unlock_table_html())

    def mystery_break(self) -> ResponseView:
        """Break one hop of the path without saying which (the diagnosis exercise)."""
        return ResponseView(breakfix.mystery_break())

    def restore(self) -> breakfix.ExerciseResult:
        return breakfix.restore()

    def form(self, exercise: str = "restore") -> FormView:
        """The exercises as a form; its default puts everything back (what Run All leaves)."""
        return FormView(breakfix.BreakFixForm(exercise))

    def checks(self) -> list[Check]:
        return reachability.check_chapter()
