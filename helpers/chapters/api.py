"""Chapter 06 (workshop 2.1.6): the REST API in front of the function, and requests to it."""

from __future__ import annotations

from helpers.aws import api
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.core.messages import t
from helpers.views.forms.api import ApiForm, RequestForm, ResponseView, api_html
from helpers.views.forms.base import FormView
from helpers.views.html import Html


class Api(Chapter):
    number, slug, workshop = "06", "create-api-gateway", "2.1.6"
    title_key = "chapters.api"

    def form(self) -> FormView:
        return FormView(ApiForm())

    def show(self) -> Html:
        return Html(api_html())

    def request_form(self, method: str = "GET", note_id: str = "", body: str = "") -> FormView:
        """A form that sends one request to the API, as a browser would."""
        return FormView(RequestForm(method, note_id, body))

    def request(self, method: str, body=None, query: dict | None = None) -> ResponseView:
        """Send a request to the lab's API; the answer shows itself and keeps its fields."""
        return ResponseView(api.request(method, body=body, query=query))

    def checks(self) -> list[Check]:
        return api.check_chapter()

    def catch_up(self, choices: dict) -> str:
        form = ApiForm()
        made = form.submit_or_raise(**form.values_from_journal(choices)).resource
        return t("api.summary", name=made.name, url=f"{made.url}{api.RESOURCE_PATH}")
