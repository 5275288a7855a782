"""The Clean up button: a progress bar, a line saying what is happening, and the report.

The button is a form with no fields: the form view's click handling (one run at a time, a
double click run once, errors shown in the output) serves it as it serves every other form.
"""

from __future__ import annotations

import ipywidgets as widgets

from helpers.aws import inventory
from helpers.aws.cleanup import CleanupReport, clean_up
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.views.forms.base import FormModel, FormView, SubmitResult
from helpers.views.html import box, table, text


def report_html(report: CleanupReport) -> str:
    """The outcome under one headline: what is still there and why, then what was deleted."""
    parts = [box(report.headline(), "success" if report.finished else "warning")]
    if report.leftovers:
        columns = ["column_type", "column_id", "column_name", "column_reason"]
        parts.append(
            table(
                [t(f"cleanup.{column}") for column in columns],
                [
                    [
                        left.item.kind_label,
                        left.item.id,
                        left.item.name,
                        f"{left.reason} [{left.code}]",
                    ]
                    for left in report.leftovers
                ],
                caption=t("cleanup.leftovers_caption"),
            )
        )
    if report.deleted:  # the inventory above listed them already: folded, opened on demand
        deleted = table(
            [t("cleanup.column_type"), t("cleanup.column_id"), t("cleanup.column_name")],
            [[item.kind_label, item.id, item.name] for item in report.deleted],
        )
        summary = text(t("cleanup.deleted_caption") + f" ({len(report.deleted)})")
        parts.append(f"<details><summary>{summary}</summary>{deleted}</details>")
    return "".join(parts)


class CleanupForm(FormModel):
    chapter = "08"
    fields = []
    submit_label_key = "cleanup.button"
    button_style = "danger"
    button_icon = "trash"
    journaled = False  # clean-up creates nothing a chapter must rebuild
    refused_key = None  # a clean-up that could not run says why; it had nothing to create
    raises_when_refused = True  # on Run All, a clean-up that could not run stops the notebook

    def __init__(self):
        # (done, total, what is happening now); the view draws it as a progress bar.
        self.steps = lambda done, total, message: None

    def action_label(self, values: dict) -> str:
        """What a click deletes, counted; without the count when the backend cannot be asked
        (the click then says why)."""
        try:
            with friendly_errors():
                count = len(inventory.inventory())
        except LabError:
            return t(self.submit_label_key)
        return t("cleanup.button_count", count=count)

    def create(self, values: dict) -> SubmitResult:
        report = clean_up(progress=self.steps)
        return SubmitResult(ok=True, resource=report, html=report_html(report))

    def done(self, result: SubmitResult) -> bool:
        """A clean-up with something still pending runs again on the next Run All."""
        return result.ok and result.resource.finished


class CleanupView(FormView):
    def __init__(self):
        self.bar = widgets.IntProgress(
            value=0,
            min=0,
            max=1,
            description=t("cleanup.progress_label"),
            style={"description_width": "initial"},
        )
        self.status = widgets.Label()
        model = CleanupForm()
        model.steps = self._step
        super().__init__(model)

    def _step(self, done: int, total: int, message: str) -> None:
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)
        self.status.value = message

    def _children(self):
        return [self.button, self.bar, self.status, self.output]

    @property
    def report(self) -> CleanupReport | None:
        return self.result.resource if self.result and self.result.ok else None
