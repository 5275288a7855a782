"""Chapter 06's forms: the REST API for the note app, and test requests sent to it."""

from __future__ import annotations

import json

from helpers.aws import api, functions
from helpers.core import journal, read_cache
from helpers.core.errors import json_problem, problem_from
from helpers.core.messages import t
from helpers.views.forms.base import Field, FormModel, Problem, SubmitResult
from helpers.views.html import box, table
from helpers.views.html import text as escape


class ApiForm(FormModel):
    """The console's "Create API" → REST → Regional, then /notes, methods, CORS, deploy."""

    chapter = api.CHAPTER
    submit_label_key = "api.create"

    def __init__(self):
        existing = api.describe()
        remembered = journal.choices(self.chapter)
        self.fields = [
            Field(
                "api_name",
                "api.field_name",
                "text",
                existing.name if existing else remembered.get("api_name", api.DEFAULT_API_NAME),
            ),
            Field("stage", "api.field_stage", "text", remembered.get("stage", api.DEFAULT_STAGE)),
            Field(
                "methods",
                "api.field_methods",
                "multi",
                remembered.get("methods", list(api.DEFAULT_METHODS)),
                options=[(m, m) for m in api.METHODS],
            ),
            Field("cors", "api.field_cors", "bool", remembered.get("cors", True)),
        ]

    def check(self, values: dict) -> list[Problem]:
        # The refusals read the function, the click's first step reads the API: both at once.
        read_cache.prefetch(functions.find_lab_function, api.find_lab_api)
        return [problem_from(error) for error in api.refusals(values)]

    def preview(self, values: dict) -> str:
        """What a click will build (shown only when nothing is refused: the lab's function
        exists, the framework shows the refusals)."""
        function = functions.find_lab_function()
        methods = ", ".join(values.get("methods") or [])
        rows = [
            [t("api.preview_api"), f"{values.get('api_name', '')} (REST, {api.ENDPOINT_TYPE})"],
            [t("api.preview_resource"), api.RESOURCE_PATH],
            [
                t("api.preview_methods"),
                t("api.preview_proxy", methods=methods, function=function["FunctionName"]),
            ],
            [t("api.preview_cors"), _cors_text(values.get("cors"))],
            [t("api.preview_stage"), values.get("stage", "")],
        ]
        return table([t("api.preview_what"), t("api.preview_value")], rows)

    def action_label(self, values: dict) -> str:
        found = api.describe()
        if found is None:
            return t(self.submit_label_key)
        return t("api.save_changes" if api_changes(found, values) else "api.keep")

    def create(self, values: dict) -> SubmitResult:
        found = api.describe()
        changes = api_changes(found, values) if found else []
        made, created = api.ensure_api(values, self.progress)
        url = f"{made.url}{api.RESOURCE_PATH}"
        if created:
            done = t("api.created", name=made.name, url=url)
        elif changes:
            done = t("api.changed", name=made.name, changes="; ".join(changes), url=url)
        else:
            done = t("api.updated", name=made.name, url=url)
        return SubmitResult(ok=True, created=created, resource=made, html=box(done, "success"))


def _cors_text(cors: bool) -> str:
    return "OPTIONS (MOCK)" if cors else "-"


def api_changes(found: api.LabApi, values: dict) -> list[str]:
    """What a click would change on the lab's ``found`` API, one "setting: before → after"
    line each (what ``api.ensure_api`` brings in line: name, stage, methods, CORS)."""

    def listed(methods) -> str:
        return ", ".join(m for m in api.METHODS if m in methods) or "-"

    compared = [
        ("api.field_name", found.name, values["api_name"].strip()),
        ("api.field_stage", found.stage or "-", values["stage"]),
        ("api.field_methods", listed(found.methods), listed(values.get("methods") or [])),
        ("api.field_cors", _cors_text("OPTIONS" in found.methods), _cors_text(values["cors"])),
    ]
    return [
        t("api.change", setting=t(setting), before=before, after=after)
        for setting, before, after in compared
        if before != after
    ]


