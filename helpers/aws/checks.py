""" "Check your work": each chapter lists what should exist and says what is missing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    what: str  # what should be true, in the learner's words
    ok: bool
    detail: str = ""  # what was found, or what is missing and how to fix it
