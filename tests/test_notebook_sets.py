"""The Vietnamese notebook set: complete, current, the same code as the English set, links that
work, and helpers that speak the language of the set a notebook is in (issue 11).

The Vietnamese notebooks are generated (``tools/notebook_sets.py build``) from the English ones
and one translation file per chapter; these tests fail as soon as a code cell differs, a
Markdown cell has no translation, or an English cell changed after it was translated.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
from pathlib import Path

import pytest
from english_leaks import english_sentences

from helpers.chapters import CHAPTERS
from helpers.core import home
from helpers.core.errors import JSON_PROBLEMS, json_problem
from helpers.core.messages import catalogue, t

pytestmark = pytest.mark.nobackend
ROOT = Path(__file__).resolve().parents[1]
ENGLISH = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{2,4} (.+)$", re.MULTILINE)  # sections (the title quotes the workshop)


def _tool():
    spec = importlib.util.spec_from_file_location("notebook_sets", ROOT / "tools/notebook_sets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _pairs():
    vietnamese = ROOT / "notebooks/vi"
    return [pytest.param(path, vietnamese / path.name, id=path.name[:2]) for path in ENGLISH]


def test_the_sets_are_complete_current_and_as_generated():
    """Every Markdown cell of every chapter has a translation of the English as it is now, and
    notebooks/vi/ is exactly what the English notebooks and the translations make."""
    assert _tool().build(check_only=True) == []


def test_the_check_fails_on_a_missing_or_stale_translation(tmp_path, monkeypatch):
    """The check above can fail: a translation file without one cell, and one translated from
    an older English text, are both named, cell by cell."""
    tool = _tool()
    monkeypatch.setattr(tool, "TRANSLATIONS", tmp_path)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    chapter = ENGLISH[2]
    source = (ROOT / "notebooks/translations/vi" / f"{chapter.stem}.toml").read_text("utf-8")
    cell_ids = re.findall(r'\[cells\."([^"]+)"\]', source)
    missing, stale = cell_ids[0], cell_ids[1]
    source = source.replace(f'[cells."{missing}"]', '[cells."no-such-cell"]', 1)
    source = re.sub(rf'(\[cells\."{stale}"\]\nen = ")[0-9a-f]+', r"\g<1>000000000000", source)
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / f"{chapter.stem}.toml").write_text(source, "utf-8")
    problems, _ = tool.problems_and_notebook("vi", chapter)
    assert any(missing in p and "no translation" in p for p in problems), problems
    assert any(stale in p and "changed since it was translated" in p for p in problems), problems
    assert any("no-such-cell" in p for p in problems), problems


@pytest.mark.parametrize(("english", "vietnamese"), _pairs())
def test_a_pair_has_the_same_code_cells_and_every_markdown_cell_translated(english, vietnamese):
    """Code cells: the same ids, order and source in both sets (one source of truth for code).
    Markdown cells: the same ids, and none left as the English text."""
    pairs = list(zip(_cells(english), _cells(vietnamese), strict=True))
    for en, vi in pairs:
        assert (en["id"], en["cell_type"]) == (vi["id"], vi["cell_type"])
        if en["cell_type"] == "code":
            assert _text(en) == _text(vi), en["id"]
        else:
            assert _text(en) != _text(vi), f"{vietnamese.name} [{en['id']}] is still English"


@pytest.mark.parametrize(("english", "vietnamese"), _pairs())
def test_a_vietnamese_notebook_has_its_workshop_title_and_working_links(english, vietnamese):
    """The title is the chapter's Vietnamese title (the workshop's, from BRIEF.md, kept in the
    catalogue); every relative link (chapters, pictures) leads to a file that exists."""
    chapter = next(kind for kind in CHAPTERS if kind.number == english.name[:2])
    cells = _cells(vietnamese)
    assert _text(cells[0]).splitlines()[0] == f"# {t(chapter.title_key, 'vi')}"
    for cell in cells:
        for target in LINK.findall(_text(cell)):
            if "://" in target or target.startswith("#"):
                continue
            assert (vietnamese.parent / target.split("#")[0]).exists(), (vietnamese.name, target)


@pytest.mark.parametrize(("english", "vietnamese"), _pairs())
def test_a_vietnamese_notebook_never_quotes_an_english_heading(english, vietnamese):
    """Pointers to a section name it by its Vietnamese heading ("xem mục “Gắn và gỡ route
    table”"), never by the English one the English set uses."""
    english_headings = set(HEADING.findall("\n".join(map(_text, _cells(english)))))
    markdown = "\n".join(_text(c) for c in _cells(vietnamese) if c["cell_type"] == "markdown")
    vietnamese_headings = set(HEADING.findall(markdown))
    for heading in english_headings - vietnamese_headings:
        assert heading not in markdown, (vietnamese.name, heading)


def test_each_introduction_links_the_other_languages_set():
    english = "\n".join(map(_text, _cells(ROOT / "notebooks/00-introduction.ipynb")))
    vietnamese = "\n".join(map(_text, _cells(ROOT / "notebooks/vi/00-introduction.ipynb")))
    assert "](vi/00-introduction.ipynb)" in english
    assert "](../00-introduction.ipynb)" in vietnamese


def test_the_language_follows_the_notebook_sets_folder_and_lab_lang_overrides_it(
    tmp_path, monkeypatch
):
    """A kernel started in notebooks/vi/ speaks Vietnamese, one in notebooks/ English, with no
    setting at all; LAB_LANG wins over the folder; a folder merely named "vi" is not a set."""
    monkeypatch.setenv("LAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LAB_LANG", raising=False)
    monkeypatch.chdir(ROOT / "notebooks/vi")
    assert home.language() == "vi"
    assert t("endpoints.create_button") == "Tạo endpoint"
    monkeypatch.setenv("LAB_LANG", "en")
    assert home.language() == "en"
    monkeypatch.delenv("LAB_LANG")
    monkeypatch.chdir(ROOT / "notebooks")
    assert home.language() == "en"
    (tmp_path / "vi").mkdir()
    monkeypatch.chdir(tmp_path / "vi")
    assert home.language() == "en"


class _AnyValue(string.Formatter):
    """Fills every placeholder, so that a message is read as the learner reads it."""

    def get_value(self, key, args, kwargs):
        return 42


def test_no_vietnamese_message_of_the_catalogue_reads_as_english():
    """Every message, refusals included, in Vietnamese: no English sentence apart from what
    AWS writes in English (its error messages, quoted as they are)."""
    leaks = {
        key: english_sentences(_AnyValue().format(texts["vi"]))
        for key, texts in catalogue().items()
    }
    assert {key: found for key, found in leaks.items() if found} == {}


def test_the_english_finder_finds_the_leaks_the_issue_names():
    """The heuristic above cannot pass by finding nothing: the JSON parser's text inside a
    Vietnamese sentence, and a pointer to an English heading, are English."""
    assert english_sentences("không phải JSON hợp lệ (Expecting value ở dòng 1, cột 42).")
    assert english_sentences('xem mục "Choose the route tables that need the route"')
    assert not english_sentences("Đã tạo endpoint vpce-0123: route pl-63a5400a → vpce-0123.")


@pytest.mark.parametrize(
    ("broken", "expected_key"),
    [
        ("", "json.expecting_value"),
        ('{"Statement": [1,]}', "json.expecting_value"),
        ('{"Statement": 1,}', "json.expecting_name"),
        ('{"a": 1 "b": 2}', "json.expecting_comma"),
        ('{"a" 1}', "json.expecting_colon"),
        ('{"a": "x', "json.unterminated_string"),
        ("{} x", "json.extra_data"),
        ('{"a": "x\ny"}', "json.control_character"),
        ('{"a": "\\q"}', "json.invalid_escape"),
        ('{"a": "\\u12"}', "json.invalid_escape"),
    ],
)
def test_broken_json_is_explained_in_the_labs_own_words(broken, expected_key, monkeypatch):
    """Python's json module explains in English; the learner gets the lab's sentence for each
    kind of mistake, with the line and column, in their language."""
    monkeypatch.setenv("LAB_LANG", "vi")
    with pytest.raises(json.JSONDecodeError) as failed:
        json.loads(broken)
    said = json_problem(failed.value)
    assert said == t(expected_key, line=failed.value.lineno, column=failed.value.colno)
    assert f"dòng {failed.value.lineno}, cột {failed.value.colno}" in said
    assert not english_sentences(said) and failed.value.msg not in said
    assert expected_key in {key for _start, key in JSON_PROBLEMS}


def test_a_broken_endpoint_policy_is_refused_without_the_parsers_english(monkeypatch):
    """The leak the issue found, end to end: the endpoint form's policy check in Vietnamese."""
    from helpers.aws.endpoints import parse_policy
    from helpers.core.errors import LabError

    monkeypatch.setenv("LAB_LANG", "vi")
    with pytest.raises(LabError) as refused:
        parse_policy('{"Version": "2012-10-17", "Statement": [')
    assert refused.value.code == "InvalidPolicyDocument"
    assert "Expecting" not in refused.value.message
    assert not english_sentences(refused.value.message)


def _form_texts() -> dict[str, set[str]]:
    """The forms' labels and buttons: English text → its Vietnamese texts."""
    texts: dict[str, set[str]] = {}
    for key, both in catalogue().items():
        name = key.split(".", 1)[1]
        if re.search(r"label|button|^save_changes$|^keep$|^apply$|anyway", name) and (
            "{" not in both["en"] and both["vi"] != both["en"]
        ):
            texts.setdefault(both["en"], set()).add(both["vi"])
    return texts


@pytest.mark.parametrize(("english", "vietnamese"), _pairs())
def test_the_narrative_names_buttons_and_fields_as_the_forms_show_them(english, vietnamese):
    """Where the English narrative names a form's button or field in bold ("click **Create
    endpoint**"), its translation names it in bold exactly as the Vietnamese form shows it
    ("**Tạo endpoint**")."""
    form_texts = _form_texts()
    translated = {cell["id"]: _text(cell) for cell in _cells(vietnamese)}
    for cell in _cells(english):
        if cell["cell_type"] != "markdown":
            continue
        for named in re.findall(r"\*\*([^*]+)\*\*", _text(cell)):
            if named in form_texts:
                shown = form_texts[named]
                assert any(f"**{text}**" in translated[cell["id"]] for text in shown), (
                    vietnamese.name,
                    cell["id"],
                    named,
                    shown,
                )
