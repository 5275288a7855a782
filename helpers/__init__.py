"""The VPC endpoint lab: every notebook starts with ``ch = helpers.chapter("NN")``.

The package runs in layers, imports one way (docs/architecture.md): ``core`` (settings,
messages, clients, the backend) → ``aws`` (one module per AWS concept, plain data) →
``views`` (forms and pictures) → ``chapters`` (one small module per notebook).
"""

from helpers.chapters import catch_up, chapter
from helpers.core.errors import LabError

__all__ = ["LabError", "catch_up", "chapter"]
