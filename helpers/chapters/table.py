"""Chapter 05 (workshop 2.1.5): the note table, then the first notes through the function."""

from __future__ import annotations

from helpers.aws import invoker, tables
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.core.messages import t
from helpers.views.forms.base import FormView
from helpers.views.forms.table import TableForm, table_view_html
from helpers.views.html import Html


class Table(Chapter):
    number, slug, workshop = "05", "create-dynamodb-table", "2.1.5"
    title_key = "chapters.table"

    def form(self) -> FormView:
        return FormView(TableForm())

    def show(self) -> Html:
        return Html(table_view_html())

    def invoke(self, event: dict) -> invoker.InvokeResult:
        """Invoke the lab's function with ``event``, as Lambda would."""
        return invoker.invoke(None, event)

    def checks(self) -> list[Check]:
        return tables.check_chapter()

    def catch_up(self, choices: dict) -> str:
        form = TableForm()
        description = form.submit_or_raise(**form.values_from_journal(choices)).resource
        return t("tables.summary", table=description["TableName"])