class ResponseView:
    """An API answer that shows itself (status, headers, body) and keeps its fields."""

    def __init__(self, response: api.ApiResponse):
        self.response = response

    def __getattr__(self, name: str):
        return getattr(self.response, name)

    def _repr_html_(self) -> str:
        return response_html(self.response)


def response_html(response: api.ApiResponse) -> str:
    """The answer as the learner should read it: status, notes as a table, what went wrong."""
    ok = response.status < 400
    parts = [box(t("api.response_status", status=response.status), "success" if ok else "error")]
    body = response.json
    notes = body if isinstance(body, list) else None
    if notes is not None:
        columns = sorted({key for note in notes for key in note}, key=lambda k: (k != "id", k))
        parts.append(
            table(
                columns,
                [[note.get(c, "") for c in columns] for note in notes],
                caption=t("api.notes_caption", count=len(notes)),
            )
        )
    elif response.body:
        parts.append(f"<pre class='lab-response-body'>{escape(_pretty(response.body))}</pre>")
    if response.problem:
        parts.append(box(response.problem, "error", t("api.behind_the_error")))
    if response.invocation and response.invocation.log:
        parts.append(
            f"<details><summary>{escape(t('invoker.log_title'))}</summary>"
            f"<pre>{escape(response.invocation.log)}</pre></details>"
        )
    return "".join(parts)


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class RequestForm(FormModel):
    """A test request to ``/notes`` on the deployed stage (what the console's Test tab does)."""

    chapter = api.CHAPTER
    submit_label_key = "api.send"
    journaled = False  # a test request changes nothing the chapter must rebuild
    refused_key = "api.nothing_sent"

    def __init__(self, method: str = "GET", note_id: str = "", body: str = ""):
        self.fields = [
            Field(
                "method",
                "api.field_method",
                "choice",
                method,
                options=[(m, m) for m in (*api.METHODS, "OPTIONS")],
            ),
            Field("note_id", "api.field_note_id", "text", note_id),
            Field("body", "api.field_body", "textarea", body),
        ]

    def check(self, values: dict) -> list[Problem]:
        problems = []
        if api.find_lab_api() is None:
            problems.append(Problem(None, "api.no_api", t("api.no_api")))
        text = values.get("body", "").strip()
        if text:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append(
                    Problem(
                        "body",
                        "api.body_not_json",
                        t("api.body_not_json", problem=json_problem(error)),
                    )
                )
            else:
                if not isinstance(parsed, dict):
                    problems.append(
                        Problem("body", "api.body_not_object", t("api.body_not_object"))
                    )
        if values["method"] in ("POST", "PUT") and not text:
            problems.append(
                Problem("body", "api.body_needed", t("api.body_needed", method=values["method"]))
            )
        if values["method"] in ("PUT", "DELETE") and not values.get("note_id", "").strip():
            problems.append(
                Problem("note_id", "api.id_needed", t("api.id_needed", method=values["method"]))
            )
        return problems

    def create(self, values: dict) -> SubmitResult:
        note_id = values.get("note_id", "").strip()
        response = api.request(
            values["method"],
            body=values.get("body", "").strip() or None,
            query={"id": note_id} if note_id else None,
        )
        return SubmitResult(ok=True, resource=response, html=response_html(response))


# --- what the notebook calls ------------------------------------------------------------------
def api_html(found: api.LabApi | None = None) -> str:
    """The lab's API as API Gateway reports it: URL, /notes and each method's integration."""
    found = found or api.describe()
    if found is None:
        return box(t("api.no_api"), "warning")
    rows = []
    for method, details in sorted(found.methods.items()):
        integration = details.get("methodIntegration") or {}
        target = integration.get("uri", "").split("/functions/")[-1].split("/invocations")[0]
        rows.append([method, integration.get("type", "-"), target or "-"])
    return box(f"{found.url}{api.RESOURCE_PATH}", "info", found.name) + table(
        [t("api.column_method"), t("api.column_integration"), t("api.column_target")],
        rows,
        caption=f"{found.api_id} · {api.RESOURCE_PATH} · {found.stage or '-'}",
    )
