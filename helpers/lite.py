"""The lab as a static web site (JupyterLite): ``python -m helpers lite build [--out DIR]``.

The site runs the notebooks in the learner's browser, on JupyterLite's Pyodide kernel and the
lab's in-process backend (``helpers.core.backend_inprocess``): nothing to host but files.

What the build puts in the site:

- the notebooks (``notebooks/*.ipynb`` and each translated set, ``notebooks/vi/``), each with
  one cell first that installs the lab into the browser tab (``%pip install``);
- ``pypi/``: the lab's own wheel and every pure-Python wheel it needs, made from the packages
  installed here (no download), botocore's data cut to the services the lab calls; the
  compiled ones (``cryptography``, ``markupsafe``, ``pyyaml``…) come from the Pyodide
  distribution, as do Python itself and micropip;
- the JupyterLab extensions installed here (the widget manager, ``jupyterlab_widgets``);
- ``jupyter-lite.json``: the Pyodide distribution to load (``--pyodide-url``; default
  Pyodide's public CDN) and no fallback to PyPI;
- ``index.html``: a landing page that opens chapter 00 in either language.

``--offline-pyodide DIR`` (the browser test's build, for a machine that cannot reach Pyodide's
CDN) makes the site's own Pyodide distribution in ``static/pyodide/`` instead: the core files
of ``DIR`` (the ``pyodide`` npm package) and a lock that lists only the wheels the site holds —
``micropip`` (a wheel in ``DIR``), the kernel's IPython and its dependencies, the compiled
packages that have a pure-Python fallback without their compiled part, and the stand-ins of
``tools/lite_stubs/`` for the compiled ones that have none (see its README: what then fails).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.chapters import CHAPTERS
from helpers.core.errors import LabError
from helpers.core.home import LANGUAGES
from helpers.core.messages import t

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
PYODIDE_VERSION = "314.0.6"  # the one jupyterlite-pyodide-kernel 0.8.6 is built for
DEFAULT_PYODIDE_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/pyodide.mjs"
# An offline build's Pyodide, from the two package registries a locked-down machine reaches:
# the core from npm's ``pyodide`` package, micropip from PyPI (``lite fetch-pyodide``).
PYODIDE_NPM_TARBALL = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
MICROPIP = "micropip==0.11.1"
OFFLINE_PYODIDE = REPO_ROOT / "build" / f"pyodide-{PYODIDE_VERSION}"
PYODIDE_KERNEL = "@jupyterlite/pyodide-kernel-extension:kernel"
# What the lab needs in the browser: its pyproject's dependencies without the server side
# (JupyterLab, jupyter-server-proxy, the language pack) and moto without its server extra.
BROWSER_REQUIREMENTS = (
    "boto3",
    "moto",
    "openapi-spec-validator",  # moto's API Gateway imports it (moto's "apigateway" extra)
    "ipywidgets",
    "requests",
    "filelock",
)
# The Pyodide kernel brings these itself (or a shim of them): never shipped twice.
KERNEL_PROVIDED = {"ipython", "ipykernel", "traitlets", "comm", "widgetsnbextension", "pip"}
# The AWS services the lab calls (botocore's data for the others is 15 MB the learner
# would download for nothing).
LAB_SERVICES = (
    "ec2",
    "iam",
    "lambda",
    "dynamodb",
    "dynamodbstreams",
    "apigateway",
    "sts",
    "s3",
    "logs",
)
# The Python the wheels are chosen for: Pyodide's (markers such as python_version < "3.12").
PYODIDE_ENVIRONMENT = {
    "python_version": "3.14",
    "python_full_version": "3.14.0",
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}
# JupyterLite's pages read the root's configuration from this element of the root index.html.
LITE_ROOT_MARK = (
    '<script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">'
    "{}</script>"
)
INSTALL = "%pip install vpc-endpoint-lab"
PYODIDE_SITE_DIR = "static/pyodide"  # where an offline build puts its Pyodide distribution
PYODIDE_CORE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
# What the kernel loads from Pyodide's lock (jupyterlite-pyodide-kernel's worker), micropip aside.
KERNEL_LOCK_PACKAGES = ("comm", "jedi", "ipython")
# Compiled here, but their Python code runs without the compiled part (speed-ups only).
PURE_FALLBACK = {"markupsafe", "pyyaml", "charset-normalizer", "wcwidth"}
LITE_STUBS = REPO_ROOT / "tools" / "lite_stubs"
STUB_VERSION_LABEL = "+labstub"  # the real version it stands for, marked as a stand-in
# Extensions installed here that have nothing to do in a static site.
SERVER_ONLY_EXTENSIONS = ("@jupyterhub/jupyter-server-proxy",)
LAB_FILE_SUFFIXES = (".py", ".toml", ".json", ".svg")  # the package data pyproject names
# Written by the installer into an installed dist-info, not part of a wheel.
INSTALLER_FILES = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
WHEEL_FILE = (
    "Wheel-Version: 1.0\nGenerator: vpc-endpoint-lab\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


def build(
    out: Path, pyodide_url: str = DEFAULT_PYODIDE_URL, offline_pyodide: Path | None = None
) -> Path:
    """Build the site into ``out`` (emptied first); return it. With ``offline_pyodide`` (the
    ``pyodide`` npm package's files and a micropip wheel), the site carries its own Pyodide."""
    out = Path(out).resolve()
    stubbed = stub_names() if offline_pyodide else set()
    if offline_pyodide:
        pyodide_url = f"./{PYODIDE_SITE_DIR}/pyodide.mjs"
    if importlib.util.find_spec("jupyterlite_core") is None:
        raise LabError("lite.extra_missing")
    with tempfile.TemporaryDirectory(prefix="lab-lite-") as work:
        lite_dir = Path(work) / "lite"
        contents = Path(work) / "contents"
        (lite_dir / "pypi").mkdir(parents=True)
        copy_notebooks(contents)
        lab_wheel(lite_dir / "pypi")
        closure = dependency_closure(BROWSER_REQUIREMENTS, KERNEL_PROVIDED | stubbed)
        for distribution in closure:
            if is_pure(distribution):
                wheel_from_installed(distribution, lite_dir / "pypi")
        write_config(lite_dir / "jupyter-lite.json", pyodide_url)
        if out.exists():
            shutil.rmtree(out)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyterlite_core",
                "build",
                "--lite-dir",
                str(lite_dir),
                "--contents",
                str(contents),
                "--output-dir",
                str(out),
                "--no-sourcemaps",
            ],
            check=True,
            cwd=work,
        )
    drop_server_extensions(out)
    if offline_pyodide:
        compiled = [distribution for distribution in closure if not is_pure(distribution)]
        write_offline_pyodide(Path(offline_pyodide), out / PYODIDE_SITE_DIR, compiled)
    write_landing_page(out / "index.html")
    return out


