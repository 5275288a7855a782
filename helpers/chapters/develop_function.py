"""Chapter 03 (workshop 2.1.3): the note app's handler, read, rehearsed and packaged."""

from __future__ import annotations

from IPython.display import Code

from helpers.aws import functions
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.views.forms.function import package_html, rehearsal_html
from helpers.views.html import Html


class DevelopFunction(Chapter):
    number, slug, workshop = "03", "develop-lambda-function", "2.1.3"
    title_key = "chapters.develop_function"

    def show(self) -> Code:
        """The handler file, highlighted, read from the repository (what gets deployed)."""
        return Code(functions.handler_source(), language="python")

    def rehearse(self, events: list[dict]) -> Html:
        """Each request and the handler's answer, run locally against a throwaway table."""
        return Html(rehearsal_html(events))

    def package(self) -> Html:
        """The deployment package: file, size, checksum, handler."""
        return Html(package_html())

    def checks(self) -> list[Check]:
        return functions.check_code()
