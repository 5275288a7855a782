"""The VPC endpoint lab: every notebook starts with ``ch = helpers.chapter("NN")``.

The package runs in layers, imports one way (docs/architecture.md): ``core`` (settings,
messages, clients, the backend) → ``aws`` (one module per AWS concept, plain data) →
``views`` (forms and pictures) → ``chapters`` (one small module per notebook).

The names below load on first use (PEP 562): a process that needs only ``helpers.core`` (the
embedded backend's server, the command line's backend commands) then never imports the
chapters, their forms and ipywidgets — about 10 MB that the backend would hold all lab long.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.chapters import catch_up, chapter
    from helpers.core.errors import LabError

__all__ = ["LabError", "catch_up", "chapter"]
_HOMES = {
    "catch_up": "helpers.chapters",
    "chapter": "helpers.chapters",
    "LabError": "helpers.core.errors",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
