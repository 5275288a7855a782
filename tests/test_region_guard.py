"""A lab lives in one region: switching regions mid-lab is refused until it is cleaned up."""

from __future__ import annotations

import pytest

from helpers import catch_up, chapter
from helpers.aws import networking
from helpers.aws.cleanup import clean_up
from helpers.core import journal
from helpers.core.errors import LabError


def test_switching_region_is_refused_until_the_lab_is_cleaned_up(fresh_lab, monkeypatch):
    chapter("01").catch_up({})
    journal.record("01", {})
    assert journal.lab_region() == "us-east-1"
    monkeypatch.setenv("LAB_REGION", "eu-west-1")
    with pytest.raises(LabError) as refused:
        catch_up()
    assert refused.value.code == "chapters.region_mismatch"
    assert "us-east-1" in refused.value.message and "LAB_REGION=us-east-1" in refused.value.message
    with pytest.raises(LabError):
        clean_up()  # in eu-west-1 it could only delete the global IAM role of the real lab
    monkeypatch.setenv("LAB_REGION", "us-east-1")
    assert clean_up().finished
    assert journal.lab_region() is None
    monkeypatch.setenv("LAB_REGION", "eu-west-1")
    chapter("01").catch_up({})
    assert networking.find_lab_network() is not None
