"""The form framework: a model (values, checks, submit — plain Python) and its widget view.

A chapter's form subclasses ``FormModel`` (fields, ``check``, ``create``); ``FormView`` builds
the widgets from the fields and routes every result and error into its ``Output`` widget.
Tests and instructors call ``model.submit(...)`` or ``view.click()``.

The view judges as the console does, before the click: on every change it runs the model's
own checks (the very ones a click runs) and shows their refusals and warnings in the words the
click would use, then the preview; the button says what a click will do — disabled while
something is refused, "… anyway" behind a confirmation when a warning describes a broken
result (severity "confirm"). A result under the button is marked outdated as soon as a field
changes, and a re-render replaces it, never appends to it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, display

from helpers.core import journal, read_cache
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError, Problem, problem_from
from helpers.core.messages import catalogue, t
from helpers.views.clicks import ClickGuard
from helpers.views.html import box, boxes

FIELD_KINDS = ("text", "int", "choice", "multi", "bool", "textarea")


@dataclass
class Field:
    name: str
    label_key: str
    kind: str = "text"
    default: Any = None
    # A default read from AWS: asked for only when a value is missing (``completed``).
    default_factory: Callable[[], Any] | None = None
    # (label, value) pairs, or a function of the form's current values returning them.
    options: list | Callable[[dict], list] | None = None
    depends_on: tuple[str, ...] = ()  # fields whose change refreshes this one's options

    def __post_init__(self):
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")

    @property
    def label(self) -> str:
        return t(self.label_key)

    def default_value(self) -> Any:
        return self.default_factory() if self.default_factory else self.default

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
        return [p for p in self.problems if p.severity in ("warning", "confirm")]

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
    # Fields whose refusal only asks the learner to confirm a cost: the preview (which shows
    # the cost) stays while they are unticked.
    confirmation_fields: tuple[str, ...] = ()
    # Progress lines while creating (waits on real AWS); a view sends them to its output.
    progress: Callable[[str], None] = staticmethod(lambda text: print(text, flush=True))

    def defaults(self) -> dict:
        return {f.name: f.default_value() for f in self.fields}

    def completed(self, values: dict, names=None) -> dict:
        """The form's fields (or those ``names``), from ``values`` or else their defaults. A view
        passes every field, and some forms' defaults are read from AWS: they are asked for only
        when needed."""
        fields = self.fields if names is None else [self.field(name) for name in names]
        return {f.name: values[f.name] if f.name in values else f.default_value() for f in fields}

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
        return self.completed(choices)

    def done(self, result: SubmitResult) -> bool:
        """Whether ``result`` finished the form's job (else the next Run All submits again)."""
        return result.ok

    def submit_or_raise(self, **values) -> SubmitResult:
        """Submit through the same checks (catch-up's path); a refusal raises LabError. The
        learner confirmed these choices when they first made them (the journal keeps only
        what was created), so warnings are taken as confirmed."""
        result = self.submit(confirmed=True, **values)
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

    def action_label(self, values: dict) -> str:
        """What a click does, as the button says it (a form may name a change instead)."""
        return t(self.submit_label_key)

    def check_only(self, confirmed: bool = False, **values) -> SubmitResult:
        """What a submit of ``values`` answers before creating (refusals and warnings); nothing
        is created. ``ok`` means the submit would go on to create: no error, and every warning
        of severity "confirm" ``confirmed``."""
        unknown = set(values) - {f.name for f in self.fields}
        if unknown:
            raise TypeError(f"unknown field(s): {', '.join(sorted(unknown))}")
        full = self.completed(values)
        try:
            with friendly_errors():
                problems = self.check(full)
        except LabError as error:
            return SubmitResult(ok=False, problems=[problem_from(error)], error=error)
        if not confirmed and needs_confirmation(problems) and not errors_in(problems):
            action = self.action_label(full)
            problems = [
                *problems,
                Problem(
                    None,
                    "forms.confirm_first",
                    t(
                        "forms.confirm_first",
                        confirm=t("forms.confirm_label"),
                        action=action,
                        action_lower=_lower_first(action),
                    ),
                ),
            ]
        return SubmitResult(ok=not errors_in(problems), problems=problems)

    def submit(self, confirmed: bool = False, **values) -> SubmitResult:
        """Check, then create; nothing is created when any error is found, nor when a warning
        that needs confirmation is not ``confirmed``."""
        checked = self.check_only(confirmed, **values)
        if not checked.ok:
            return checked
        full = self.completed(values)
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


