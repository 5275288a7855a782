"""The instructor's side: ``python -m helpers demo`` and ``python -m helpers progress``.

The demo runs the notebook sets on a backend of its own (minutes: each language is an xdist
group of its own). Progress is the chapters' own "Check your work": it must agree with what
each chapter's ``check()`` says, for one learner, for a class backend's learners and for the
learner homes of a shared host.

What the route tables show is the lab's own picture of AWS, whose sources are named in
tests/test_fidelity.py (Amazon VPC User Guide, "Gateway endpoints": a gateway endpoint adds a
route whose destination is the service's prefix list and whose target is the endpoint).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import helpers
from helpers import instructor
from helpers.chapters import lab
from helpers.core import backend, journal
from helpers.core.settings import learner_account_id

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = [chapter.number for chapter in lab()]
CHECKED = [chapter.number for chapter in lab() if chapter.number != "00"]
ROUTE_TABLE_HEADING = re.compile(r"\((rtb-[0-9a-f]{17})\)</strong>")
DYNAMODB_ROUTE_ROW = re.compile(r"(pl-[0-9a-f]{17})</td><td[^>]*>(vpce-[0-9a-f]{17})</td>")
DYNAMODB_ROUTE_HOP = re.compile(r"(pl-[0-9a-f]{17}) → (vpce-[0-9a-f]{17})")


def helpers_command(*arguments: str, env: dict | None = None, timeout: int = 900):
    return subprocess.run(
        [sys.executable, "-m", "helpers", *arguments],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def lab_resources() -> set[tuple[str, str]]:
    from helpers.aws.inventory import inventory

    return {(item.kind, item.id) for item in inventory()}


def test_kernels_started_at_once_each_get_sockets_of_their_own(tmp_path):
    """Six notebooks run in six kernels started at the same moment: each kernel is reached over
    Unix sockets in a directory of its own (not TCP ports, which jupyter_client picks by binding
    port 0 and letting go, a race between kernels starting at once), every run finishes, and
    the socket directories are gone afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    code = (
        "import json\nfrom ipykernel.connect import get_connection_file\n"
        "print(json.dumps(json.load(open(get_connection_file()))))"
    )

    def connection_of_a_new_kernel(_) -> dict:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        with instructor.notebook_client(notebook, tmp_path, timeout=120) as runner:
            runner.execute()
        return json.loads(notebook.cells[0].outputs[0]["text"])

    with ThreadPoolExecutor(6) as pool:
        connections = list(pool.map(connection_of_a_new_kernel, range(6)))
    assert {connection["transport"] for connection in connections} == {"ipc"}
    socket_directories = {Path(connection["ip"]).parent for connection in connections}
    assert len(socket_directories) == 6
    assert not any(directory.exists() for directory in socket_directories)


# --- demo --------------------------------------------------------------------------------------


