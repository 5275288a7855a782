"""Running the note app's handler apart from the lab: in a child process, or in the kernel.

On every backend with processes (CPython), the handler runs in a short-lived child process
of its own (chapter 03's rehearsal, the invoker's Lambda sandbox): its environment
variables, its moto mock or its botocore hooks never touch the kernel. Under the in-process
backend (the browser: Pyodide starts no process) the same job runs in the kernel itself, and
these context managers give it what the child process would have: the function's
environment, its code on ``sys.path``, botocore hooks for the clients it makes, each put back
as it was afterwards. The kernel's moto mock answers the handler's calls.

In the kernel the switch is process-wide for the duration of the call: a thread calling AWS
at the same time would see the handler's environment. Pyodide has no threads; on CPython the
in-process backend is for tests.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from botocore.handlers import BUILTIN_HANDLERS

from helpers.core.settings import Settings, current

# The kernel's own moto settings stay while the handler runs: its mock serves the calls.
KERNEL_PREFIXES = ("MOTO_",)


def in_process(settings: Settings | None = None) -> bool:
    """True where the handler runs in the kernel (no child process: the in-process backend)."""
    return (settings or current()).backend == "inprocess"


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is ``variables`` (and the kernel's moto settings) inside, as a child
    process started with ``env=variables`` would see it, and exactly as before afterwards."""
    saved = dict(os.environ)
    kept = {name: value for name, value in saved.items() if name.startswith(KERNEL_PREFIXES)}
    os.environ.clear()
    os.environ.update({**kept, **variables})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def importable_from(folder: Path) -> Iterator[None]:
    """``folder`` first on ``sys.path`` inside; afterwards it is gone again, and so are the
    modules imported from it (the next run imports its own code afresh, as a new process)."""
    root = str(folder)
    before = set(sys.modules)
    sys.path.insert(0, root)
    try:
        yield
    finally:
        sys.path.remove(root)
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if Path(origin).is_relative_to(folder):
                del sys.modules[name]


@contextlib.contextmanager
def botocore_handlers(handlers: list[tuple]) -> Iterator[None]:
    """``handlers`` (event name, function) on every botocore session made inside — those of
    the handler's clients — and on none made afterwards (the lab's own clients never)."""
    BUILTIN_HANDLERS.extend(handlers)
    try:
        yield
    finally:
        for handler in handlers:
            BUILTIN_HANDLERS.remove(handler)
