"""The suite's one run of the notebooks: each notebook, in a kernel of its own, runs from an
empty lab and then once more; no cell may end in an error (a LabError included), and the second
run must leave exactly the same lab resources as the first (re-running never duplicates).

Chapters 01-07 catch up the earlier chapters themselves, so each notebook is an independent
test (one xdist group each: with ``--dist loadgroup`` they spread over the workers, each run on
its own worker's empty backend). Clean-up is run on a finished lab, as a learner reaches it.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
INTRODUCTION, *BUILDING, CLEAN_UP = NOTEBOOKS  # 00, then 01-07 (they make resources), then 08


def each_on_any_worker(*names: str) -> list:
    return [
        pytest.param(name, id=name[:2], marks=pytest.mark.xdist_group(f"notebook-{name[:2]}"))
        for name in names
    ]


def run_notebook(path: Path) -> nbformat.NotebookNode:
    """Run every cell in a new kernel; fail on the first cell that raises.

    LAB_STRICT_ERRORS is set for the kernel (as conftest.py sets it for the session), so a
    LabError stays an error output instead of the learner's friendly message box.
    """
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute(env={**os.environ, "LAB_STRICT_ERRORS": "1"})
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return notebook


def lab_resources() -> set[tuple[str, str]]:
    from helpers.aws.inventory import inventory

    return {(item.kind, item.id) for item in inventory()}


@pytest.mark.parametrize("name", each_on_any_worker(INTRODUCTION))
def test_introduction_runs_fresh_then_again_and_creates_nothing(name, fresh_lab):
    """The introduction runs without an error on an empty lab, twice, and builds nothing."""
    run_notebook(ROOT / "notebooks" / name)
    assert lab_resources() == set()
    run_notebook(ROOT / "notebooks" / name)
    assert lab_resources() == set()


@pytest.mark.parametrize("name", each_on_any_worker(*BUILDING))
def test_chapter_runs_fresh_then_again_without_duplicates(name, fresh_lab):
    """Chapters 01-07 run without an error on an empty lab (catching up the earlier chapters),
    create something, and a second run leaves exactly the same lab resources."""
    run_notebook(ROOT / "notebooks" / name)
    after_first = lab_resources()
    assert after_first, f"{name} created nothing"
    run_notebook(ROOT / "notebooks" / name)
    assert lab_resources() == after_first


@pytest.mark.parametrize("name", each_on_any_worker(CLEAN_UP))
def test_clean_up_runs_on_a_finished_lab_then_again(name, fresh_lab):
    """Clean-up, run on a finished lab (every chapter's resources caught up), leaves no lab
    resource, and runs again without an error on the emptied lab."""
    import helpers

    helpers.catch_up()
    assert lab_resources(), "catch-up built nothing to clean up"
    run_notebook(ROOT / "notebooks" / name)
    assert lab_resources() == set()
    run_notebook(ROOT / "notebooks" / name)
    assert lab_resources() == set()


def test_a_cell_raising_a_lab_error_fails_the_run(fresh_lab, tmp_path):
    """The runner itself: after the chapter-start cell (which, outside tests, turns a LabError
    into a message box), a cell raising a LabError still fails the run."""
    introduction = nbformat.read(ROOT / "notebooks" / INTRODUCTION, as_version=4)
    start = next(cell for cell in introduction.cells if cell.cell_type == "code")
    failing = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(start.source),
            nbformat.v4.new_code_cell(
                "from helpers.core.errors import LabError\n"
                "from helpers.core.messages import catalogue\n"
                "key = next(k for k, v in catalogue().items() if '{' not in v['en'])\n"
                "raise LabError(key)"
            ),
        ],
        metadata=introduction.metadata,
    )
    path = tmp_path / "failing.ipynb"
    nbformat.write(failing, path)
    with pytest.raises(CellExecutionError) as failed:
        run_notebook(path)
    assert "LabError" in str(failed.value)