def run_demo_and_check(language: str, out: Path, numbers: list[str]) -> dict[str, str]:
    """Run the demo; assert what every demo run must show; return each chapter's page."""
    session_backend = backend.running()
    arguments = ["demo", "--lang", language, "--out", str(out)]
    if numbers != NUMBERS:
        arguments += ["--chapters", ",".join(numbers)]
    finished = helpers_command(*arguments)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    chapter_lines = [line for line in lines if re.match(r"\d\d  ", line)]
    assert [line[:2] for line in chapter_lines] == numbers
    assert all(re.search(r"\d+\.\d s  passed$", line) for line in chapter_lines), chapter_lines
    assert f"{len(numbers)} of {len(numbers)} chapters passed" in lines[-1]
    assert "cell 1 of" in finished.stderr  # progress while it runs, on stderr
    # its own backend: the test session's lab is untouched and still the same server
    assert lab_resources() == set()
    assert backend.running() == session_backend
    pages = {}
    for chapter in lab():
        if chapter.number not in numbers:
            continue
        executed = nbformat.read(out / chapter.notebook, as_version=4)
        code = [cell for cell in executed.cells if cell.cell_type == "code"]
        assert all(cell.execution_count for cell in code), chapter.number
        assert not [o for c in code for o in c.outputs if o.output_type == "error"]
        page = (out / chapter.notebook).with_suffix(".html").read_text(encoding="utf-8")
        has_widgets = instructor.WIDGET_STATE in executed.metadata.get("widgets", {})
        assert (instructor.WIDGET_STATE in page) == has_widgets  # their last state, in the page
        assert instructor.WIDGET_VIEW not in page  # and each widget shows as its snapshot
        # self-contained: nothing loaded from elsewhere (no CDN script, style or picture)
        loaded = r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["']?(?:https?:)?//"""
        assert not re.findall(loaded, page), chapter.number
        pages[chapter.number] = page
    return pages


def assert_route_tables(pages: dict[str, str]) -> None:
    """Chapter 01 shows its route tables; chapter 02 the DynamoDB route each private route
    table gained (prefix list → endpoint); chapter 07 the route its path walk took, the same
    prefix list and endpoint."""
    assert len(set(ROUTE_TABLE_HEADING.findall(pages["01"]))) >= 3  # public, private, main
    assert ROUTE_TABLE_HEADING.search(pages["02"])
    routes = set(DYNAMODB_ROUTE_ROW.findall(pages["02"]))
    assert len(routes) == 1, routes  # one prefix list, one endpoint
    if "07" in pages:
        assert set(DYNAMODB_ROUTE_HOP.findall(pages["07"])) == routes


@pytest.mark.xdist_group("demo-en")
def test_demo_runs_every_english_chapter_on_its_own_backend(fresh_lab, tmp_path):
    """``demo`` runs all nine English chapters in order, each passing, on a backend of its
    own; every executed notebook and its HTML page is written, the pages of 01, 02 and 07
    show the chapter's route tables, and the instructor's lab is untouched."""
    pages = run_demo_and_check("en", tmp_path / "en", NUMBERS)
    assert_route_tables(pages)
    assert "Check your work" not in pages["00"]  # the introduction has none
    assert "lab-check-ok" in pages["08"]  # clean-up's check, green at the end of the demo


@pytest.mark.xdist_group("demo-vi")
def test_demo_runs_every_vietnamese_chapter_in_vietnamese(fresh_lab, tmp_path):
    """The Vietnamese set's demo: every chapter passes and its pages speak Vietnamese (the
    kernel's language is the notebook set's, whatever the instructor's LAB_LANG is)."""
    pages = run_demo_and_check("vi", tmp_path / "vi", NUMBERS)
    assert_route_tables(pages)
    assert "Bảng định tuyến" in pages["01"] or "bảng định tuyến" in pages["01"]


@pytest.mark.nobackend
def test_demo_refuses_an_unknown_chapter(tmp_path):
    """A chapter that does not exist is one sentence naming the chapters, and nothing runs."""
    finished = helpers_command("demo", "--chapters", "01,42", "--out", str(tmp_path))
    assert finished.returncode == 2
    assert "42" in finished.stderr and "00, 01" in finished.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.nobackend
def test_widget_snapshot_shows_the_forms_last_state():
    """A widget on the page is its last state: words, chosen option, ticks, disabled button
    and the output under it, children in order."""

    def model(name, **state):
        return {"model_name": name, "state": state}

    state = {
        "box": model("VBoxModel", children=["IPY_MODEL_pick", "IPY_MODEL_tick", "IPY_MODEL_go"]),
        "pick": model("DropdownModel", description="Service", _options_labels=["a", "b"], index=1),
        "tick": model("CheckboxModel", description="rtb-1 & co", value=True),
        "go": model("HBoxModel", children=["IPY_MODEL_button", "IPY_MODEL_out"]),
        "button": model("ButtonModel", description="Create endpoint", disabled=True),
        "out": model("OutputModel", outputs=[{"data": {"text/html": "<b>done</b>"}}]),
    }
    snapshot = instructor.widget_snapshot(state, "box")
    assert re.search(r"Service</label> <strong>b</strong>.*checked.*rtb-1 &amp; co", snapshot)
    assert "<button disabled>Create endpoint</button></div><b>done</b>" in snapshot


# --- progress ----------------------------------------------------------------------------------


def catch_up_to(last: str) -> None:
    """Build chapters 01..``last`` as a learner who stopped after ``last`` would have."""
    for chapter in lab():
        if "00" < chapter.number <= last:
            chapter.catch_up(journal.choices(chapter.number))


def own_checks() -> dict[str, bool]:
    return {number: helpers.chapter(number).check().ok for number in CHECKED}


def expected_after(last: str) -> dict[str, bool]:
    """Chapters up to ``last`` pass, later ones (clean-up included: the lab exists) do not;
    chapter 03 checks the handler's code, which is the repository's: it passes on any lab."""
    return {number: number <= last or number == "03" for number in CHECKED}


def test_progress_on_a_half_built_lab_agrees_with_each_chapters_check(fresh_lab):
    """After chapters 01-03 only: 01-03 pass, 04-08 do not, exactly as each chapter's own
    "Check your work" says; the first failing check is the chapter's first red row; chapter
    00's ``progress()`` shows the same."""
    catch_up_to("03")
    finished = helpers_command("progress", "--json")
    assert finished.returncode == 0, finished.stderr
    (learner,) = json.loads(finished.stdout)["learners"]
    verdicts = {number: found["ok"] for number, found in learner["chapters"].items()}
    assert verdicts == expected_after("03") == own_checks()
    first_red = next(c for c in helpers.chapter("04").check().checks if not c.ok)
    assert learner["chapters"]["04"]["first_failure"].startswith(first_red.what)
    assert learner["chapters"]["01"]["first_failure"] is None

    table = helpers_command("progress")
    rows = {line[:2]: line for line in table.stdout.splitlines() if re.match(r"\d\d ", line)}
    assert list(rows) == CHECKED
    assert all(("✔" in rows[n]) == ok for n, ok in expected_after("03").items())
    assert first_red.what in rows["04"]

    widget = helpers.chapter("00").progress().html
    states = re.findall(r"class='lab-check-(ok|missing)'[^>]*>[✔✘]<", widget)
    assert states == ["ok" if ok else "missing" for ok in expected_after("03").values()]


@pytest.fixture
def class_of_three(tmp_path, monkeypatch):
    """A class backend whose three learners stopped after chapters 01, 02 and 04."""
    folder = tmp_path / "class"
    url = backend.start(folder, "us-east-1", class_port=0).url
    stopped_after = {"an": "01", "bình": "02", "chi": "04"}
    own = {}
    for learner, last in stopped_after.items():
        with monkeypatch.context() as acting:
            acting.setenv("LAB_BACKEND", "class")
            acting.setenv("LAB_CLASS_URL", url)
            acting.setenv("LAB_LEARNER", learner)
            keys = backend.class_learner_keys(folder, learner)  # the hub hands each theirs
            acting.setenv("LAB_CLASS_SECRET", keys["aws_secret_access_key"])
            acting.setenv("LAB_HOME", str(tmp_path / learner))
            catch_up_to(last)
            own[learner] = own_checks()
    yield folder, stopped_after, own
    backend.stop(folder)


def test_progress_of_a_class_shows_each_learner_where_they_are(class_of_three, fresh_lab):
    """``progress --class``: one row per learner of the class backend, in their own account,
    each chapter's verdict the one the learner's own check gave, the row's first red chapter
    the one after where they stopped; the instructor's own lab is not read."""
    folder, stopped_after, own = class_of_three
    finished = helpers_command("progress", "--class", "--class-home", str(folder), "--json")
    assert finished.returncode == 0, finished.stderr
    rows = {row["learner"]: row for row in json.loads(finished.stdout)["learners"]}
    assert set(rows) == set(stopped_after)
    for learner, last in stopped_after.items():
        verdicts = {number: found["ok"] for number, found in rows[learner]["chapters"].items()}
        assert verdicts == expected_after(last) == own[learner], learner
        assert rows[learner]["account"] == learner_account_id(learner)
    table = helpers_command("progress", "--class", "--class-home", str(folder)).stdout
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert lines["an"].split()[1:4] == ["✔", "✘", "✔"]  # 01, 02, 03 (03 is local code)
    assert re.search(r"\b05: ", lines["chi"])  # stuck at chapter 05


def test_progress_of_learner_homes_on_a_shared_host(fresh_lab, lab_home, tmp_path):
    """``progress --homes``: a learner home with a running backend is checked on that
    backend (as its own check says); one whose backend stopped is reported, not started; one
    the lab refuses (others can read it) is reported with the lab's own refusal."""
    catch_up_to("02")
    homes = tmp_path / "home"
    homes.mkdir()
    (homes / "an").symlink_to(lab_home)
    gone = json.dumps({"url": "http://127.0.0.1:9", "pid": 999999999, "instance": "gone"})
    for learner, folder_mode in (("dung", 0o700), ("em", 0o755)):  # em's: readable by others
        home = homes / learner
        home.mkdir(mode=folder_mode)
        home.chmod(folder_mode)
        backend.state_file(home).write_text(gone)
        backend.state_file(home).chmod(0o600)
    (homes / "not-a-lab").mkdir()
    finished = helpers_command("progress", "--homes", str(homes / "*"), "--json")
    assert finished.returncode == 0, finished.stderr
    rows = {row["learner"]: row for row in json.loads(finished.stdout)["learners"]}
    assert set(rows) == {"an", "dung", "em"}
    verdicts = {number: found["ok"] for number, found in rows["an"]["chapters"].items()}
    assert verdicts == expected_after("02") == own_checks()
    assert "not running" in rows["dung"]["problem"] and rows["dung"]["chapters"] == {}
    assert "chmod 700" in rows["em"]["problem"] and rows["em"]["chapters"] == {}
    assert json.loads(backend.state_file(homes / "dung").read_text())["instance"] == "gone"


def test_progress_watch_refreshes_until_ctrl_c(fresh_lab):
    """``--watch`` prints the table again every few seconds; Ctrl+C stops it cleanly."""
    watching = subprocess.Popen(
        [sys.executable, "-m", "helpers", "progress", "--json", "--watch", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    seen = ""
    while seen.count('"learners"') < 2:
        seen += watching.stdout.readline()
    watching.send_signal(signal.SIGINT)
    _, errors = watching.communicate(timeout=60)
    assert watching.returncode == 0
    assert "Traceback" not in errors and "Ctrl+C" in errors
