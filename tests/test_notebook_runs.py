"""Every chapter runs on a fresh backend (catching up the earlier ones) and can run again
without duplicating anything: the second run leaves exactly the same lab resources."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(name: str) -> None:
    path = ROOT / "notebooks" / name
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"


def lab_resources() -> set[tuple[str, str]]:
    from helpers.aws.inventory import inventory

    return {(item.kind, item.id) for item in inventory()}


@pytest.mark.parametrize(
    "chapter", [c for c in CHAPTERS if c.number not in {"00", "08"}], ids=lambda c: c.number
)
def test_chapter_runs_fresh_then_again_without_duplicates(chapter, fresh_lab):
    run_notebook(chapter.notebook)
    after_first = lab_resources()
    assert after_first, f"{chapter.notebook} created nothing"
    run_notebook(chapter.notebook)
    assert lab_resources() == after_first


def test_clean_up_chapter_runs_fresh_and_again(fresh_lab):
    run_notebook(CHAPTERS[-1].notebook)
    run_notebook(CHAPTERS[-1].notebook)
    assert lab_resources() == set()
