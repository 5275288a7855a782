"""The suite's one run of the notebooks: each notebook, in a kernel of its own, runs from an
empty lab and then once more; no cell may end in an error (a LabError included), and the second
run must leave exactly the same lab resources as the first (re-running never duplicates).

Chapters 01-07 catch up the earlier chapters themselves, so each notebook is an independent
test (one xdist group each: with ``--dist loadgroup`` they spread over the workers, each run on
its own worker's empty backend). Clean-up is run on a finished lab, as a learner reaches it.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import nbformat
import pytest
from english_leaks import english_sentences
from nbclient.exceptions import CellExecutionError

from helpers.instructor import notebook_client

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
INTRODUCTION, *BUILDING, CLEAN_UP = NOTEBOOKS  # 00, then 01-07 (they make resources), then 08
VIETNAMESE = sorted(f"vi/{path.name}" for path in (ROOT / "notebooks" / "vi").glob("*.ipynb"))


def each_on_any_worker(*names: str) -> list:
    def chapter(name: str) -> str:  # "02", or "vi-02" for the Vietnamese set's
        return name[:5].replace("/", "-") if name.startswith("vi/") else name[:2]

    return [
        pytest.param(name, id=chapter(name), marks=pytest.mark.xdist_group(f"nb-{chapter(name)}"))
        for name in names
    ]


def run_notebook(path: Path, env: dict | None = None) -> nbformat.NotebookNode:
    """Run every cell in a new kernel; fail on the first cell that raises.

    LAB_STRICT_ERRORS is set for the kernel (as conftest.py sets it for the session), so a
    LabError stays an error output instead of the learner's friendly message box. ``env``:
    variables the kernel gets on top of this process's (another learner's LAB_HOME…). The
    kernel starts in the notebook's folder without LAB_LANG, as Jupyter starts a learner's:
    its language is the notebook set's.
    """
    notebook = nbformat.read(path, as_version=4)
    inherited = {name: value for name, value in os.environ.items() if name != "LAB_LANG"}
    with notebook_client(notebook, path.parent, timeout=600) as runner:
        runner.execute(env={**inherited, "LAB_STRICT_ERRORS": "1", **(env or {})})
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


CODE = re.compile(r"<(pre|code|textarea)\b.*?</\1>", re.DOTALL)  # code is code, in any set
TAG = re.compile(r"<[^>]+>")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def shown_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the learner reads in a run notebook: outputs and the widgets' last state
    (labels, options, buttons, HTML), without code blocks and HTML tags."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            # what JupyterLab shows: the HTML when there is one, else the plain text
            texts += [data.get("text/html") or data.get("text/plain", ""), output.get("text", "")]
    for model in (
        notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}).values()
    ):
        for key in ("value", "description", "placeholder", "tooltip", "_options_labels"):
            value = model["state"].get(key)
            texts += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    joined = "\n".join("".join(text) if isinstance(text, list) else text for text in texts)
    return html.unescape(TAG.sub("\n", CODE.sub("\n", joined)))


@pytest.mark.parametrize("name", each_on_any_worker(*VIETNAMESE))
def test_vietnamese_notebook_runs_and_shows_no_english(name, fresh_lab):
    """Each notebook of the Vietnamese set runs without an error from an empty lab (clean-up
    from a finished one), its helpers speaking the set's language, and nothing it shows reads
    as English apart from what AWS writes in English."""
    if name == f"vi/{CLEAN_UP}":
        import helpers

        helpers.catch_up()
    notebook = run_notebook(ROOT / "notebooks" / name)
    text = shown_text(notebook)
    assert text.strip(), f"{name} showed nothing"
    assert english_sentences(text) == [], name


def test_shown_text_finds_english_in_outputs_and_widgets():
    """The scan above cannot pass by reading nothing: an English sentence in an output or in a
    widget's state is found, and one inside a code block is not."""
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output(
                        "display_data",
                        data={"text/html": "<b>Đã tạo</b> (Expecting value at line 1)"},
                    ),
                    nbformat.v4.new_output("stream", text="<pre>the code is here</pre>"),
                ]
            )
        ],
        metadata={
            "widgets": {
                WIDGET_STATE: {
                    "state": {"m": {"state": {"description": "Keep the endpoint as it is"}}}
                }
            }
        },
    )
    found = english_sentences(shown_text(notebook))
    assert found == ["Expecting value at line 1", "Keep the endpoint as it is"]


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
