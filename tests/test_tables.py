"""Chapter 05: the note table's form (refusals, creation, idempotent updates), its cost and checks.

The backend is emptied once for the module; each test starts without tables and removes what
it made.
"""

from __future__ import annotations

import pytest
from test_forms_base import judge_then_click, shown_html

from helpers import chapter
from helpers.aws import tables
from helpers.core import costs, journal
from helpers.core.clients import client
from helpers.core.messages import t
from helpers.core.tags import from_aws
from helpers.views.forms.base import FormView
from helpers.views.forms.table import TableForm, cost_html


def quiet(_text: str) -> None:
    """Progress lines are not under test here."""


@pytest.fixture(scope="module")
def emptied(empty_lab):
    empty_lab()


def _remove_tables():
    dynamodb = client("dynamodb")
    for name in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=name)


@pytest.fixture
def clean(emptied):
    _remove_tables()
    journal.forget()
    yield
    _remove_tables()


def form() -> TableForm:
    model = TableForm()
    model.progress = quiet
    return model


def view() -> FormView:
    shown = FormView(TableForm())
    shown.model.progress = quiet
    return shown


def table_names() -> list[str]:
    return client("dynamodb").list_tables()["TableNames"]


def test_default_table_is_the_workshops(clean):
    result = form().submit()
    assert result.ok and result.created, result.problems
    table = client("dynamodb").describe_table(TableName="note_tbl")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TableStatus"] == "ACTIVE"
    assert tables.capacity_mode(table) == "PROVISIONED"
    assert tables.capacity_units(table) == (1, 1)
    assert tables.table_class(table) == "STANDARD_INFREQUENT_ACCESS"
    tags = from_aws(client("dynamodb").list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"])
    assert (tags["lab:chapter"], tags["lab:role"], tags["Name"]) == ("05", "table", "note_tbl")
    assert tables.find_lab_table()["TableArn"] == table["TableArn"]


def test_submitting_twice_makes_one_table(clean):
    assert form().submit().created
    again = form().submit()
    assert again.ok and not again.created
    assert table_names() == ["note_tbl"]


def test_changed_capacity_and_mode_update_the_same_table(clean):
    form().submit()
    assert form().submit(read_capacity=2, write_capacity=3).ok
    assert tables.capacity_units(tables.find_lab_table()) == (2, 3)
    assert form().submit(capacity_mode="PAY_PER_REQUEST").ok
    assert tables.capacity_mode(tables.find_lab_table()) == "PAY_PER_REQUEST"
    assert table_names() == ["note_tbl"]


def test_on_demand_ignores_the_capacity_fields(clean):
    result = form().submit(capacity_mode="PAY_PER_REQUEST", read_capacity=0, write_capacity=0)
    assert result.ok, result.problems
    assert tables.capacity_mode(tables.find_lab_table()) == "PAY_PER_REQUEST"


@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"table_name": "ab"}, "table_name", "ValidationException"),
        ({"table_name": "notes table"}, "table_name", "ValidationException"),
        ({"partition_key": ""}, "partition_key", "ValidationException"),
        ({"partition_key": "noteId"}, "partition_key", "tables.key_not_note_app"),
        ({"partition_key_type": "N"}, "partition_key", "tables.key_not_note_app"),
        ({"table_class": "GLACIER"}, "table_class", "ValidationException"),
        ({"capacity_mode": "SOMETIMES"}, "capacity_mode", "ValidationException"),
        ({"read_capacity": 0}, "read_capacity", "ValidationException"),
        ({"write_capacity": -1}, "write_capacity", "ValidationException"),
        ({"write_capacity": 50000}, "write_capacity", "LimitExceededException"),
    ],
)
def test_form_refuses_bad_values_and_creates_nothing(clean, values, field, code):
    result = form().submit(**values)
    assert not result.ok
    assert (field, code) in [(p.field, p.code) for p in result.errors], result.problems
    assert table_names() == []


@pytest.mark.parametrize(
    "values, fields",
    [
        ({"table_name": "ab", "read_capacity": 0}, {"table_name", "read_capacity"}),
        ({"partition_key": "noteId"}, {"partition_key"}),
        ({"partition_key_type": "N"}, {"partition_key"}),
        ({"write_capacity": 50000}, {"write_capacity"}),
    ],
)
def test_the_form_shows_each_refusal_before_the_click_in_the_clicks_words(clean, values, fields):
    """CreateTable's rules (CreateTable - Amazon DynamoDB: table names of 3 to 255 characters
    of a-z, A-Z, 0-9, '_', '-', '.'; capacity units of at least 1; the per-table quota) are
    judged while typing; the click says the same."""
    form = view()
    before, result = judge_then_click(form, **values)
    assert {p.field for p in result.errors} == fields
    assert all(p.message in before.replace("&#x27;", "'") for p in result.errors)
    assert form.button.disabled and form.preview.value == ""  # no cost for a refused table
    assert table_names() == []


