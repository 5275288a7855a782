"""Chapter 08 (new): delete everything the lab created, and only that."""

from __future__ import annotations

from helpers.aws import cleanup, inventory
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.views.cleanup import CleanupView
from helpers.views.html import Html
from helpers.views.inventory import render


class CleanUp(Chapter):
    number, slug, title_key = "08", "clean-up", "chapters.clean_up"
    catches_up = False  # opening it must not rebuild earlier chapters only to delete them
    all_good_key = "cleanup.check_all_clean"
    something_missing_key = "cleanup.check_something_left"

    def show(self) -> Html:
        """Everything carrying the lab's tags, and what it costs by the hour."""
        return Html(render(inventory.inventory()))

    def form(self) -> CleanupView:
        return CleanupView()

    def checks(self) -> list[Check]:
        return cleanup.check_chapter()
