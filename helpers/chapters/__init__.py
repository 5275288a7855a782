"""The lab's chapters in order: the one list every other part reads.

A notebook imports nothing else: ``helpers.chapter("02")`` gives it chapter 02's API (see
``base.Chapter``). Catch-up walks this list, so any chapter can be opened first.
"""

from __future__ import annotations

from helpers.chapters.api import Api
from helpers.chapters.base import Chapter
from helpers.chapters.clean_up import CleanUp
from helpers.chapters.create_function import CreateFunction
from helpers.chapters.develop_function import DevelopFunction
from helpers.chapters.endpoint import Endpoint
from helpers.chapters.introduction import Introduction
from helpers.chapters.table import Table
from helpers.chapters.verify import Verify
from helpers.chapters.vpc import Vpc
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError

CHAPTERS: tuple[type[Chapter], ...] = (
    Introduction,
    Vpc,
    Endpoint,
    DevelopFunction,
    CreateFunction,
    Table,
    Api,
    Verify,
    CleanUp,
)


def lab() -> list[Chapter]:
    """Every chapter, each knowing the others (for catch-up and the chapter table)."""
    chapters: list[Chapter] = []
    chapters.extend(kind(chapters) for kind in CHAPTERS)
    return chapters


def chapter(number: str) -> Chapter:
    """Chapter ``number`` ("00"…"08")."""
    for candidate in lab():
        if candidate.number == number:
            return candidate
    raise LabError("chapters.unknown", number=number, choices=", ".join(c.number for c in lab()))


def catch_up() -> list[str]:
    """Create every chapter's missing resources (after a backend restart, for example)."""
    last = lab()[-1]
    with friendly_errors():
        return [*last.catch_up_earlier(), *filter(None, [last.catch_up({})])]
