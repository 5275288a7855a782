"""Chapter 05's form: DynamoDB's "Create table" page for the note table, with its cost.

It refuses what DynamoDB would refuse (names, capacities) with DynamoDB's error codes, and a
key the note app cannot use; it warns when the table is not the one the function and its
role were set up for.
"""

from __future__ import annotations

from helpers.aws import functions, tables
from helpers.core import costs, journal, read_cache
from helpers.core.messages import t
from helpers.views.forms.base import Field, FormModel, Problem, SubmitResult
from helpers.views.html import box, table
from helpers.views.html import text as escape

KEY_TYPES = [("String", "S"), ("Number", "N"), ("Binary", "B")]


class TableForm(FormModel):
    """Table details, table settings (class, capacity) and the estimated monthly cost."""

    chapter = tables.CHAPTER
    submit_label_key = "tables.create"

    def __init__(self):
        remembered = journal.choices(self.chapter)
        self.fields = [
            Field(
                "table_name",
                "tables.field_name",
                "text",
                remembered.get("table_name")
                or tables.function_table_name()
                or functions.role_table_name()
                or tables.DEFAULT_TABLE_NAME,
            ),
            Field("partition_key", "tables.field_partition_key", "text", tables.PARTITION_KEY),
            Field(
                "partition_key_type",
                "tables.field_partition_key_type",
                "choice",
                tables.PARTITION_KEY_TYPE,
                options=KEY_TYPES,
            ),
            Field(
                "table_class",
                "tables.field_table_class",
                "choice",
                tables.DEFAULT_TABLE_CLASS,
                options=[
                    (t("tables.class_standard"), "STANDARD"),
                    (t("tables.class_infrequent"), "STANDARD_INFREQUENT_ACCESS"),
                ],
            ),
            Field(
                "capacity_mode",
                "tables.field_capacity_mode",
                "choice",
                tables.DEFAULT_CAPACITY_MODE,
                options=[
                    (t("tables.mode_provisioned"), "PROVISIONED"),
                    (t("tables.mode_on_demand"), "PAY_PER_REQUEST"),
                ],
            ),
            Field(
                "read_capacity", "tables.field_read_capacity", "int", tables.DEFAULT_CAPACITY_UNITS
            ),
            Field(
                "write_capacity",
                "tables.field_write_capacity",
                "int",
                tables.DEFAULT_CAPACITY_UNITS,
            ),
        ]

    # --- checks -----------------------------------------------------------------------------
    def check(self, values: dict) -> list[Problem]:
        problems = self._shape_problems(values)
        if problems:
            return problems
        name = values["table_name"].strip()
        # Independent reads, asked at once (a learner far from the region waits once for them).
        existing, warnings = read_cache.together(
            tables.find_lab_table, lambda: self._wiring_warnings(name)
        )
        if existing and existing["TableName"] != name:
            return [
                Problem(
                    "table_name",
                    "ResourceInUseException",
                    t("tables.table_renamed", existing=existing["TableName"]),
                )
            ]
        if existing is None and tables.table_by_name(name):
            return [
                Problem(
                    "table_name", "ResourceInUseException", t("tables.table_not_lab", table=name)
                )
            ]
        return warnings

    def _shape_problems(self, values: dict) -> list[Problem]:
        problems = []
        name = values["table_name"].strip()
        if not functions.TABLE_NAME.match(name):
            problems.append(
                Problem(
                    "table_name", "ValidationException", t("functions.bad_table_name", table=name)
                )
            )
        key = values["partition_key"].strip()
        if not 1 <= len(key) <= 255:
            problems.append(
                Problem("partition_key", "ValidationException", t("tables.bad_key_name"))
            )
        elif (key, values["partition_key_type"]) != (
            tables.PARTITION_KEY,
            tables.PARTITION_KEY_TYPE,
        ):
            problems.append(
                Problem(
                    "partition_key",
                    "tables.key_not_note_app",
                    t("tables.key_not_note_app", attribute=key, type=values["partition_key_type"]),
                )
            )
        if values["table_class"] not in tables.TABLE_CLASSES:
            problems.append(
                Problem(
                    "table_class",
                    "ValidationException",
                    t("tables.bad_choice", value=values["table_class"]),
                )
            )
        if values["capacity_mode"] not in tables.CAPACITY_MODES:
            problems.append(
                Problem(
                    "capacity_mode",
                    "ValidationException",
                    t("tables.bad_choice", value=values["capacity_mode"]),
                )
            )
        elif values["capacity_mode"] == "PROVISIONED":
            for field in ("read_capacity", "write_capacity"):
                units = values[field]
                if not isinstance(units, int) or isinstance(units, bool) or units < 1:
                    problems.append(
                        Problem(
                            field, "ValidationException", t("tables.capacity_too_low", value=units)
                        )
                    )
                elif units > tables.MAX_CAPACITY_UNITS:
                    problems.append(
                        Problem(
                            field,
                            "LimitExceededException",
                            t(
                                "tables.capacity_too_high",
                                value=units,
                                limit=tables.MAX_CAPACITY_UNITS,
                            ),
                        )
                    )
        return problems

    def _wiring_warnings(self, name: str) -> list[Problem]:
        warnings = []
        function_table, role_table = read_cache.together(
            tables.function_table_name, functions.role_table_name
        )
        if function_table and function_table != name:
            warnings.append(
                Problem(
                    "table_name",
                    "tables.not_function_table",
                    t("tables.not_function_table", table=name, configured=function_table),
                    "warning",
                )
            )
        if role_table and role_table != name:
            warnings.append(
                Problem(
                    "table_name",
                    "tables.not_role_table",
                    t("tables.not_role_table", table=name, allowed=role_table),
                    "warning",
                )
            )
        return warnings

    # --- what a click does ---------------------------------------------------------------------
    def action_label(self, values: dict) -> str:
        existing = tables.find_lab_table()
        if existing is None:
            return t(self.submit_label_key)
        return t("tables.save_changes" if self.changes(existing, values) else "tables.keep")

    def changes(self, existing: dict, values: dict) -> list[str]:
        """What a click would change on the lab's ``existing`` table, one "setting: before →
        after" line each (what ``tables.ensure_table`` updates: class, mode, capacity)."""
        classes = {v: label for label, v in self.field("table_class").choices(values)}
        modes = {v: label for label, v in self.field("capacity_mode").choices(values)}
        before_class, after_class = tables.table_class(existing), values["table_class"]
        before_mode, after_mode = tables.capacity_mode(existing), values["capacity_mode"]
        before_units = "{} / {}".format(*tables.capacity_units(existing))
        after_units = f"{values['read_capacity']} / {values['write_capacity']}"
        compared = [
            ("tables.row_class", classes, before_class, after_class),
            ("tables.row_mode", modes, before_mode, after_mode),
        ]
        if after_mode == "PROVISIONED":
            compared.append(("tables.row_capacity", {}, before_units, after_units))
        return [
            t(
                "tables.change",
                setting=t(setting),
                before=labels.get(before, before),
                after=labels.get(after, after),
            )
            for setting, labels, before, after in compared
            if before != after
        ]

    def create(self, values: dict) -> SubmitResult:
        existing = tables.find_lab_table()
        changes = self.changes(existing, values) if existing else []
        description, created = tables.ensure_table(values, self.progress)
        # The embedded backend does not report the class it was given: show the one just set.
        description.setdefault("TableClassSummary", {"TableClass": values["table_class"]})
        name = description["TableName"]
        if created:
            done = t("tables.created", table=name, status=description["TableStatus"])
        elif changes:
            done = t("tables.changed", table=name, changes="; ".join(changes))
        else:
            done = t("tables.unchanged", table=name)
        return SubmitResult(
            ok=True, created=created, resource=description, html=box(done, "success")
        )

    def preview(self, values: dict) -> str:
        """The estimated cost (shown only when no field is refused: the framework shows those)."""
        return cost_html(
            values["table_class"],
            values["capacity_mode"],
            values["read_capacity"],
            values["write_capacity"],
        )


