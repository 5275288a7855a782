"""Chapter 00: what the lab builds, what it talks to, and the chapters in order."""

from __future__ import annotations

from helpers.chapters import progress as lab_progress
from helpers.chapters.base import Chapter
from helpers.core.messages import t
from helpers.views.html import Html, Link, table
from helpers.views.progress import progress_html


class Introduction(Chapter):
    number, slug, title_key = "00", "introduction", "chapters.introduction"

    def show(self) -> Html:
        """The lab's chapters with the original workshop's numbers, each linking its notebook."""
        rows = [
            [
                c.number,
                c.workshop or t("chapters.new_in_lab"),
                c.title,
                Link(c.notebook, c.notebook),
            ]
            for c in self.lab
        ]
        columns = ["column_number", "column_workshop", "column_title", "column_notebook"]
        return Html(table([t(f"chapters.{column}") for column in columns], rows))

    def progress(self, class_backend: bool = False, homes: str | None = None) -> Html:
        """For an instructor: every chapter's "Check your work" for this lab, or for a class
        (``class_backend``: every learner of the class backend; ``homes``: every learner home
        matching that pattern, e.g. "/home/*/.vpc-endpoint-lab"), as
        ``python -m helpers progress`` shows it."""
        if class_backend:
            found = lab_progress.class_progress(self.lab)
        elif homes:
            found = lab_progress.homes_progress(self.lab, homes)
        else:
            found = lab_progress.my_progress(self.lab)
        per_learner = bool(class_backend or homes)
        return progress_html(found.as_json(), per_learner, found.empty_reason)
