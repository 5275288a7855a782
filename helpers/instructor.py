"""The instructor's commands: the live demo (``python -m helpers demo``) and the class's
progress (``python -m helpers progress``).

The demo runs every chapter notebook in order, as a learner's Run All does, on a backend of
its own (a temporary lab home: the instructor's own lab is never touched), and keeps each
executed notebook and a self-contained HTML page of it. Progress is the chapters' own
"Check your work" (``helpers.chapters.progress``), as a table for a terminal.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from traitlets.config import Config

from helpers.chapters import lab
from helpers.chapters import progress as lab_progress
from helpers.chapters.base import Chapter
from helpers.core import backend
from helpers.core.errors import LabError
from helpers.core.home import LANGUAGES
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.views.html import text as html_text
from helpers.views.progress import progress_grid

# JupyterLab's page without what it would fetch from a CDN: a demo page is self-contained.
PAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_SECONDS = 600
DEFAULT_WATCH_SECONDS = 5.0
COLOURS = {True: "\033[32m", False: "\033[31m"}  # green, red
RESET_COLOUR = "\033[0m"
CLEAR_SCREEN = "\033[2J\033[H"


# --- the demo ----------------------------------------------------------------------------------


@contextlib.contextmanager
def notebook_client(
    notebook: nbformat.NotebookNode, folder: Path, **options
) -> Iterator[NotebookClient]:
    """A client that runs ``notebook`` in a new python3 kernel started in ``folder`` (the
    kernel's working directory); ``options`` are NotebookClient's (timeout, allow_errors…).

    Over TCP, jupyter_client picks a kernel's five ports by binding port 0 and letting go of
    it; the kernel binds them a moment later. When kernels start at once (the demo beside
    learners' kernels on a shared hub, the test suite's class of eight) another process can
    take a port in between, and the kernel dies with "Address already in use". On Linux and
    macOS the kernel is reached over Unix sockets in a directory of its own instead, which
    cannot collide; ZeroMQ has no such sockets on Windows, where TCP stays.
    """
    with contextlib.ExitStack() as cleanup:
        config = Config()
        if os.name == "posix":
            # A short path: a Unix socket's path has a limit near 100 bytes.
            sockets = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="lab-kernel-"))
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = f"{sockets}/k"
        yield NotebookClient(
            notebook,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
            config=config,
            **options,
        )


def notebook_folder(language: str) -> Path:
    """Each language's notebook set: English in notebooks/, the others in notebooks/<lang>/."""
    return NOTEBOOKS if language == "en" else NOTEBOOKS / language


def default_out(language: str) -> Path:
    return Path("build") / "demo" / language


@dataclass(frozen=True)
class DemoResult:
    chapter: Chapter
    seconds: float
    error: str | None  # the first failing cell's error, or None: the chapter passed
    notebook: Path
    page: Path

    @property
    def passed(self) -> bool:
        return self.error is None


def chosen_chapters(numbers: str | None) -> list[Chapter]:
    """The chapters named in ``numbers`` ("00,01,02"), in the lab's order; all by default."""
    chapters = lab()
    if not numbers:
        return chapters
    wanted = {number.strip() for number in numbers.split(",") if number.strip()}
    unknown = wanted - {chapter.number for chapter in chapters}
    if unknown:
        raise LabError(
            "instructor.unknown_chapters",
            numbers=", ".join(sorted(unknown)),
            choices=", ".join(chapter.number for chapter in chapters),
        )
    return [chapter for chapter in chapters if chapter.number in wanted]


def _kernel_environment(home: Path, region: str) -> dict[str, str]:
    """A learner's kernel on the demo's backend: the lab's own settings variables replaced
    (never the instructor's backend, class or AWS account), no LAB_LANG (the kernel speaks
    its notebook set's language), and a LabError fails the run instead of showing a box."""
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith(("LAB_", "AWS_"))
    }
    return {
        **inherited,
        "LAB_HOME": str(home),
        "LAB_BACKEND": "embedded",
        "LAB_REGION": region,
        "LAB_STRICT_ERRORS": "1",
    }


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHOICE_MODELS = {"DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel"}


