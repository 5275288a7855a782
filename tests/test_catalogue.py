"""The message catalogue: every message in English and Vietnamese, every key used exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from helpers.core.messages import catalogue, t

pytestmark = pytest.mark.nobackend

ROOT = Path(__file__).resolve().parents[1]


def _placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_english_and_vietnamese_with_the_same_placeholders():
    for key, texts in catalogue().items():
        assert texts.get("en") and texts.get("vi"), key
        assert _placeholders(texts["en"]) == _placeholders(texts["vi"]), key


def test_every_literal_key_used_in_the_code_exists():
    used = set()
    pattern = re.compile(
        r"""(?:\bt|LabError|label_key=|_key=)\(?\s*["']([a-z_]+\.[a-z0-9_]+)["']"""
    )
    for path in (ROOT / "helpers").rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in catalogue() and not key.endswith("_"))
    assert not missing, missing


def test_language_is_chosen_by_setting(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    assert t("status.title") == "Backend của lab"
    monkeypatch.setenv("LAB_LANG", "en")
    assert t("status.title") == "Lab backend"
