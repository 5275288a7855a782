"""The lab's settings: which backend, which region, which language, where state lives.

Each value comes from an environment variable if set, else from the learner's settings file
(``<lab home>/settings.json``), else from the default. Real AWS is used only when the learner
asked for it by name (``LAB_BACKEND=aws``).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

BACKEND_KINDS = ("embedded", "aws", "endpoint")
LANGUAGES = ("en", "vi")
DEFAULT_REGION = "us-east-1"
EMBEDDED_ACCOUNT_ID = "123456789012"


def lab_home() -> Path:
    """The per-learner folder holding the backend's state file, the journal and settings."""
    configured = os.environ.get("LAB_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".vpc-endpoint-lab"


def settings_file() -> Path:
    return lab_home() / "settings.json"


def _file_settings() -> dict:
    try:
        return json.loads(settings_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


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
    stored = _file_settings()

    def pick(env_name: str, key: str, default):
        return os.environ.get(env_name) or stored.get(key) or default

    backend = pick("LAB_BACKEND", "backend", "embedded").strip().lower()
    if backend not in BACKEND_KINDS:
        from helpers.core.errors import LabError

        raise LabError("settings.unknown_backend", value=backend, choices=", ".join(BACKEND_KINDS))
    endpoint_url = None
    if backend == "endpoint":
        endpoint_url = pick("AWS_ENDPOINT_URL", "endpoint_url", None)
        if not endpoint_url:
            from helpers.core.errors import LabError

            raise LabError("settings.endpoint_missing")
    language = pick("LAB_LANG", "language", "en").strip().lower()
    return Settings(
        backend=backend,
        region=pick("LAB_REGION", "region", DEFAULT_REGION).strip(),
        language=language if language in LANGUAGES else "en",
        endpoint_url=endpoint_url,
        home=lab_home(),
    )


def save(**values) -> Path:
    """Store settings in the learner's settings file (used by ``python -m helpers settings``)."""
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = _file_settings()
    stored.update({k: v for k, v in values.items() if v is not None})
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return path
