"""The lab's chapters in order, and catch-up: rebuilding what earlier chapters make.

Each chapter that creates resources names an ``ensure`` function (``module:function``) that
makes its resources if they are missing, from the learner's journal choices (or the form's
defaults), and returns a short summary. ``ensure`` functions must be idempotent.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    number: str
    slug: str
    workshop: str | None  # the original workshop's number, e.g. "2.1.2"
    title_key: str  # catalogue key of the chapter's title
    ensure: str | None = None  # "helpers.module:function"
    catches_up: bool = True  # False: opening it must not rebuild earlier chapters (clean-up)

    @property
    def notebook(self) -> str:
        return f"{self.number}-{self.slug}.ipynb"


CHAPTERS = [
    Chapter("00", "introduction", None, "chapters.introduction"),
    Chapter("01", "create-vpc-subnet-route-table", "2.1.1", "chapters.vpc",
            "helpers.aws.networking:ensure_chapter"),
    Chapter("02", "create-vpc-endpoint", "2.1.2", "chapters.endpoint",
            "helpers.aws.endpoints:ensure_chapter"),
    Chapter("03", "develop-lambda-function", "2.1.3", "chapters.develop_function"),
    Chapter("04", "create-lambda-function", "2.1.4", "chapters.create_function",
            "helpers.aws.functions:ensure_chapter"),
    Chapter("05", "create-dynamodb-table", "2.1.5", "chapters.table",
            "helpers.aws.tables:ensure_chapter"),
    Chapter("06", "create-api-gateway", "2.1.6", "chapters.api",
            "helpers.aws.api:ensure_chapter"),
    Chapter("07", "verify-private-path", None, "chapters.verify"),
    Chapter("08", "clean-up", None, "chapters.clean_up", catches_up=False),
]


def chapter(number: str) -> Chapter:
    for candidate in CHAPTERS:
        if candidate.number == number:
            return candidate
    raise KeyError(number)


def _ensure_function(spec: str):
    module_name, function_name = spec.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def catch_up(before: str) -> list[str]:
    """Make sure every chapter before ``before`` has its resources; return their summaries."""
    from helpers.core import journal
    from helpers.core.errors import LabError
    from helpers.core.settings import current

    built_in, region = journal.lab_region(), current().region
    if built_in and built_in != region:  # a second lab elsewhere would share the global IAM role
        raise LabError("chapters.region_mismatch", code="RegionMismatch", lab_region=built_in,
                       region=region)
    summaries = []
    for earlier in CHAPTERS:
        if earlier.number >= before:
            break
        if earlier.ensure:
            summary = _ensure_function(earlier.ensure)(journal.choices(earlier.number))
            if summary:
                summaries.append(summary)
    return summaries
