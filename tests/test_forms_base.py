"""The form framework itself: refusals create nothing, results land in the output widget,
and a browser's double click is one submit."""
from __future__ import annotations

from helpers.forms.base import Field, FormModel, FormView, Problem, SubmitResult


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


def test_a_refusal_creates_nothing_and_says_so_in_the_output(lab_home):
    model = CountingForm()
    view = FormView(model)
    view.set(name="")
    result = view.click()
    assert not result.ok and result.codes == ["InvalidParameterValue"]
    assert model.created == 0
    shown = view.output.outputs[0]["data"]["text/html"]
    assert "The name is empty." in shown and "[InvalidParameterValue]" in shown


def test_a_double_click_from_the_browser_submits_once(lab_home):
    model = CountingForm()
    view = FormView(model)
    view.button.click()  # what the browser's two clicks arrive as
    view.button.click()
    assert model.created == 1
    assert len(view.output.outputs) == 1
    view.set(name="other")  # changed values are a new submit
    view.button.click()
    assert model.created == 2


def test_deliberate_clicks_always_submit(lab_home):
    model = CountingForm()
    view = FormView(model)
    view.click()
    view.click()
    assert model.created == 2