def widget_snapshot(state: dict, model_id: str) -> str:
    """A widget's last state as static HTML (its words, values and choices, its boxes' children
    in order): the page shows the forms as they were, with no widget library to download."""
    model = state.get(model_id)
    if model is None:
        return ""
    name, values = model["model_name"], model["state"]
    described = values.get("description")
    label = f"<label>{html_text(described)}</label> " if described else ""
    if "children" in values:
        children = "".join(
            widget_snapshot(state, child.removeprefix("IPY_MODEL_")) for child in values["children"]
        )
        direction = "row" if name == "HBoxModel" else "column"
        return f"<div style='display:flex;flex-direction:{direction};gap:4px'>{children}</div>"
    if name == "OutputModel":
        return "".join(_output_html(output) for output in values.get("outputs", []))
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{label}{values.get('value', '')}</div>"
    if name == "LabelModel":
        return f"<div>{label}{html_text(values.get('value', ''))}</div>"
    if name == "ButtonModel":
        disabled = " disabled" if values.get("disabled") else ""
        return f"<div><button{disabled}>{html_text(values.get('description', ''))}</button></div>"
    if name == "CheckboxModel":
        checked = " checked" if values.get("value") else ""
        return f"<div><input type='checkbox' disabled{checked}> {label}</div>"
    if name in CHOICE_MODELS:
        options, index = values.get("_options_labels", []), values.get("index")
        chosen = options[index] if isinstance(index, int) and index < len(options) else ""
        return f"<div>{label}<strong>{html_text(chosen)}</strong></div>"
    if "value" in values and not isinstance(values["value"], (dict, list)):
        return f"<div>{label}<code>{html_text(values['value'])}</code></div>"
    return f"<div>{label}</div>" if label else ""


def _output_html(output: dict) -> str:
    data = output.get("data", {})
    if "text/html" in data:
        return "".join(data["text/html"])
    text = output.get("text") or data.get("text/plain", "")
    return f"<pre>{html_text(''.join(text))}</pre>" if text else ""


def page_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of an executed notebook for its HTML page: each widget replaced by its snapshot
    (the widgets' state stays embedded in the page's metadata)."""
    page = copy.deepcopy(notebook)
    state = page.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in page.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                snapshot = widget_snapshot(state, view["model_id"])
                output["data"] = {"text/html": f"<div class='lab-widget-snapshot'>{snapshot}</div>"}
    return page


def _tell(message: str) -> None:
    """Progress on stderr (stdout keeps one line per chapter); overwritten on a terminal."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
    else:
        print(message, file=sys.stderr, flush=True)


def _run_chapter(chapter: Chapter, folder: Path, out: Path, environment: dict) -> DemoResult:
    notebook = nbformat.read(folder / chapter.notebook, as_version=4)
    code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]

    def cell_started(cell, cell_index, **_):
        if cell_index in code_cells:
            _tell(
                t(
                    "instructor.demo_cell",
                    chapter=chapter.number,
                    cell=code_cells.index(cell_index) + 1,
                    cells=len(code_cells),
                )
            )

    began = time.monotonic()
    error = None
    try:
        # The kernel's working directory is the set's folder: it sets the language.
        with notebook_client(
            notebook, folder, timeout=CELL_TIMEOUT_SECONDS, on_cell_start=cell_started
        ) as runner:
            runner.execute(env=environment)
    except CellExecutionError as failed:
        error = f"{failed.ename}: {failed.evalue}"
    except (CellTimeoutError, DeadKernelError) as failed:
        error = f"{type(failed).__name__}: {failed}"
    seconds = time.monotonic() - began
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    saved = out / chapter.notebook
    nbformat.write(notebook, saved)
    page = saved.with_suffix(".html")
    exporter = HTMLExporter(
        extra_template_basedirs=[str(PAGE_TEMPLATES)], template_name="offline", embed_images=True
    )
    body, _ = exporter.from_notebook_node(
        page_notebook(notebook), resources={"metadata": {"name": chapter.title}}
    )
    page.write_text(body, encoding="utf-8")
    return DemoResult(chapter, seconds, error, saved, page)


def run_demo(language: str, out: Path, numbers: str | None = None) -> list[DemoResult]:
    """Run the chapters (every one by default) of ``language``'s notebook set in order on a
    new backend, writing each executed notebook and its HTML page under ``out``; one line per
    chapter on stdout as it finishes."""
    folder = notebook_folder(language)
    chapters = chosen_chapters(numbers)
    missing = [c.notebook for c in chapters if not (folder / c.notebook).is_file()]
    if missing:
        raise LabError("instructor.no_notebooks", folder=f"{folder} ({', '.join(missing)})")
    out.mkdir(parents=True, exist_ok=True)
    region = current().region
    home = Path(tempfile.mkdtemp(prefix="lab-demo-home-"))
    results = []
    try:
        began = time.monotonic()
        backend.start(home, region)
        _tell(t("instructor.demo_backend_started", seconds=time.monotonic() - began))
        environment = _kernel_environment(home, region)
        for chapter in chapters:
            result = _run_chapter(chapter, folder, out, environment)
            results.append(result)
            verdict = t("instructor.demo_passed") if result.passed else t("instructor.demo_failed")
            line = f"{chapter.number}  {chapter.title:<45} {result.seconds:6.1f} s  {verdict}"
            print(line + (f": {result.error}" if result.error else ""), flush=True)
    finally:
        backend.stop(home)
        shutil.rmtree(home, ignore_errors=True)
    return results


