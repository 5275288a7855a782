"""Helpers for the VPC endpoint lab: backend, AWS clients, forms, rendering, clean-up.

Notebooks call these; AWS logic lives here, organised by concept.
"""
from helpers.chapters import catch_up as _catch_up_before
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.chapters.notebook import start_chapter


def catch_up() -> list[str]:
    """Create every chapter's missing resources (after a backend restart, for example)."""
    from helpers.chapters import CHAPTERS

    with friendly_errors():
        return _catch_up_before(CHAPTERS[-1].number)


__all__ = ["LabError", "catch_up", "client", "friendly_errors", "start_chapter", "t"]
