"""The form framework: a model (values, checks, submit — plain Python) and its widget view.

A chapter's form subclasses ``FormModel`` (fields, ``check``, ``create``); ``FormView`` builds
the widgets from the fields, shows a live preview, and routes every result and error into
its ``Output`` widget. Tests and instructors call ``model.submit(...)`` or ``view.click()``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, display

from helpers.core import journal
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError, Problem, problem_from
from helpers.core.messages import catalogue, t
from helpers.views.clicks import ClickGuard
from helpers.views.html import box

FIELD_KINDS = ("text", "int", "choice", "multi", "bool", "textarea")


@dataclass
class Field:
    name: str
    label_key: str
    kind: str = "text"
    default: Any = None
    # (label, value) pairs, or a function of the form's current values returning them.
    options: list | Callable[[dict], list] | None = None
    depends_on: tuple[str, ...] = ()  # fields whose change refreshes this one's options
    help_key: str | None = None

    def __post_init__(self):
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")

    @property
    def label(self) -> str:
        return t(self.label_key)

    def choices(self, values: dict) -> list[tuple[str, Any]]:
        options = self.options(values) if callable(self.options) else (self.options or [])
        return [
            tuple(option) if isinstance(option, (tuple, list)) else (str(option), option)
            for option in options
        ]


@dataclass
class SubmitResult:
    ok: bool
    problems: list[Problem] = dataclass_field(default_factory=list)
    created: bool = False  # False when refused, or when the existing resource was reused
    resource: Any = None
    html: str = ""
    error: LabError | None = None  # what stopped the submit, when a call (not a field) did

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class FormModel:
    """Subclasses set ``chapter``, ``fields``, ``submit_label_key`` and implement ``create``."""

    chapter: str = ""
    fields: list[Field] = []
    submit_label_key = "forms.create"
    journaled = True  # False for forms that create nothing a chapter must rebuild
    refused_key: str | None = "forms.nothing_created"  # what a refusal did not do
    raises_when_refused = False  # True: on Run All, a refusal stops the notebook at its cell
    button_style = "primary"
    button_icon = ""
    # Progress lines while creating (waits on real AWS); a view sends them to its output.
    progress: Callable[[str], None] = staticmethod(lambda text: print(text, flush=True))

    def defaults(self) -> dict:
        return {f.name: f.default for f in self.fields}

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def check(self, values: dict) -> list[Problem]:
        """Every reason AWS (or the lab) would refuse ``values``, plus warnings."""
        return []

    def create(self, values: dict) -> SubmitResult:
        raise NotImplementedError

    def preview(self, values: dict) -> str:
        """HTML shown live under the form while the learner edits (optional)."""
        return ""

    def journal_values(self, values: dict) -> dict:
        """What to remember of ``values`` for catch-up (JSON-able)."""
        return values

    def values_from_journal(self, choices: dict) -> dict:
        """The form's values for the learner's remembered ``choices`` (defaults elsewhere)."""
        return {f.name: choices.get(f.name, f.default) for f in self.fields}

    def done(self, result: SubmitResult) -> bool:
        """Whether ``result`` finished the form's job (else the next Run All submits again)."""
        return result.ok

    def submit_or_raise(self, **values) -> SubmitResult:
        """Submit through the same checks (catch-up's path); a refusal raises LabError."""
        result = self.submit(**values)
        if not result.ok:
            first = result.errors[0]
            raise LabError(
                "forms.catch_up_refused",
                code=first.code,
                field=first.field,
                chapter=self.chapter,
                message=first.message,
            )
        return result

    def check_only(self, **values) -> SubmitResult:
        """What a submit of ``values`` answers before creating (refusals and warnings); nothing
        is created. ``ok`` means the submit would go on to create."""
        unknown = set(values) - {f.name for f in self.fields}
        if unknown:
            raise TypeError(f"unknown field(s): {', '.join(sorted(unknown))}")
        try:
            with friendly_errors():
                problems = self.check({**self.defaults(), **values})
        except LabError as error:
            return SubmitResult(ok=False, problems=[problem_from(error)], error=error)
        return SubmitResult(ok=not any(p.severity == "error" for p in problems), problems=problems)

    def submit(self, **values) -> SubmitResult:
        """Check, then create; nothing is created when any error is found."""
        checked = self.check_only(**values)
        if not checked.ok:
            return checked
        full = {**self.defaults(), **values}
        try:
            with friendly_errors():
                result = self.create(full)
        except LabError as error:
            return SubmitResult(
                ok=False, problems=checked.problems + [problem_from(error)], error=error
            )
        result.problems = checked.problems + result.problems
        if result.ok and self.journaled:
            journal.record(self.chapter, self.journal_values(full))
        return result