# --- notebooks ------------------------------------------------------------------------------
def copy_notebooks(contents: Path) -> None:
    """Every notebook set (English at the top, each translation in its language's folder),
    each notebook opening with the cell that installs the lab in the browser tab."""
    for language in LANGUAGES:
        source = NOTEBOOKS if language == "en" else NOTEBOOKS / language
        target = contents if language == "en" else contents / language
        for path in sorted(source.glob("[0-9][0-9]-*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            install = nbformat.v4.new_code_cell(install_cell(language))
            install.id = "lite-install"
            notebook.cells.insert(first_code_cell(notebook), install)
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target / path.name)


def install_cell(language: str) -> str:
    """The first code cell: says what is loading (the kernel's start and this install take
    seconds the first time), installs the lab into the browser tab, says it is done."""
    return (
        f"print({t('lite.loading', language)!r})\n{INSTALL}\nprint({t('lite.loaded', language)!r})"
    )


def first_code_cell(notebook) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


# --- wheels ---------------------------------------------------------------------------------
def lab_wheel(pypi: Path) -> Path:
    """The lab's wheel, with the dependencies it has in the browser (``BROWSER_REQUIREMENTS``)."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    version = project["version"]
    stem = f"vpc_endpoint_lab-{version}"
    requirements = "".join(f"Requires-Dist: {name}\n" for name in BROWSER_REQUIREMENTS)
    metadata_text = (
        f"Metadata-Version: 2.1\nName: vpc-endpoint-lab\nVersion: {version}\n"
        f"Summary: {project['description']}\nRequires-Python: {project['requires-python']}\n"
        + requirements
    )
    files = [
        (path.relative_to(REPO_ROOT).as_posix(), path.read_bytes())
        for package in ("helpers", "note_app")
        for path in sorted((REPO_ROOT / package).rglob("*"))
        if path.is_file() and path.suffix in LAB_FILE_SUFFIXES and "__pycache__" not in path.parts
    ]
    files.append((f"{stem}.dist-info/METADATA", metadata_text.encode()))
    files.append((f"{stem}.dist-info/top_level.txt", b"helpers\nnote_app\n"))
    return write_wheel(pypi / f"{stem}-py3-none-any.whl", files)


def dependency_closure(requirements, leave_out=frozenset()) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need under Pyodide, without those
    named in ``leave_out`` (brought by the kernel, or stubbed) and what only they need."""
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found or name in leave_out:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # not needed here (a marker for another Python): Pyodide's, if anyone's
        found[name] = distribution
        for text in distribution.requires or []:
            needed = Requirement(text)
            if needed.marker is None or Marker(str(needed.marker)).evaluate(PYODIDE_ENVIRONMENT):
                pending.append(needed)
    return sorted(found.values(), key=distribution_name)


def distribution_name(distribution: metadata.Distribution) -> str:
    return canonicalize_name(distribution.metadata["Name"])


def browser_requires(distribution: metadata.Distribution) -> list[str]:
    """The distributions this one needs under Pyodide (its markers evaluated there)."""
    return [
        canonicalize_name(needed.name)
        for needed in map(Requirement, distribution.requires or [])
        if needed.marker is None or needed.marker.evaluate(PYODIDE_ENVIRONMENT)
    ]


def is_pure(distribution: metadata.Distribution) -> bool:
    wheel = distribution.read_text("WHEEL") or ""
    return "Root-Is-Purelib: true" in wheel and not any(
        str(path).endswith((".so", ".pyd")) for path in distribution.files or []
    )


def wheel_from_installed(distribution: metadata.Distribution, pypi: Path) -> Path:
    """A pure-Python wheel of an installed distribution, from its own files (no download);
    a compiled part is left out (``PURE_FALLBACK``: the Python code works without it)."""
    stem = f"{re.sub(r'[-_.]+', '_', distribution.metadata['Name'])}-{distribution.version}"
    files = []
    for file in distribution.files or []:
        relative = file.as_posix()
        if ".dist-info/" in relative:
            base = relative.split("/", 1)[1]
            if base in INSTALLER_FILES:
                continue
            relative = f"{stem}.dist-info/{base}"
        elif not shipped(relative):
            continue
        files.append((relative, file.locate().read_bytes()))
    return write_wheel(pypi / f"{stem}-py3-none-any.whl", files)


def write_wheel(path: Path, files: list[tuple[str, bytes]]) -> Path:
    """A pure-Python wheel of ``files`` (name in the wheel, content): its dist-info gets the
    WHEEL and RECORD files a wheel has."""
    info = path.name.split("-py3-none-any")[0] + ".dist-info"
    files = [(name, data) for name, data in files if name != f"{info}/WHEEL"]
    files.append((f"{info}/WHEEL", WHEEL_FILE.encode()))
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            wheel.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            writer.writerow([name, f"sha256={digest.decode()}", len(data)])
        writer.writerow([f"{info}/RECORD", "", ""])
        wheel.writestr(f"{info}/RECORD", lines.getvalue())
    return path


def shipped(relative: str) -> bool:
    """Whether an installed file belongs in the browser's wheel."""
    if relative.startswith("..") or "__pycache__/" in relative or relative.endswith(".pyc"):
        return False  # scripts, shared data (JupyterLab's extension files), compiled bytecode
    if relative.endswith((".so", ".pyd")):
        return False  # machine code of this platform, not the browser's
    data = re.match(r"botocore/data/([^/]+)/", relative)
    return not data or data.group(1) in LAB_SERVICES


# --- the offline build's own Pyodide distribution -------------------------------------------
def stub_names() -> set[str]:
    """The distributions ``tools/lite_stubs`` stands in for (one folder each)."""
    return {canonicalize_name(path.name) for path in LITE_STUBS.iterdir() if path.is_dir()}


def write_offline_pyodide(core: Path, target: Path, compiled) -> None:
    """Pyodide's core files from ``core``, and a lock listing only wheels that ``target``
    holds: ``core``'s own wheels (micropip), the kernel's packages, the lab's compiled ones
    without their compiled part, and the stand-ins."""
    target.mkdir(parents=True)
    for name in PYODIDE_CORE_FILES:
        shutil.copy2(core / name, target / name)
    wheels = [shutil.copy2(wheel, target / wheel.name) for wheel in sorted(core.glob("*.whl"))]
    provided = {}
    for distribution in dependency_closure(KERNEL_LOCK_PACKAGES) + list(compiled):
        name = distribution_name(distribution)
        if not is_pure(distribution) and name not in PURE_FALLBACK:
            raise ValueError(f"{name} is compiled and has neither a fallback nor a stub")
        wheel = wheel_from_installed(distribution, target)
        provided[name] = (wheel, browser_requires(distribution))
    for folder in sorted(LITE_STUBS.iterdir()):
        if folder.is_dir():
            provided[canonicalize_name(folder.name)] = (stub_wheel(folder, target), [])
    for wheel in map(Path, wheels):
        provided[canonicalize_name(wheel.name.split("-")[0])] = (wheel, [])
    lock = json.loads((core / "pyodide-lock.json").read_text(encoding="utf-8"))
    lock["packages"] = {
        name: lock_entry(name, wheel, [dep for dep in requires if dep in provided])
        for name, (wheel, requires) in sorted(provided.items())
    }
    (target / "pyodide-lock.json").write_text(json.dumps(lock, indent=1), encoding="utf-8")


def stub_wheel(folder: Path, target: Path) -> Path:
    """A wheel of a stand-in, versioned as the installed package it stands for (so that
    requirements such as moto's ``cryptography>=35.0.0`` accept it), marked ``+labstub``."""
    name = folder.name
    version = metadata.version(name) + STUB_VERSION_LABEL
    stem = f"{name}-{version}"
    files = [
        (path.relative_to(folder.parent).as_posix(), path.read_bytes())
        for path in sorted(folder.rglob("*.py"))
    ]
    files.append(
        (
            f"{stem}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        )
    )
    return write_wheel(target / f"{stem}-py3-none-any.whl", files)


def lock_entry(name: str, wheel: Path, depends: list[str]) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        imports = sorted(
            {
                entry.split("/")[0].removesuffix(".py")
                for entry in archive.namelist()
                if ".dist-info/" not in entry and (entry.count("/") or entry.endswith(".py"))
            }
        )
    return {
        "name": name,
        "version": wheel.name.split("-")[1],
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "package_type": "package",
        "imports": imports,
        "depends": sorted(depends),
        "unvendored_tests": False,
    }


# --- configuration and landing page ---------------------------------------------------------
def drop_server_extensions(out: Path) -> None:
    """Remove the extensions installed here that only work with a Jupyter server."""
    config_path = out / "jupyter-lite.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    data = config["jupyter-config-data"]
    data["federated_extensions"] = [
        extension
        for extension in data.get("federated_extensions", [])
        if extension["name"] not in SERVER_ONLY_EXTENSIONS
    ]
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for name in SERVER_ONLY_EXTENSIONS:
        shutil.rmtree(out / "extensions" / name, ignore_errors=True)


def write_config(path: Path, pyodide_url: str) -> None:
    config = {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "VPC Endpoint Lab",
            "litePluginSettings": {
                PYODIDE_KERNEL: {"pyodideUrl": pyodide_url, "disablePyPIFallback": True}
            },
        },
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def write_landing_page(path: Path) -> None:
    """The site's front page, in place of JupyterLite's (which only redirects to the app):
    it keeps the mark by which JupyterLite's pages find the site's root and configuration."""
    introduction = CHAPTERS[0]().notebook
    links = "".join(
        f"<p><a href='lab/index.html?path={'' if language == 'en' else language + '/'}"
        f"{introduction}'>{t('lite.open_chapter_00', language)}</a></p>"
        for language in LANGUAGES
    )
    notes = "".join(f"<p>{t('lite.first_open', language)}</p>" for language in LANGUAGES)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{t('lite.title', 'en')}</title>{LITE_ROOT_MARK}</head><body>"
        f"<h1>{t('lite.title', 'en')} · {t('lite.title', 'vi')}</h1>{links}{notes}</body></html>\n",
        encoding="utf-8",
    )


def fetch_pyodide(into: Path = OFFLINE_PYODIDE) -> Path:
    """Put the files ``--offline-pyodide`` needs in ``into`` (once): the ``pyodide`` npm
    package's core files and a micropip wheel."""
    if (into / "pyodide.mjs").exists() and any(into.glob("micropip-*.whl")):
        return into
    into.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(PYODIDE_NPM_TARBALL, timeout=300) as answer:
        package = io.BytesIO(answer.read())
    with tarfile.open(fileobj=package) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and "/" not in name:
                (into / name).write_bytes(archive.extractfile(member).read())
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
        + ["--no-deps", "--only-binary=:all:", "--python-version", "3.14", "-d", str(into)]
        + [MICROPIP],
        check=True,
    )
    return into


def add_command(commands) -> None:
    """``lite build`` on the lab's command line (``helpers.cli``)."""
    parser = commands.add_parser("lite", help="build the lab as a static JupyterLite site")
    parser.add_argument("action", choices=["build", "fetch-pyodide"])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "lite")
    parser.add_argument(
        "--pyodide-url",
        default=DEFAULT_PYODIDE_URL,
        help="pyodide.mjs of the Pyodide distribution to load (default: Pyodide's CDN)",
    )
    parser.add_argument(
        "--offline-pyodide",
        type=Path,
        help=(
            "a folder with the pyodide npm package's files and a micropip wheel: the site "
            "carries its own Pyodide, compiled packages stubbed (tools/lite_stubs)"
        ),
    )
