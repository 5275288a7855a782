"""The lab's settings: which backend, which region, which language, where state lives.

Each value comes from an environment variable if set, else from the learner's settings file
(``<lab home>/settings.json``), else from the default. Real AWS is used only when the learner
asked for it by name (``LAB_BACKEND=aws``).

The region follows the lab's own settings first, then the learner's AWS configuration, as the
AWS CLI reads it: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then the ``region`` of the profile
(``AWS_PROFILE``) in the shared config file (``AWS_CONFIG_FILE``, else ``~/.aws/config``);
only then ``us-east-1``. The settings record where the region came from, for the status panel.

Class mode (``LAB_BACKEND=class``): the lab talks to one moto server shared by a class
(``LAB_CLASS_URL``), in an account of the learner's own, derived from ``LAB_LEARNER`` (else
the operating-system user name) and named in every request's ``x-moto-account-id`` header;
the learner's key (``LAB_CLASS_SECRET``, from the instructor) proves it is theirs.

In-process (``LAB_BACKEND=inprocess``; the default in the browser, where real AWS is refused):
moto's mock inside the kernel (``helpers.core.backend_inprocess``).
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore.exceptions import BotoCoreError

from helpers.core.errors import LabError
from helpers.core.home import (
    BROWSER,
    chosen,
    lab_home,
    language,
    settings_file,
    stored_settings,
)

BACKEND_KINDS = ("embedded", "aws", "endpoint", "class", "inprocess")
DEFAULT_REGION = "us-east-1"
# moto's default account too: where a request naming no account lands (any client that does
# not send the header, e.g. someone's own AWS CLI); a learner's account is never this one.
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
    learner: str | None = None  # class mode: the learner, and the account named for them
    learner_account: str | None = None
    class_secret: str | None = field(default=None, repr=False)  # never printed

    @property
    def is_real_aws(self) -> bool:
        return self.backend == "aws"


def current() -> Settings:
    stored = stored_settings()

    def pick(env_name: str, key: str, default):
        return chosen(env_name, key, default, stored)

    # In the browser (JupyterLite) no server can be started: moto runs inside the kernel.
    backend = pick("LAB_BACKEND", "backend", "inprocess" if BROWSER else "embedded")
    backend = backend.strip().lower()
    if backend not in BACKEND_KINDS:
        raise LabError("settings.unknown_backend", value=backend, choices=", ".join(BACKEND_KINDS))
    if BROWSER and backend == "aws":
        raise LabError("settings.aws_in_browser")
    endpoint_url = learner = class_secret = None
    if backend == "endpoint":
        endpoint_url = pick("AWS_ENDPOINT_URL", "endpoint_url", None)
        if not endpoint_url:
            raise LabError("settings.endpoint_missing")
    if backend == "class":
        endpoint_url = str(pick("LAB_CLASS_URL", "class_url", "")).strip().rstrip("/")
        if not endpoint_url:
            raise LabError("settings.class_url_missing")
        if not endpoint_url.startswith(("http://", "https://")):
            raise LabError("settings.class_url_invalid", value=endpoint_url)
        learner = str(pick("LAB_LEARNER", "learner", "")).strip() or _user_name()
        class_secret = str(pick("LAB_CLASS_SECRET", "class_secret", "")).strip() or None
    region, region_source, region_profile = _region(stored)
    return Settings(
        backend=backend,
        region=region,
        language=language(stored),
        endpoint_url=endpoint_url,
        home=lab_home(),
        region_source=region_source,
        region_profile=region_profile,
        learner=learner,
        learner_account=learner_account_id(learner) if learner else None,
        class_secret=class_secret,
    )


def learner_account_id(learner: str) -> str:
    """The 12-digit account a learner of a class backend works in: the same for the same name
    (letter case and surrounding spaces aside) on every machine and every day, and different
    for different names except by a chance of about n²/10¹² in a class of n (the class
    backend's status names any account two learners share). Never moto's default account."""
    digest = hashlib.sha256(f"vpc-endpoint-lab learner {learner.strip().casefold()}".encode())
    # 100000000000-999999999999: twelve digits without a leading zero
    number = 10**11 + int.from_bytes(digest.digest()[:8], "big") % (9 * 10**11)
    account = str(number)
    return account if account != EMBEDDED_ACCOUNT_ID else str(number + 1)


def _user_name() -> str:
    """The operating-system user's name (one learner per user on a shared hub)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError) as error:  # no USER/LOGNAME and no passwd entry (some containers)
        raise LabError("settings.learner_unknown") from error


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
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored = stored_settings()
    stored.update({k: v for k, v in values.items() if v is not None})
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return path
