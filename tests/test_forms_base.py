"""The form framework itself: refusals create nothing, results land in the output widget,
and a browser's double click is one submit."""

from __future__ import annotations

import threading
import time

import pytest

from helpers.core.messages import t
from helpers.views import clicks
from helpers.views.forms.base import (
    Field,
    FormModel,
    FormView,
    Problem,
    SubmitResult,
    render_problems,
)

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


# --- judging before the click ------------------------------------------------------------------
class JudgedForm(FormModel):
    """A refusal ("" name), a plain warning ("big") and a warning that needs confirming
    ("risky"): the three kinds a form's checks give."""

    chapter = "99"
    journaled = False
    fields = [Field("name", "forms.create", "text", "ok")]

    def __init__(self):
        self.created = 0

    def check(self, values):
        name = values["name"]
        if not name:
            return [Problem("name", "InvalidParameterValue", "The name is empty.")]
        if name == "big":
            return [Problem("name", "lab.big", "A big name.", "warning")]
        if name == "risky":
            return [Problem("name", "lab.risky", "This leaves things broken.", "confirm")]
        return []

    def create(self, values):
        self.progress(f"Making {values['name']}…")
        self.created += 1
        return SubmitResult(ok=True, created=True, html=f"<p>made {values['name']}</p>")


def shown_html(view: FormView) -> str:
    (only,) = view.output.outputs  # one result, never a stack of them
    return only["data"]["text/html"]


def judge_then_click(view: FormView, **values) -> tuple[str, SubmitResult]:
    """Set ``values`` as a learner would, read the judgement shown before any click, then
    click: the judgement must be the click's own refusals and warnings, in the same words
    (the confirmation request stands beside the button, not in the judgement). Every form's
    tests use it."""
    view.set(**values)
    before = view.judgement.value
    result = view.click()
    answered = [p for p in result.problems if p.code != "forms.confirm_first"]
    assert before == render_problems(view.model, answered)
    return before, result


@pytest.mark.parametrize("name", ["", "big"])
def test_the_judgement_before_the_click_is_what_the_click_answers(lab_home, name):
    model = JudgedForm()
    before, result = judge_then_click(FormView(model), name=name)
    assert before  # something was shown before the click
    assert [p.message for p in result.problems] == [p.message for p in model.check({"name": name})]
    assert model.created == (0 if name == "" else 1)


def test_a_refusal_disables_the_button_and_says_why_beside_it(lab_home):
    view = FormView(JudgedForm())
    assert not view.button.disabled and view.button.description == t("forms.create")
    view.set(name="")
    assert view.button.disabled
    assert t("forms.refused_for_now") in view.waiting.value
    assert view.preview.value == ""
    view.set(name="fine")
    assert not view.button.disabled and view.waiting.value == ""


def test_a_warning_to_confirm_blocks_until_confirmed_then_creates(lab_home):
    model = JudgedForm()
    view = FormView(model)
    view.set(name="risky")
    assert "This leaves things broken." in view.judgement.value
    assert view.confirm.layout.display is None  # the confirmation is offered
    assert view.button.disabled
    assert view.button.description == t("forms.anyway", action="Create", action_lower="create")
    refused = view.click()
    assert not refused.ok and "forms.confirm_first" in refused.codes
    assert model.created == 0
    confirmed = view.click(confirmed=True)
    assert confirmed.ok and model.created == 1
    assert "lab.risky" in confirmed.codes  # the warning stays in the result


def test_submit_without_confirmation_creates_nothing(lab_home):
    model = JudgedForm()
    assert model.submit(name="risky").codes == ["lab.risky", "forms.confirm_first"]
    assert model.created == 0
    assert model.submit(confirmed=True, name="risky").ok and model.created == 1


def test_a_plain_warning_needs_no_confirmation(lab_home):
    view = FormView(JudgedForm())
    view.set(name="big")
    assert view.confirm.layout.display == "none" and not view.button.disabled
    assert view.button.description == t("forms.create")


def test_a_confirmation_is_undone_by_a_field_change(lab_home):
    view = FormView(JudgedForm())
    view.set(name="risky")
    view.confirm.value = True
    assert not view.button.disabled
    view.set(name="risky ")
    view.set(name="risky")
    assert view.confirm.value is False and view.button.disabled


def test_a_field_change_marks_the_result_outdated_and_a_click_replaces_it(lab_home):
    view = FormView(JudgedForm())
    view.click()
    assert "made ok" in shown_html(view) and t("forms.outdated") not in shown_html(view)
    view.set(name="other")
    assert "made ok" in shown_html(view) and t("forms.outdated") in shown_html(view)
    view.set(name="ok")  # back to the values the result is for: current again
    assert t("forms.outdated") not in shown_html(view)
    view.set(name="other")
    view.click()
    assert "made other" in shown_html(view) and "made ok" not in shown_html(view)
    assert t("forms.outdated") not in shown_html(view)


def test_the_result_replaces_the_progress_lines_shown_while_waiting(lab_home):
    view = FormView(JudgedForm())
    view.click()
    assert "made ok" in shown_html(view) and "Making" not in shown_html(view)


def test_a_refused_click_after_a_result_replaces_it(lab_home):
    view = FormView(JudgedForm())
    view.click()
    view.set(name="")
    view.click()
    html = shown_html(view)
    assert "made ok" not in html and "The name is empty." in html
    assert t("forms.nothing_created") in html
