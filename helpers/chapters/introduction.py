"""Chapter 00: what the lab builds, what it talks to, and the chapters in order."""

from __future__ import annotations

from helpers.chapters.base import Chapter
from helpers.core.messages import t
from helpers.views.html import Html, Link, table


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
