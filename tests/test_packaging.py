"""The conda/Binder environment and pyproject.toml list the same packages and versions."""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import requires, version
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.nobackend

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", requirement)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for entry in environment["dependencies"]:
        for requirement in entry["pip"] if isinstance(entry, dict) else [entry]:
            name, spec = _split(requirement)
            if name not in {"python", "pip"}:
                listed[name] = spec
    assert listed == wanted


def test_environment_yml_is_binder_friendly():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    pip_entries = [e for e in environment["dependencies"] if isinstance(e, dict)]
    local = [r for e in pip_entries for r in e["pip"] if r.startswith(("-e", "."))]
    assert not local, "install the project in postBuild, not in environment.yml"
    for name in ("jupyterlab", "ipywidgets"):  # no upper pins fighting repo2docker's own
        spec = next(
            _split(d)[1]
            for d in environment["dependencies"]
            if isinstance(d, str) and _split(d)[0] == name
        )
        assert "<" not in spec and "==" not in spec
    assert "pip install" in (ROOT / "postBuild").read_text()


def test_committed_notebooks_are_clean():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name} has outputs"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"


def test_notebooks_follow_the_cookbook_layout():
    from helpers.chapters import lab

    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert names == [c.notebook for c in lab()]
    for name in names:
        notebook = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        markdown = "\n".join(
            "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"
        )
        titles = [line for line in markdown.splitlines() if line.startswith("# ")]
        assert len(titles) == 1, f"{name}: one title"
        for section in ("Overview", "Prerequisites", "Summary", "What's next"):
            assert re.search(rf"^##+ {section}", markdown, re.M), f"{name}: missing {section}"
        first_code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        assert "".join(first_code["source"]) == (
            f'import helpers\n\nch = helpers.chapter("{name[:2]}")\nch.start()'
        ), name


def test_notebook_code_cells_use_only_the_chapter_api():
    """After the first cell, code reaches the lab only through ``ch`` (plain Python aside):
    no cell imports a helpers module or calls into one directly."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"][1:]
        for cell in code:
            source = "".join(cell["source"])
            assert "helpers" not in source, f"{path.name}: {source!r}"
            assert not re.search(r"^\s*(from|import) ", source, re.M) or "import json" in source, (
                f"{path.name}: {source!r}"
            )


def test_the_chapter_table_links_every_chapter_to_its_notebook():
    from helpers import chapter

    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', chapter("00").show().html)
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(href for href, _ in links) == notebooks
    assert all(href == label for href, label in links)


SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/vi"])
def test_every_notebook_is_a_slide_deck(folder):
    """RISE reads ``metadata.slideshow.slide_type`` on each cell: every cell has one, each
    notebook opens on a slide, and each ``##`` section starts one (tools/notebook_slides.py
    sets them in the English set; the Vietnamese set copies them)."""
    paths = sorted((ROOT / folder).glob("[0-9][0-9]-*.ipynb"))
    assert len(paths) == 9
    for path in paths:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        kinds = [cell["metadata"].get("slideshow", {}).get("slide_type") for cell in cells]
        assert set(kinds) <= SLIDE_TYPES, f"{path.name}: a cell without slide metadata"
        assert kinds[0] == "slide", path.name
        for cell, kind in zip(cells, kinds, strict=True):
            if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("## "):
                assert kind == "slide", f"{path.name} {cell['id']}"


def test_slides_are_presented_with_rise_for_the_installed_jupyterlab():
    """jupyterlab-rise is a dependency, and the installed one supports the installed
    JupyterLab (its metadata: ``Requires-Dist: jupyterlab<5,>=4.1.0``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "jupyterlab-rise" in dict(_split(r) for r in project["dependencies"])
    wanted = next(r for r in requires("jupyterlab-rise") if r.startswith("jupyterlab<"))
    lab_major, lab_minor = (int(part) for part in version("jupyterlab").split(".")[:2])
    assert wanted.replace(" ", "") == "jupyterlab<5,>=4.1.0"
    assert (4, 1) <= (lab_major, lab_minor) < (5, 0)
