"""The message catalogue: every learner-facing sentence, in English and Vietnamese.

Sentences live in ``helpers/catalogue/<topic>.toml``: one table per message, keyed
``<topic>.<name>``, with an ``en`` and a ``vi`` text using ``{placeholders}``.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from helpers.core import home

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "catalogue"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    entries: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.toml")):
        with path.open("rb") as handle:
            for name, texts in tomllib.load(handle).items():
                entries[f"{path.stem}.{name}"] = texts
    return entries


def t(key: str, language: str | None = None, **values) -> str:
    """The message ``key`` in the learner's language, with ``values`` filled in."""
    language = language or home.language()
    texts = catalogue()[key]
    return texts.get(language, texts["en"]).format(**values)
