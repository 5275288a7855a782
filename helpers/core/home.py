"""Where the learner's lab lives, and the language it speaks.

This sits below every other core module: the message catalogue needs the language, and the
settings (which can refuse a value with a message) need the catalogue. Reading the language
here, where nothing can be refused, keeps the two apart.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

LANGUAGES = ("en", "vi")
# JupyterLite's Pyodide kernel: the lab runs in the browser (helpers.core.backend_inprocess).
BROWSER = sys.platform == "emscripten"
# There the home folder is not kept across reloads; the notebooks' drive is (the browser's
# storage), so the journal lives beside the notebooks.
BROWSER_HOME = Path("/drive/.vpc-endpoint-lab")


def lab_home() -> Path:
    """The per-learner folder holding the backend's state file, the journal and settings."""
    configured = os.environ.get("LAB_HOME")
    if configured:
        return Path(configured).expanduser()
    return BROWSER_HOME if BROWSER else Path.home() / ".vpc-endpoint-lab"


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


def notebook_set_language(folder: Path | None = None) -> str | None:
    """The language of the notebook set a kernel was started in, if it was.

    Jupyter starts a notebook's kernel in the notebook's folder, and each translated set lives
    in a folder named by its language (``notebooks/vi/``) beside the set's introduction, so the
    same code cell speaks the language of the notebook it is in.
    """
    folder = folder or Path.cwd()
    if folder.name in LANGUAGES and (folder / "00-introduction.ipynb").exists():
        return folder.name
    return None


def language(stored: dict | None = None) -> str:
    """The learner's language: ``LAB_LANG``, else the notebook set's, else the settings file's.

    An unknown one falls back to English rather than failing."""
    wanted = os.environ.get("LAB_LANG") or notebook_set_language()
    wanted = str(wanted or chosen("LAB_LANG", "language", "en", stored)).strip().lower()
    return wanted if wanted in LANGUAGES else "en"