def errors_in(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def needs_confirmation(problems: list[Problem]) -> bool:
    return any(p.severity == "confirm" for p in problems)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def problem_line(model: FormModel, problem: Problem) -> str:
    """A problem as the learner reads it: the field's label, the message, AWS's code."""
    labels = {f.name: f.label for f in model.fields}
    where = f"{labels.get(problem.field, problem.field)}: " if problem.field else ""
    code = "" if problem.code in catalogue() else f" [{problem.code}]"  # AWS codes only
    return f"{where}{problem.message}{code}"


def render_problems(model: FormModel, problems: list[Problem], refused: bool = False) -> str:
    """One box per kind: what is refused (and, after a refused click, that nothing was
    created), then what the learner should know or confirm."""
    messages = [
        ("error" if p.severity == "error" else "warning", problem_line(model, p)) for p in problems
    ]
    if refused and model.refused_key:
        messages.append(("error", t(model.refused_key)))
    return boxes(messages)


def render_result(model: FormModel, result: SubmitResult) -> str:
    """The HTML shown under the form after a submit."""
    return render_problems(model, result.problems, refused=not result.ok) + result.html


# The console's create pages: labels in one column of one width, inputs of one width beside it.
LABEL_WIDTH = "17em"
INPUT_WIDTH = f"calc({LABEL_WIDTH} + 28em)"  # a widget's width includes its label
LABEL_STYLE = {"description_width": LABEL_WIDTH}


def column_label(text: str) -> widgets.Label:
    """A label in the labels' column for a field that is not one described widget (a
    checklist, a tag editor). ipywidgets sets a description 8px before its input but a plain
    label only 2px before the next widget: the wider right margin puts this field's first
    checkbox or button at the inputs' left edge."""
    return widgets.Label(
        text,
        layout=widgets.Layout(width=LABEL_WIDTH, min_width=LABEL_WIDTH, margin="2px 6px 2px 2px"),
    )


class Checklist(widgets.HBox):
    """A labelled list of checkboxes (route tables, subnets): the label in the labels' column."""

    def __init__(self, label: str, choices: list[tuple[str, Any]], selected: list):
        self.option_values = [value for _, value in choices]
        self.checkboxes = [
            widgets.Checkbox(
                value=value in selected,
                description=text,
                indent=False,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="auto"),
            )
            for text, value in choices
        ]
        super().__init__(
            [
                column_label(label),
                widgets.VBox(self.checkboxes),
            ]
        )

    @property
    def value(self) -> list:
        return [v for v, box in zip(self.option_values, self.checkboxes, strict=True) if box.value]

    @value.setter
    def value(self, wanted: list) -> None:
        for v, checkbox in zip(self.option_values, self.checkboxes, strict=True):
            checkbox.value = v in wanted

    def observe_value(self, handler) -> None:
        for checkbox in self.checkboxes:
            checkbox.observe(handler, names="value")


