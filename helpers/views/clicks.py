"""Button clicks as the kernel receives them: one run at a time, a double click run once.

JupyterLab may deliver a widget message on a kernel subshell, in another thread, while the
previous click's run is still going; and a busy kernel handles a double click's second click
long after the browser sent it. So a click is judged by when the browser sent it, and a click
that arrives during a run is ignored, as the disabled button shows. A click that arrives while
a change of a field is still being judged (the judgement has just enabled the button, and the
learner was quick) waits for that judgement and then runs: it is not lost.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from helpers.core import read_cache

DOUBLE_CLICK_SECONDS = 1.0


def browser_click_time() -> float | None:
    """When the browser sent the click being handled (epoch seconds), from the comm message's
    header; None for a click made in Python (a cell, a test), which is always deliberate."""
    # A kernel has loaded ipykernel before any cell runs; elsewhere (a script, a test) there is
    # no browser, and importing ipykernel only to find that out would cost 0.1 s of the click.
    kernelbase = sys.modules.get("ipykernel.kernelbase")
    if kernelbase is None or not kernelbase.Kernel.initialized():
        return None
    parent = kernelbase.Kernel.instance().get_parent("shell") or {}
    if parent.get("msg_type") != "comm_msg":
        return None
    sent = parent.get("header", {}).get("date")
    if isinstance(sent, str):
        try:
            sent = datetime.fromisoformat(sent)
        except ValueError:
            return None
    return sent.timestamp() if isinstance(sent, datetime) else None


class ClickGuard:
    """Runs a button's action once per deliberate click, never two at once."""

    def __init__(self):
        # Held by a run and by the callbacks that must wait for one (a change being judged).
        self.lock = threading.RLock()
        self._running = False
        self._last_key: Any = None
        self._last_sent = float("-inf")

    def run(self, key: Any, action: Callable[[], None]) -> None:
        """Run ``action`` for a click on a form holding ``key`` (its values), unless a run is
        going on, or this click is a double click's second one with the same ``key``; a
        change being judged is waited for."""
        if self._running:
            return
        with self.lock:
            if self._running:  # a run began while this click waited: the button was disabled
                return
            sent = browser_click_time()
            if (
                sent is not None
                and key == self._last_key
                and sent - self._last_sent < DOUBLE_CLICK_SECONDS
            ):
                return
            self._last_key = key
            self._last_sent = sent if sent is not None else float("-inf")
            self._running = True
            try:
                with read_cache.action():  # check, create and render: each read made once
                    action()
            finally:
                self._running = False
