#!/usr/bin/env python3
"""The Vietnamese notebook set, generated from the English one and one translation file each.

The code cells exist once, in the English notebooks (``notebooks/NN-*.ipynb``). Each chapter's
Vietnamese Markdown lives in ``notebooks/translations/vi/NN-*.toml``, keyed by the English
cell's id, together with a digest of the English text it translates: when the English changes,
the translation is stale and ``check`` says which cell. ``build`` writes ``notebooks/vi/``
(English code cells, Vietnamese Markdown, same cell ids), which is committed so that a learner
finds it without running anything.

    python tools/notebook_sets.py build            write notebooks/vi/*.ipynb
    python tools/notebook_sets.py check            exit 1 if a translation is missing or
                                                   stale, or notebooks/vi/ is not what build writes
    python tools/notebook_sets.py skeleton NN      print a translation file to start from
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = ROOT / "notebooks"
SETS = {"vi": ENGLISH / "vi"}
TRANSLATIONS = ENGLISH / "translations"


def digest(source: str) -> str:
    """A short fingerprint of an English cell's text, stored beside its translation."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def english_notebooks() -> list[Path]:
    return sorted(ENGLISH.glob("[0-9][0-9]-*.ipynb"))


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source_text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def translation_file(language: str, notebook: Path) -> Path:
    return TRANSLATIONS / language / f"{notebook.stem}.toml"


def read_translations(language: str, notebook: Path) -> dict[str, dict]:
    path = translation_file(language, notebook)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle).get("cells", {})


def problems_and_notebook(language: str, notebook: Path) -> tuple[list[str], dict]:
    """The translated notebook, and what keeps it from being complete and current."""
    english = read_notebook(notebook)
    translations = read_translations(language, notebook)
    translated = copy.deepcopy(english)
    problems = []
    markdown_ids = set()
    for cell in translated["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        markdown_ids.add(cell["id"])
        entry = translations.get(cell["id"])
        where = f"{translation_file(language, notebook).relative_to(ROOT)} [cells.{cell['id']}]"
        if entry is None:
            problems.append(f"{where}: no translation of this Markdown cell")
            continue
        if entry.get("en") != digest(source_text(cell)):
            problems.append(
                f"{where}: the English cell changed since it was translated "
                f"(update the text, then set en = {digest(source_text(cell))!r})"
            )
        cell["source"] = entry["source"].strip("\n").splitlines(keepends=True)
    problems += [
        f"{translation_file(language, notebook).relative_to(ROOT)} [cells.{cell_id}]: "
        "no English Markdown cell has this id"
        for cell_id in sorted(set(translations) - markdown_ids)
    ]
    translated["metadata"]["language_info"] = {"name": "python"}
    translated["metadata"]["lab"] = {"language": language}
    return problems, translated


def serialise(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def build(check_only: bool = False) -> list[str]:
    problems = []
    for language, folder in SETS.items():
        wanted = set()
        for notebook in english_notebooks():
            found, translated = problems_and_notebook(language, notebook)
            problems += found
            target = folder / notebook.name
            wanted.add(target)
            text = serialise(translated)
            if check_only:
                if not target.exists() or target.read_text(encoding="utf-8") != text:
                    problems.append(
                        f"{target.relative_to(ROOT)} is not what the English notebook and its "
                        "translation make: run `python tools/notebook_sets.py build`"
                    )
            else:
                folder.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        problems += [
            f"{extra.relative_to(ROOT)} has no English notebook"
            for extra in sorted(set(folder.glob("*.ipynb")) - wanted)
        ]
    return problems


def skeleton(chapter: str, language: str = "vi") -> str:
    """A translation file holding the English text of every Markdown cell, to translate."""
    (notebook,) = ENGLISH.glob(f"{chapter}-*.ipynb")
    existing = read_translations(language, notebook)
    lines = [f"# Vietnamese Markdown of notebooks/{notebook.name}, keyed by cell id."]
    for cell in read_notebook(notebook)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = existing.get(cell["id"], {}).get("source") or source_text(cell)
        lines += [
            "",
            f'[cells."{cell["id"]}"]',
            f'en = "{digest(source_text(cell))}"',
            f"source = '''\n{text.strip(chr(10))}\n'''",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["skeleton"] and len(argv) == 2:
        print(skeleton(argv[1]), end="")
        return 0
    if argv in (["build"], ["check"]):
        problems = build(check_only=argv == ["check"])
        print("\n".join(problems) or "notebook sets are complete and current")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
