"""JupyterLab in the learner's language: the display language JupyterLab starts with.

JupyterLab's display language is the ``locale`` setting of its translation plugin, set from its
Settings ▸ Language menu ("Localization and language" in JupyterLab's documentation). The lab
starts JupyterLab with an application settings folder of its own whose ``overrides.json`` makes
the learner's language the *default*: a learner who picks English from that menu saves a user
setting, which wins over the default, so English stays one menu click away.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core import home

TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"
# The lab's languages as JupyterLab's language packs name them (jupyterlab-language-pack-vi-VN).
LOCALES = {"en": "en", "vi": "vi_VN"}


def settings_folder(language: str | None = None) -> Path:
    """Write JupyterLab's default settings for ``language`` (default: the learner's) into the
    lab home and return the folder, for ``jupyter lab --LabApp.app_settings_dir=<folder>``."""
    folder = home.lab_home() / "jupyterlab-settings"
    folder.mkdir(parents=True, exist_ok=True)
    overrides = {TRANSLATION_PLUGIN: {"locale": LOCALES[language or home.language()]}}
    (folder / "overrides.json").write_text(json.dumps(overrides, indent=2), encoding="utf-8")
    return folder