def test_the_form_shows_the_wiring_warnings_before_the_click(clean):
    chapter("01").catch_up({})
    chapter("04").catch_up({})
    form = view()
    before, result = judge_then_click(form, table_name="other_tbl")
    assert result.ok and {p.code for p in result.warnings} == {
        "tables.not_function_table",
        "tables.not_role_table",
    }
    assert before and "$" in form.preview.value  # a warning keeps the cost panel


def test_the_button_says_create_save_changes_or_keep_and_the_result_says_what_was_done(clean):
    form = view()
    assert form.button.description == t("tables.create")
    form.click()
    assert "note_tbl" in shown_html(form) and "created" in shown_html(form)
    assert "lab-success" in shown_html(form) and "<table" not in shown_html(form)
    assert form.button.description == t("tables.keep")
    form.set(read_capacity=2)
    assert form.button.description == t("tables.save_changes")
    assert t("forms.outdated") in shown_html(form)  # the result is for the old values
    form.click()
    assert "Read / write capacity units: 1 / 1 → 2 / 1" in shown_html(form)
    assert t("forms.outdated") not in shown_html(form)
    assert tables.capacity_units(tables.find_lab_table()) == (2, 1)
    form.click()
    assert "nothing was changed" in shown_html(form)  # one result: the last one


def test_a_look_alike_table_is_refused_before_the_click(clean):
    """CreateTable on a name in use answers ResourceInUseException (CreateTable - Amazon
    DynamoDB: "you attempted to recreate an existing table")."""
    client("dynamodb").create_table(
        TableName="note_tbl",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    before, result = judge_then_click(view())
    assert "[ResourceInUseException]" in before and result.codes == ["ResourceInUseException"]
    assert tables.find_lab_table() is None


def test_form_refuses_a_look_alike_table_that_is_not_the_labs(clean):
    client("dynamodb").create_table(
        TableName="note_tbl",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = form().submit()
    assert result.codes == ["ResourceInUseException"]
    assert tables.find_lab_table() is None
    assert table_names() == ["note_tbl"]


def test_form_refuses_renaming_the_labs_table(clean):
    form().submit()
    result = form().submit(table_name="notes_v2")
    assert result.codes == ["ResourceInUseException"]
    assert table_names() == ["note_tbl"]


def test_table_class_on_the_embedded_backend_is_the_recorded_choice(clean):
    form().submit(table_class="STANDARD")
    assert tables.table_class(tables.find_lab_table()) == "STANDARD"
    assert journal.choices("05")["table_class"] == "STANDARD"


# --- cost ------------------------------------------------------------------------------------
@pytest.mark.nobackend
def test_standard_class_within_the_free_tier_costs_nothing():
    estimate = tables.monthly_estimate("STANDARD", "PROVISIONED", 1, 1)
    assert estimate.capacity_usd == costs.monthly(0.00013 + 0.00065)
    assert estimate.after_free_tier_usd == 0.0 and estimate.free_tier_applies


@pytest.mark.nobackend
def test_standard_ia_is_billed_from_the_first_unit():
    estimate = tables.monthly_estimate("STANDARD_INFREQUENT_ACCESS", "PROVISIONED", 1, 1)
    assert estimate.after_free_tier_usd == costs.monthly(0.00016 + 0.00081) == 0.71
    assert not estimate.free_tier_applies
    assert estimate.storage_usd_per_gb == 0.10


@pytest.mark.nobackend
def test_standard_beyond_the_free_tier_pays_for_the_excess_only():
    estimate = tables.monthly_estimate("STANDARD", "PROVISIONED", 30, 25)
    assert estimate.after_free_tier_usd == costs.monthly(5 * 0.00013)


@pytest.mark.nobackend
def test_on_demand_has_no_fixed_monthly_cost():
    assert tables.monthly_estimate("STANDARD", "PAY_PER_REQUEST", 0, 0).after_free_tier_usd == 0


@pytest.mark.nobackend
def test_cost_panel_shows_the_amount_and_the_source():
    html = cost_html("STANDARD_INFREQUENT_ACCESS", "PROVISIONED", 1, 1)
    assert "$0.71" in html.replace("<span>$</span>", "$") and costs.DYNAMODB_PROVISIONED in html
    assert "Standard-IA" in html


# --- wiring with chapter 04, catch-up and checks ---------------------------------------------
def test_a_table_the_function_does_not_use_is_a_warning(clean):
    chapter("01").catch_up({})
    chapter("04").catch_up({})
    result = form().submit(table_name="other_tbl")
    assert result.ok
    assert {"tables.not_function_table", "tables.not_role_table"} <= {
        p.code for p in result.warnings
    }


def test_ensure_chapter_is_idempotent_and_checks_pass(clean):
    chapter("01").catch_up({})
    chapter("04").catch_up({})
    assert "note_tbl" in chapter("05").catch_up({})
    assert "note_tbl" in chapter("05").catch_up({"table_class": "STANDARD"})
    assert table_names() == ["note_tbl"]
    assert all(check.ok for check in tables.check_chapter()), tables.check_chapter()


def test_check_chapter_reports_a_missing_table(clean):
    checks = tables.check_chapter()
    assert [check.ok for check in checks] == [False]