def demo_command(language: str, out: str | None, numbers: str | None) -> int:
    out_folder = Path(out) if out else default_out(language)
    began = time.monotonic()
    results = run_demo(language, out_folder, numbers)
    passed = sum(result.passed for result in results)
    print(
        t(
            "instructor.demo_finished",
            passed=passed,
            total=len(results),
            seconds=time.monotonic() - began,
            folder=out_folder,
        )
    )
    return 0 if passed == len(results) else 1


# --- progress ----------------------------------------------------------------------------------


def collect_progress(class_backend: bool, homes: str | None, class_home: str | None):
    if class_backend:
        return lab_progress.class_progress(lab(), Path(class_home) if class_home else None)
    if homes:
        return lab_progress.homes_progress(lab(), homes)
    return lab_progress.my_progress(lab())


def text_table(data: dict, per_learner: bool, colour: bool) -> str:
    """The progress grid as aligned text; green and red on a colour terminal."""
    columns, rows = progress_grid(data, per_learner)
    widths = [
        max(len(column), *(len(row[index].text) for row in rows))
        for index, column in enumerate(columns)
    ]

    def line(cells: list[tuple[str, bool | None]]) -> str:
        drawn = []
        for (text, ok), width in zip(cells, widths, strict=True):
            padded = text.ljust(width)
            coloured = colour and ok is not None
            drawn.append(f"{COLOURS[ok]}{padded}{RESET_COLOUR}" if coloured else padded)
        return "  ".join(drawn).rstrip()

    header = line([(column, None) for column in columns])
    body = [line([(cell.text, cell.ok) for cell in row]) for row in rows]
    return "\n".join([header, "  ".join("-" * width for width in widths), *body])


def progress_command(
    class_backend: bool,
    homes: str | None,
    class_home: str | None,
    as_json: bool,
    watch: float | None,
) -> int:
    per_learner = class_backend or bool(homes)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    try:
        while True:
            found = collect_progress(class_backend, homes, class_home)
            data = found.as_json()
            if watch and sys.stdout.isatty():
                print(CLEAR_SCREEN, end="")
            if as_json:
                print(json.dumps(data, indent=2, ensure_ascii=False), flush=True)
            elif found.empty_reason:
                print(found.empty_reason, flush=True)
            else:
                print(text_table(data, per_learner, colour), flush=True)
                for learner in data["learners"]:
                    if learner["problem"] and not per_learner:
                        print(f"{learner['learner']}: {learner['problem']}", flush=True)
            if not watch:
                return 0
            _tell(t("instructor.updated", time=time.strftime("%H:%M:%S"), seconds=watch))
            time.sleep(watch)
    except KeyboardInterrupt:  # the way out of --watch: a clean stop, not a traceback
        print(file=sys.stderr)
        return 0


def add_commands(commands) -> None:
    """The instructor's subcommands on the CLI's parser."""
    demo = commands.add_parser(
        "demo", help="run every chapter on a backend of its own; keep notebooks and HTML pages"
    )
    demo.add_argument("--lang", choices=LANGUAGES, default="en", help="the notebook set to run")
    demo.add_argument("--out", help="folder for the executed notebooks and pages (build/demo/LANG)")
    demo.add_argument("--chapters", help="only these chapters, e.g. 00,01,02 (default: all)")
    progress = commands.add_parser(
        "progress", help="every chapter's 'Check your work' for this lab, or for a class"
    )
    progress.add_argument(
        "--class",
        dest="class_backend",
        action="store_true",
        help="every learner of the class backend (one row each)",
    )
    progress.add_argument(
        "--homes",
        nargs="?",
        const=lab_progress.DEFAULT_HOMES,
        help=f"every learner home matching this pattern (default: {lab_progress.DEFAULT_HOMES})",
    )
    progress.add_argument(
        "--class-home", help="the class backend's folder (LAB_CLASS_HOME, else in the lab home)"
    )
    progress.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    progress.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=DEFAULT_WATCH_SECONDS,
        help=f"refresh every SECONDS (default {DEFAULT_WATCH_SECONDS:g}); Ctrl+C stops",
    )


def run_command(args) -> int | None:
    """Run an instructor's subcommand; None if ``args`` names another command."""
    if args.command == "demo":
        return demo_command(args.lang, args.out, args.chapters)
    if args.command == "progress":
        return progress_command(
            args.class_backend, args.homes, args.class_home, args.as_json, args.watch
        )
    return None