class FormView:
    """The widgets for a ``FormModel``: one per field, the judgement and preview, the button
    (with its confirmation), and one output holding the last result."""

    def __init__(self, model: FormModel, values: dict | None = None):
        with read_cache.action():  # its defaults, options and judgement: one action
            self._build(model, values)

    def _build(self, model: FormModel, values: dict | None) -> None:
        self.model = model
        self.result: SubmitResult | None = None
        self._clicks = ClickGuard()
        self._submitted: dict | None = None  # the values the result under the button is for
        self._result_html = ""
        initial = model.completed(values or {})
        self.controls = {f.name: self._make_control(f, initial) for f in model.fields}
        self.judgement = widgets.HTML()  # what a click would refuse or warn about, live
        self.preview = widgets.HTML()
        self.preview.add_class("lab-preview")
        self.confirm = widgets.Checkbox(
            value=False,
            description=t("forms.confirm_label"),
            indent=False,
            layout=widgets.Layout(display="none", margin=f"0 0 0 {LABEL_WIDTH}"),
        )
        self.button = widgets.Button(
            description=t(model.submit_label_key),
            button_style=model.button_style,
            icon=model.button_icon,
            tooltip=t(model.submit_label_key),
            # never shrunk (its label cut) by the box beside it that says why it waits
            layout=widgets.Layout(width="auto", flex="0 0 auto", margin=f"4px 0 4px {LABEL_WIDTH}"),
        )
        self.waiting = widgets.HTML()  # why the button waits, beside it
        self.output = widgets.Output()
        self.button.on_click(self._on_click)
        model.progress = lambda text: self.output.append_stdout(text + "\n")
        for f in model.fields:
            self._observe(f.name, self._on_change)
        self.confirm.observe(lambda change: self._judge(), names="value")
        self._judge()

    # --- building -------------------------------------------------------------------------
    def _make_control(self, f: Field, values: dict):
        w = widgets
        layout = w.Layout(width=INPUT_WIDTH, max_width="100%")
        value = values.get(f.name)
        if f.kind == "text":
            return w.Text(value=value or "", description=f.label, style=LABEL_STYLE, layout=layout)
        if f.kind == "int":
            return w.IntText(
                value=value or 0,
                description=f.label,
                style=LABEL_STYLE,
                layout=w.Layout(width=f"calc({LABEL_WIDTH} + 8em)"),
            )
        if f.kind == "bool":
            # Indented to the inputs' edge; as wide as its description, which is its label.
            return w.Checkbox(
                value=bool(value),
                description=f.label,
                style=LABEL_STYLE,
                indent=True,
                layout=w.Layout(width="auto"),
            )
        if f.kind == "textarea":
            return w.Textarea(
                value=value or "",
                description=f.label,
                style=LABEL_STYLE,
                layout=w.Layout(
                    width=f"calc({LABEL_WIDTH} + 40em)", max_width="100%", height="8em"
                ),
            )
        if f.kind == "choice":
            choices = f.choices(values)
            allowed = [v for _, v in choices]
            return w.Dropdown(
                options=choices,
                value=value if value in allowed else (allowed[0] if allowed else None),
                description=f.label,
                style=LABEL_STYLE,
                layout=layout,
            )
        return Checklist(f.label, f.choices(values), value or [])

    def _observe(self, name: str, handler) -> None:
        control = self.controls[name]
        if isinstance(control, Checklist):
            control.observe_value(lambda change, n=name: handler(n))
        else:
            control.observe(lambda change, n=name: handler(n), names="value")

    # --- values ---------------------------------------------------------------------------
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values) -> None:
        """Set fields as a learner would (tests and instructors use this)."""
        for name, value in values.items():
            self.controls[name].value = value

    # --- reacting -------------------------------------------------------------------------
    def _on_change(self, name: str) -> None:
        # A change arriving on a subshell waits for a running submit; its options, checks and
        # preview are one action (each read made once).
        with self._clicks.lock, read_cache.action():
            for f in self.model.fields:
                if name in f.depends_on:
                    self._reload_options(f)
            if self.confirm.value:  # a confirmation is for the warnings it was given on
                self.confirm.value = False  # (its observer judges again)
            else:
                self._judge()
            self._mark_result()

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
            replacement = self._make_control(f, values)
            self.controls[f.name] = replacement
            self._observe(f.name, self._on_change)
            self._reorder()

    def _reorder(self) -> None:
        if hasattr(self, "_container"):
            self._container.children = self._children()

    def _judge(self) -> None:
        """Run the click's own checks on the current values and show what a click would do."""
        with read_cache.action():
            self._show_judgement()

    def _show_judgement(self) -> None:
        values = self.values()
        checked = self.model.check_only(confirmed=self.confirm.value, **values)
        waiting_for_confirmation = any(p.code == "forms.confirm_first" for p in checked.problems)
        shown = [p for p in checked.problems if p.code != "forms.confirm_first"]
        refused = bool(errors_in(shown))
        blocking = [p for p in errors_in(shown) if p.field not in self.model.confirmation_fields]
        self.judgement.value = render_problems(self.model, shown)
        try:
            with friendly_errors():
                self.preview.value = "" if blocking else self.model.preview(values)
        except LabError as error:
            self.preview.value = box(error.message, "error")
        asks = needs_confirmation(shown) and not refused
        self.confirm.layout.display = None if asks else "none"
        action = self.model.action_label(values)
        label = (
            t("forms.anyway", action=action, action_lower=_lower_first(action)) if asks else action
        )
        self.button.description = self.button.tooltip = label
        self.button.disabled = refused or waiting_for_confirmation
        self.waiting.value = (
            box(t("forms.refused_for_now"), "info")
            if refused
            else box(checked.problems[-1].message, "info")
            if waiting_for_confirmation
            else ""
        )

    def _mark_result(self) -> None:
        """The result under the button stays only while it is for the values shown."""
        if self._submitted is None:
            return
        outdated = self.values() != self._submitted
        html = self._result_html
        if outdated:
            html = box(t("forms.outdated"), "info") + f"<div style='opacity:.55'>{html}</div>"
        self.output.outputs = ()
        self.output.append_display_data(HTML(html))

    def refresh(self) -> None:
        """Reload every option list (e.g. after resources were created elsewhere)."""
        for f in self.model.fields:
            if f.options is not None and callable(f.options):
                self._reload_options(f)
        self._judge()

    def _on_click(self, _button=None) -> None:
        values = self.values()
        self._clicks.run(values, lambda: self._submit(values))

    def _submit(self, values: dict) -> None:
        self.output.outputs = ()  # state, not a clear_output message: those race with appends
        self.button.disabled = True
        try:
            self.result = self.model.submit(confirmed=self.confirm.value, **values)
            self._result_html = render_result(self.model, self.result)
            self.output.outputs = ()  # progress lines were for the wait: the result replaces them
        except Exception as error:  # unexpected: show it here, never lose it in a log
            self._result_html = box(t("forms.unexpected", error=repr(error)), "error")
            self.output.append_stderr(traceback.format_exc())
        self._submitted = values
        self.output.append_display_data(HTML(self._result_html))
        with self.confirm.hold_trait_notifications():
            self.confirm.value = False
        self.refresh()

    def click(self, confirmed: bool = False) -> SubmitResult | None:
        """One deliberate click (tests, instructors): always submits; ``confirmed`` ticks the
        confirmation first, as a learner would."""
        if confirmed:
            self.confirm.value = True
        self._on_click()
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
        display(HTML(box(t("forms.result_above"), "info")))  # the result is shown once, above
        return self.result

    # --- showing --------------------------------------------------------------------------
    def _field_widgets(self) -> list:
        return list(self.controls.values())

    def _children(self):
        return [
            *self._field_widgets(),
            self.judgement,
            self.preview,
            self.confirm,
            widgets.HBox([self.button, self.waiting]),
            self.output,
        ]

    @property
    def widget(self):
        if not hasattr(self, "_container"):
            self._container = widgets.VBox(self._children())
        return self._container

    def _ipython_display_(self):
        display(self.widget)
