"""Where the learner's lab lives, and the language it speaks.

This sits below every other core module: the message catalogue needs the language, and the
settings (which can refuse a value with a message) need the catalogue. Reading the language
here, where nothing can be refused, keeps the two apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LANGUAGES = ("en", "vi")


def lab_home() -> Path:
    """The per-learner folder holding the backend's state file, the journal and settings."""
    configured = os.environ.get("LAB_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".vpc-endpoint-lab"


def settings_file() -> Path:
    return lab_home() / "settings.json"


def stored_settings() -> dict:
    """The learner's settings file, or {} when it is missing or unreadable."""
    try:
        return json.loads(settings_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def chosen(env_name: str, key: str, default, stored: dict | None = None):
    """A setting: the environment variable if set, else the settings file's key, else default."""
    stored = stored_settings() if stored is None else stored
    return os.environ.get(env_name) or stored.get(key) or default


def language(stored: dict | None = None) -> str:
    """The learner's language; an unknown one falls back to English rather than failing."""
    wanted = str(chosen("LAB_LANG", "language", "en", stored)).strip().lower()
    return wanted if wanted in LANGUAGES else "en"
