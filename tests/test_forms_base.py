"""The form framework itself: refusals create nothing, results land in the output widget,
and a browser's double click is one submit."""

from __future__ import annotations

import threading
import time

import pytest

from helpers.views import clicks
from helpers.views.forms.base import Field, FormModel, FormView, Problem, SubmitResult

pytestmark = pytest.mark.nobackend


class CountingForm(FormModel):
    chapter = "99"
    journaled = False
    fields = [Field("name", "forms.create", "text", "ok")]

    def __init__(self):
        self.created = 0

    def check(self, values):
        if not values["name"]:
            return [Problem("name", "InvalidParameterValue", "The name is empty.")]
        return []

    def create(self, values):
        self.created += 1
        return SubmitResult(ok=True, created=True, html="<p>made</p>")


class SlowCountingForm(CountingForm):
    """After a submit, reloading the form's options keeps the kernel busy for longer than a
    double click lasts (a loaded machine)."""

    def __init__(self):
        super().__init__()
        self.fields = [
            *CountingForm.fields,
            Field("size", "forms.create", "choice", options=self._slow_options),
        ]

    def _slow_options(self, _values):
        if self.created:
            time.sleep(clicks.DOUBLE_CLICK_SECONDS + 0.2)
        return [("small", "small")]


class BlockingForm(CountingForm):
    """A submit that runs until the test lets it finish."""

    def __init__(self):
        super().__init__()
        self.started, self.release = threading.Event(), threading.Event()

    def create(self, values):
        self.started.set()
        self.release.wait(10)
        return super().create(values)


def test_a_refusal_creates_nothing_and_says_so_in_the_output(lab_home):
    model = CountingForm()
    view = FormView(model)
    view.set(name="")
    result = view.click()
    assert not result.ok and result.codes == ["InvalidParameterValue"]
    assert model.created == 0
    shown = view.output.outputs[0]["data"]["text/html"]
    assert "The name is empty." in shown and "[InvalidParameterValue]" in shown


def test_a_double_click_from_the_browser_submits_once_however_slow_the_kernel(
    lab_home, monkeypatch
):
    sent = {"at": 100.0}  # clicks arrive stamped with the time the browser sent them
    monkeypatch.setattr(clicks, "browser_click_time", lambda: sent["at"])
    model = SlowCountingForm()
    view = FormView(model)
    view.button.click()
    sent["at"] += 0.2  # the double click's second click, handled more than a second later
    view.button.click()
    assert model.created == 1
    assert len(view.output.outputs) == 1
    sent["at"] += 0.2
    view.set(name="other")  # changed values are a new submit
    view.button.click()
    assert model.created == 2


def test_a_click_on_another_thread_during_a_submit_is_ignored(lab_home):
    """JupyterLab delivers widget messages on kernel subshells: a second click can arrive
    in another thread while the first submit still runs."""
    model = BlockingForm()
    view = FormView(model)
    first = threading.Thread(target=view.button.click)
    first.start()
    assert model.started.wait(10)
    view.button.click()
    model.release.set()
    first.join(10)
    assert model.created == 1
    assert len(view.output.outputs) == 1
    view.click()  # once the submit is over, a click submits again
    assert model.created == 2


def test_deliberate_clicks_always_submit(lab_home):
    model = CountingForm()
    view = FormView(model)
    view.click()
    view.click()
    assert model.created == 2
