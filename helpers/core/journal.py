"""The learner's journal: the choices made in each chapter's form, kept beside the backend.

It lives in the lab home folder, not in the backend, so it survives a backend that died:
catch-up rebuilds earlier chapters with the learner's own values.
"""

from __future__ import annotations

import json
import os

from helpers.core.home import lab_home
from helpers.core.settings import current


def _path():
    return lab_home() / "journal.json"


def read() -> dict:
    try:
        return json.loads(_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


LAB_KEY = "lab"  # not a chapter: facts about the learner's whole lab (its region)


def lab_region() -> str | None:
    """The region the learner's lab was built in (None before the first form, or after a
    finished clean-up)."""
    return read().get(LAB_KEY, {}).get("region")


def forget_region() -> None:
    """After a finished clean-up the lab may be built again, in any region."""
    journal = read()
    if journal.pop(LAB_KEY, None) is not None:
        _write(journal)


def forget() -> None:
    """Every choice and the lab's region forgotten: the lab as on first use."""
    _path().unlink(missing_ok=True)


def choices(chapter: str) -> dict:
    """What the learner chose in ``chapter``'s form last time ({} if nothing yet)."""
    return read().get(chapter, {})


def record(chapter: str, values: dict) -> None:
    """Remember ``values`` (JSON-able, never credentials) as ``chapter``'s choices."""
    journal = read()
    journal[chapter] = values
    journal.setdefault(LAB_KEY, {}).setdefault("region", current().region)
    _write(journal)


def _write(journal: dict) -> None:
    path = _path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the lab home: the learner's
    temporary = path.with_suffix(".tmp")
    # Names as the learner typed them ("điểm-cuối-dynamodb"), not \u escapes: the file stays
    # readable, and it is written and read as UTF-8 whatever the machine's locale.
    temporary.write_text(
        json.dumps(journal, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8"
    )
    os.replace(temporary, path)  # atomic: a crash never leaves half a journal