def render_result(model: FormModel, result: SubmitResult) -> str:
    """The HTML shown under the form after a submit."""
    labels = {f.name: f.label for f in model.fields}
    parts = []
    for problem in result.problems:
        where = f"{labels.get(problem.field, problem.field)}: " if problem.field else ""
        code = "" if problem.code in catalogue() else f" [{problem.code}]"  # AWS codes only
        parts.append(box(f"{where}{problem.message}{code}", problem.severity))
    if not result.ok and model.refused_key:
        parts.append(box(t(model.refused_key), "error"))
    parts.append(result.html)
    return "".join(parts)


class FormView:
    """The widgets for a ``FormModel``: one per field, a submit button, a preview, an output."""

    def __init__(self, model: FormModel, values: dict | None = None):

        self.model = model
        self.result: SubmitResult | None = None
        self._clicks = ClickGuard()
        initial = {**model.defaults(), **(values or {})}
        self.controls = {f.name: self._make_control(f, initial) for f in model.fields}
        self.button = widgets.Button(
            description=t(model.submit_label_key),
            button_style=model.button_style,
            icon=model.button_icon,
            tooltip=t(model.submit_label_key),
        )
        self.preview = widgets.HTML()
        self.output = widgets.Output()
        self.button.on_click(self._on_click)
        model.progress = lambda text: self.output.append_stdout(text + "\n")
        for f in model.fields:
            self._observe(f.name, self._on_change)
        self._refresh_preview()

    # --- building -------------------------------------------------------------------------
    def _make_control(self, f: Field, values: dict):
        w = widgets
        style = {"description_width": "initial"}
        layout = w.Layout(width="auto")
        value = values.get(f.name)
        if f.kind == "text":
            return w.Text(value=value or "", description=f.label, style=style, layout=layout)
        if f.kind == "int":
            return w.IntText(value=value or 0, description=f.label, style=style)
        if f.kind == "bool":
            return w.Checkbox(value=bool(value), description=f.label, style=style, indent=False)
        if f.kind == "textarea":
            return w.Textarea(
                value=value or "",
                description=f.label,
                style=style,
                layout=w.Layout(width="95%", height="8em"),
            )
        if f.kind == "choice":
            choices = f.choices(values)
            allowed = [v for _, v in choices]
            return w.Dropdown(
                options=choices,
                value=value if value in allowed else (allowed[0] if allowed else None),
                description=f.label,
                style=style,
                layout=layout,
            )
        return self._make_checklist(f, values, value or [])

    def _make_checklist(self, f: Field, values: dict, selected: list):
        w = widgets
        boxes = [
            w.Checkbox(
                value=v in selected,
                description=label,
                indent=False,
                style={"description_width": "initial"},
                layout=w.Layout(width="auto"),
            )
            for label, v in f.choices(values)
        ]
        container = w.VBox([w.Label(f.label), *boxes])
        container.option_values = [v for _, v in f.choices(values)]
        return container

    def _observe(self, name: str, handler) -> None:
        control = self.controls[name]
        if isinstance(control, widgets.VBox):
            for checkbox in control.children[1:]:
                checkbox.observe(lambda change, n=name: handler(n), names="value")
        else:
            control.observe(lambda change, n=name: handler(n), names="value")

    # --- values ---------------------------------------------------------------------------
    def values(self) -> dict:
        result = {}
        for name, control in self.controls.items():
            if isinstance(control, widgets.VBox):
                result[name] = [
                    v
                    for v, checkbox in zip(
                        control.option_values, control.children[1:], strict=False
                    )
                    if checkbox.value
                ]
            else:
                result[name] = control.value
        return result

    def set(self, **values) -> None:
        """Set fields as a learner would (tests and instructors use this)."""
        for name, value in values.items():
            control = self.controls[name]
            if isinstance(control, widgets.VBox):
                for v, checkbox in zip(control.option_values, control.children[1:], strict=False):
                    checkbox.value = v in value
            else:
                control.value = value

    # --- reacting -------------------------------------------------------------------------
    def _on_change(self, name: str) -> None:
        with self._clicks.lock:  # a change arriving on a subshell waits for a running submit
            for f in self.model.fields:
                if name in f.depends_on:
                    self._reload_options(f)
            self._refresh_preview()

    def _reload_options(self, f: Field) -> None:
        values = self.values()
        control = self.controls[f.name]
        if f.kind == "choice":
            choices = f.choices(values)
            current = control.value
            control.options = choices
            allowed = [v for _, v in choices]
            control.value = current if current in allowed else (allowed[0] if allowed else None)
        elif f.kind == "multi":
            replacement = self._make_checklist(f, values, values.get(f.name, []))
            self.controls[f.name] = replacement
            self._observe(f.name, self._on_change)
            self._reorder()

    def _reorder(self) -> None:
        if hasattr(self, "_container"):
            self._container.children = self._children()

    def _refresh_preview(self) -> None:
        try:
            with friendly_errors():
                self.preview.value = self.model.preview(self.values())
        except LabError as error:
            self.preview.value = box(error.message, "error")

    def refresh(self) -> None:
        """Reload every option list (e.g. after resources were created elsewhere)."""
        for f in self.model.fields:
            if f.options is not None and callable(f.options):
                self._reload_options(f)
        self._refresh_preview()

    def _on_click(self, _button=None) -> None:
        values = self.values()
        self._clicks.run(values, lambda: self._submit(values))

    def _submit(self, values: dict) -> None:
        self.output.outputs = ()  # state, not a clear_output message: those race with appends
        self.button.disabled = True
        try:
            self.result = self.model.submit(**values)
            self.output.append_display_data(HTML(render_result(self.model, self.result)))
        except Exception as error:  # unexpected: show it here, never lose it in a log
            self.output.append_display_data(
                HTML(box(t("forms.unexpected", error=repr(error)), "error"))
            )
            self.output.append_stderr(traceback.format_exc())
        finally:
            self.button.disabled = False
        self.refresh()

    def click(self) -> SubmitResult | None:
        """One deliberate click (tests, instructors): always submits."""
        self.button.click()
        return self.result

    def submit_unless_done(self) -> SubmitResult | None:
        """Click Create with the form's current values unless the learner already did.

        This is the cell after the form: on Run All it creates the chapter's resources with
        the defaults, through the button's own code path; after a learner's own successful
        click it just shows that result again.
        """
        if self.result is None or not self.model.done(self.result):
            result = self.click()
            if result is not None and result.error and self.model.raises_when_refused:
                raise result.error
            return result
        display(HTML(render_result(self.model, self.result)))
        return self.result

    # --- showing --------------------------------------------------------------------------
    def _children(self):
        return [*self.controls.values(), self.preview, self.button, self.output]

    @property
    def widget(self):
        if not hasattr(self, "_container"):
            self._container = widgets.VBox(self._children())
        return self._container

    def _ipython_display_(self):
        display(self.widget)
