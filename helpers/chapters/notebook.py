"""What a notebook's first cell does: status panel, friendly errors, catching up."""
from __future__ import annotations

from helpers.chapters import catch_up
from helpers.core.clients import friendly_errors
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.views.html import box
from helpers.core.status import describe, panel_html


def _show_lab_error(shell, etype, value, tb, tb_offset=None):
    from IPython.display import HTML, display

    code = f" [{value.code}]" if value.code != value.key else ""
    display(HTML(box(value.message + code, "error")))


def install_error_display() -> None:
    """Expected problems (LabError) show as one message, not a traceback.

    Not under the lab's own notebook tests (LAB_STRICT_ERRORS set by conftest.py): there a
    LabError must stay an error, or a broken chapter would pass.
    """
    import os

    if os.environ.get("LAB_STRICT_ERRORS"):
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((LabError,), _show_lab_error)


def start_chapter(number: str) -> None:
    """Show the backend status panel and catch up the chapters before ``number`` (unless the
    chapter must not: clean-up rebuilds nothing only to delete it)."""
    from IPython.display import HTML, display

    from helpers.chapters import chapter

    install_error_display()
    with friendly_errors():
        status = describe(start=True)
        display(HTML(panel_html(status)))
        if status.get("restarted"):
            display(HTML(box(t("backend.restarted_catching_up"), "warning")))
        summaries = catch_up(number) if chapter(number).catches_up else []
    if summaries:
        display(HTML(box("; ".join(summaries), "info", t("chapters.caught_up_title"))))


def chapter_table() -> str:
    """The lab's chapters with the original workshop's numbers, as an HTML table."""
    from helpers.chapters import CHAPTERS
    from helpers.views.html import Link, table

    rows = [[c.number, c.workshop or t("chapters.new_in_lab"), t(c.title_key),
             Link(c.notebook, c.notebook)]
            for c in CHAPTERS]
    return table([t("chapters.column_number"), t("chapters.column_workshop"),
                  t("chapters.column_title"), t("chapters.column_notebook")], rows)