def cost_html(table_class: str, mode: str, read_units, write_units) -> str:
    """The console's "estimated cost" panel, with the prices' source and date, for checked
    values (capacity of 1 or more when provisioned)."""
    estimate = tables.monthly_estimate(table_class, mode, read_units, write_units)
    infrequent = table_class == "STANDARD_INFREQUENT_ACCESS"
    rows = []
    if mode == "PROVISIONED":
        rows.append(
            [
                t("tables.cost_capacity", read=read_units, write=write_units),
                f"${estimate.capacity_usd:.2f}",
            ]
        )
        rows.append([t("tables.cost_after_free_tier"), f"${estimate.after_free_tier_usd:.2f}"])
        source = costs.DYNAMODB_PROVISIONED
    else:
        prefix = "dynamodb_ia" if infrequent else "dynamodb"
        writes = costs.price(f"{prefix}_on_demand_write").usd
        reads = costs.price(f"{prefix}_on_demand_read").usd
        rows.append(
            [t("tables.cost_on_demand"), t("tables.cost_per_request", writes=writes, reads=reads)]
        )
        source = costs.DYNAMODB_ON_DEMAND
    rows.append([t("tables.cost_storage"), f"${estimate.storage_usd_per_gb:.2f} / GB"])
    if infrequent:
        note = t("tables.free_tier_not_ia")
    elif mode == "PROVISIONED":
        note = t(
            "tables.free_tier_standard",
            units=costs.DYNAMODB_FREE_TIER_CAPACITY_UNITS,
            storage=tables.FREE_TIER_STORAGE_GB,
        )
    else:
        note = t("tables.free_tier_on_demand", storage=tables.FREE_TIER_STORAGE_GB)
    caption = t("tables.cost_caption", date=costs.PRICES_RECORDED)
    return (
        table([t("tables.column_item"), t("tables.column_month")], rows, caption=caption)
        + box(note, "info")
        + f"<p style='font-size:smaller'>{escape(t('tables.cost_source'))} "
        f"<a href='{escape(source)}' target='_blank'>{escape(source)}</a></p>"
    )


def table_html(description: dict) -> str:
    """The table as DynamoDB reports it now."""
    read_units, write_units = tables.capacity_units(description)
    mode = tables.capacity_mode(description)
    rows = [
        [t("tables.row_name"), description["TableName"]],
        [t("tables.row_status"), description["TableStatus"]],
        [
            t("tables.row_key"),
            ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in description["KeySchema"]),
        ],
        [t("tables.row_class"), tables.table_class(description)],
        [t("tables.row_mode"), mode],
        [
            t("tables.row_capacity"),
            f"{read_units} / {write_units}" if mode == "PROVISIONED" else "-",
        ],
        ["ARN", description["TableArn"]],
    ]
    return table(
        [t("functions.column_setting"), t("functions.column_value")],
        rows,
        caption=t("tables.caption"),
    )


def table_view_html() -> str:
    """The lab's table as it is now, or how to make it."""
    description = tables.find_lab_table()
    return table_html(description) if description else box(t("tables.check_missing"), "warning")
