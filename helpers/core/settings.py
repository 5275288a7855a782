"""The lab's settings: which backend, which region, which language, where state lives.

Each value comes from an environment variable if set, else from the learner's settings file
(``<lab home>/settings.json``), else from the default. Real AWS is used only when the learner
asked for it by name (``LAB_BACKEND=aws``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.core.errors import LabError
from helpers.core.home import chosen, lab_home, language, settings_file, stored_settings

BACKEND_KINDS = ("embedded", "aws", "endpoint")
DEFAULT_REGION = "us-east-1"
EMBEDDED_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class Settings:
    backend: str
    region: str
    language: str
    endpoint_url: str | None
    home: Path

    @property
    def is_real_aws(self) -> bool:
        return self.backend == "aws"


def current() -> Settings:
    stored = stored_settings()

    def pick(env_name: str, key: str, default):
        return chosen(env_name, key, default, stored)

    backend = pick("LAB_BACKEND", "backend", "embedded").strip().lower()
    if backend not in BACKEND_KINDS:
        raise LabError("settings.unknown_backend", value=backend, choices=", ".join(BACKEND_KINDS))
    endpoint_url = None
    if backend == "endpoint":
        endpoint_url = pick("AWS_ENDPOINT_URL", "endpoint_url", None)
        if not endpoint_url:
            raise LabError("settings.endpoint_missing")
    return Settings(
        backend=backend,
        region=pick("LAB_REGION", "region", DEFAULT_REGION).strip(),
        language=language(stored),
        endpoint_url=endpoint_url,
        home=lab_home(),
    )


def save(**values) -> Path:
    """Store settings in the learner's settings file (used by ``python -m helpers settings``)."""
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = stored_settings()
    stored.update({k: v for k, v in values.items() if v is not None})
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return path
