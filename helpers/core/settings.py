"""The lab's settings: which backend, which region, which language, where state lives.

Each value comes from an environment variable if set, else from the learner's settings file
(``<lab home>/settings.json``), else from the default. Real AWS is used only when the learner
asked for it by name (``LAB_BACKEND=aws``).

The region follows the lab's own settings first, then the learner's AWS configuration, as the
AWS CLI reads it: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then the ``region`` of the profile
(``AWS_PROFILE``) in the shared config file (``AWS_CONFIG_FILE``, else ``~/.aws/config``);
only then ``us-east-1``. The settings record where the region came from, for the status panel.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import botocore.session
from botocore.exceptions import BotoCoreError

from helpers.core.errors import LabError
from helpers.core.home import chosen, lab_home, language, settings_file, stored_settings

BACKEND_KINDS = ("embedded", "aws", "endpoint")
DEFAULT_REGION = "us-east-1"
EMBEDDED_ACCOUNT_ID = "123456789012"
# What botocore reads the active profile and its files from.
PROFILE_VARIABLES = (
    "AWS_DEFAULT_PROFILE",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@dataclass(frozen=True)
class Settings:
    backend: str
    region: str
    language: str
    endpoint_url: str | None
    home: Path
    # Where the region came from: LAB_REGION, settings_file, AWS_REGION, AWS_DEFAULT_REGION,
    # profile, or default.
    region_source: str = "default"
    region_profile: str | None = None  # the AWS profile whose ``region`` was used

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
    region, region_source, region_profile = _region(stored)
    return Settings(
        backend=backend,
        region=region,
        language=language(stored),
        endpoint_url=endpoint_url,
        home=lab_home(),
        region_source=region_source,
        region_profile=region_profile,
    )


def _region(stored: dict) -> tuple[str, str, str | None]:
    """The lab's region, where it came from, and the AWS profile it came from (if one did).

    botocore reads AWS_DEFAULT_REGION but not AWS_REGION, which the AWS CLI and the other
    AWS SDKs read first: the lab reads both itself, in that order, before the profile.
    """
    for source, value in (
        ("LAB_REGION", os.environ.get("LAB_REGION")),
        ("settings_file", stored.get("region")),
        ("AWS_REGION", os.environ.get("AWS_REGION")),
        ("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION")),
    ):
        if value and value.strip():
            return value.strip(), source, None
    profile, region = _profile_region(
        tuple(os.environ.get(name) for name in PROFILE_VARIABLES),
        tuple((str(path), _version(path)) for path in aws_config_files()),
    )
    if region:
        return region, "profile", profile
    return DEFAULT_REGION, "default", None


def aws_config_files() -> tuple[Path, Path]:
    """The shared config and credentials files botocore reads profiles from."""
    return (
        Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser(),
        Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser(),
    )


def _version(path: Path) -> tuple[int, int] | None:
    """The file's modification time and size (None: no file), to notice an edit."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


@functools.lru_cache(maxsize=8)  # botocore takes ~10 ms, and settings are read on every call
def _profile_region(
    environment: tuple[str | None, ...], files: tuple[tuple[str, tuple[int, int] | None], ...]
) -> tuple[str, str | None]:
    """The active profile's name and its ``region``, as botocore reads them. The arguments
    are only the cache's key: what botocore reads them from (a change is a new answer)."""
    session = botocore.session.Session()
    name = session.get_config_variable("profile") or "default"
    try:
        region = session.get_scoped_config().get("region")
    except BotoCoreError:  # the profile is not in the files, or a file does not parse
        region = None
    return name, region.strip() if region and region.strip() else None


def save(**values) -> Path:
    """Store settings in the learner's settings file (used by ``python -m helpers settings``)."""
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = stored_settings()
    stored.update({k: v for k, v in values.items() if v is not None})
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return path
