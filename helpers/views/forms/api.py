"""Chapter 06's forms: the REST API for the note app, and test requests sent to it."""

from __future__ import annotations

import json

from helpers.aws import api, functions
from helpers.core import journal
from helpers.core.errors import LabError, problem_from
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
        return [problem_from(error) for error in api.refusals(values)]

    def preview(self, values: dict) -> str:
        function = functions.find_lab_function()
        target = function["FunctionName"] if function else t("api.preview_no_function")
        methods = ", ".join(values.get("methods") or []) or "-"
        rows = [
            [t("api.preview_api"), f"{values.get('api_name', '')} (REST, {api.ENDPOINT_TYPE})"],
            [t("api.preview_resource"), api.RESOURCE_PATH],
            [t("api.preview_methods"), t("api.preview_proxy", methods=methods, function=target)],
            [t("api.preview_cors"), "OPTIONS (MOCK)" if values.get("cors") else "-"],
            [t("api.preview_stage"), values.get("stage", "")],
        ]
        return table([t("api.preview_what"), t("api.preview_value")], rows)

    def create(self, values: dict) -> SubmitResult:
        made, created = api.ensure_api(values, self.progress)
        rows = [
            [m, (made.methods[m].get("methodIntegration") or {}).get("type", "-")]
            for m in sorted(made.methods)
        ]
        html = box(
            t(
                "api.created" if created else "api.updated",
                name=made.name,
                url=f"{made.url}{api.RESOURCE_PATH}",
            ),
            "success",
        ) + table(
            [t("api.column_method"), t("api.column_integration")],
            rows,
            caption=f"{made.name} {api.RESOURCE_PATH}",
        )
        return SubmitResult(ok=True, created=created, resource=made, html=html)


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
        text = values.get("body", "").strip()
        if text:
            try:
                parsed = json.loads(text)
            except ValueError as error:
                problems.append(
                    Problem(
                        "body",
                        "api.body_not_json",
                        t("api.body_not_json", line=error.lineno, column=error.colno),
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
        try:
            response = api.request(
                values["method"],
                body=values.get("body", "").strip() or None,
                query={"id": note_id} if note_id else None,
            )
        except LabError as error:
            return SubmitResult(ok=False, problems=[problem_from(error)])
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
