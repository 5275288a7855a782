#!/usr/bin/env python3
"""Slide metadata for the English notebooks, so an instructor can present a chapter with RISE.

One rule for every notebook: the title and each ``##`` section (Overview, Prerequisites, each
step, Check your work, Summary…) start a slide; a ``###`` heading or a paragraph between two
cells of a section is a sub-slide under it (RISE's vertical steps); each code cell is a
fragment of the slide it follows, so its form or picture appears live after the explanation.
The Vietnamese set copies cell metadata from the English notebooks (tools/notebook_sets.py).

    python tools/notebook_slides.py          set the metadata (then: notebook_sets.py build)
    python tools/notebook_slides.py check    exit 1 if a notebook's metadata is not the rule's
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def slide_type(cell: dict, first: bool) -> str:
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    if first or (cell["cell_type"] == "markdown" and source.startswith(("# ", "## "))):
        return "slide"
    if cell["cell_type"] == "markdown":
        return "subslide"
    return "fragment"


def with_slides(notebook: dict) -> dict:
    for index, cell in enumerate(notebook["cells"]):
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type(cell, index == 0)}
    return notebook


def main(argv: list[str]) -> int:
    wrong = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        text = path.read_text(encoding="utf-8")
        notebook = with_slides(json.loads(text))
        # written as nbformat writes a notebook, so only the metadata changes
        wanted = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        if wanted == text:
            continue
        if argv[:1] == ["check"]:
            wrong.append(path.name)
        else:
            path.write_text(wanted, encoding="utf-8")
    for name in wrong:
        print(f"{name}: its slide metadata is not the rule's: run python tools/notebook_slides.py")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
