"""The note table in DynamoDB (chapter 05): find it by its tags, create or update it, its
monthly cost, and the chapter's checks."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.aws import functions
from helpers.aws.checks import Check
from helpers.core import costs, journal, read_cache
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import none_if_missing
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import ROLE_KEY, as_aws, from_aws, is_lab_resource, lab_tags
from note_app import handler as note_handler

CHAPTER = "05"
DEFAULT_TABLE_NAME = "note_tbl"
PARTITION_KEY = note_handler.KEY
PARTITION_KEY_TYPE = "S"
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
DEFAULT_TABLE_CLASS = "STANDARD_INFREQUENT_ACCESS"  # the workshop's choice
CAPACITY_MODES = ("PROVISIONED", "PAY_PER_REQUEST")
DEFAULT_CAPACITY_MODE = "PROVISIONED"
DEFAULT_CAPACITY_UNITS = 1
MAX_CAPACITY_UNITS = 40000  # AWS's default per-table quota for read and for write units
FREE_TIER_STORAGE_GB = 25


def function_table_name() -> str | None:
    """The table the lab's function is configured to use (its environment variable)."""
    function = functions.find_lab_function()
    variables = ((function or {}).get("Environment") or {}).get("Variables", {})
    return variables.get(functions.TABLE_VARIABLE)


def _describe(name: str) -> dict | None:
    return none_if_missing(lambda: client("dynamodb").describe_table(TableName=name)["Table"])


def _is_lab_table(description: dict) -> bool:
    tags = from_aws(
        client("dynamodb").list_tags_of_resource(ResourceArn=description["TableArn"]).get("Tags")
    )
    return is_lab_resource(tags) and tags.get(ROLE_KEY) == "table"


def find_lab_table() -> dict | None:
    """The lab's table (``describe_table`` shape), found by its tags.

    The names the lab knows of are tried first; then every table is looked at."""
    dynamodb = client("dynamodb")
    with friendly_errors():
        known = [journal.choices(CHAPTER).get("table_name"), DEFAULT_TABLE_NAME]
        for name in dict.fromkeys(filter(None, known)):
            description = _describe(name)
            if description and _is_lab_table(description):
                return description
        for page in dynamodb.get_paginator("list_tables").paginate():
            for name in page["TableNames"]:
                description = _describe(name)
                if description and _is_lab_table(description):
                    return description
    return None


def table_by_name(name: str) -> dict | None:
    with friendly_errors():
        return _describe(name)


def table_class(description: dict) -> str:
    """The table's class. AWS reports it; the embedded backend does not keep it, so there
    the learner's recorded choice stands in."""
    reported = (description.get("TableClassSummary") or {}).get("TableClass")
    if reported:
        return reported
    if not current().is_real_aws:
        return journal.choices(CHAPTER).get("table_class", "STANDARD")
    return "STANDARD"


def capacity_mode(description: dict) -> str:
    return (description.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")


def capacity_units(description: dict) -> tuple[int, int]:
    throughput = description.get("ProvisionedThroughput") or {}
    return throughput.get("ReadCapacityUnits", 0), throughput.get("WriteCapacityUnits", 0)


# --- the monthly cost ------------------------------------------------------------------------
@dataclass
class CostEstimate:
    capacity_usd: float  # provisioned capacity per month, before the free tier
    after_free_tier_usd: float  # what the capacity costs once the free tier is counted
    free_tier_applies: bool
    storage_usd_per_gb: float


def monthly_estimate(
    table_class_name: str, mode: str, read_units: int, write_units: int
) -> CostEstimate:
    """What the table costs a month at list price (us-east-1), as the console estimates it."""
    infrequent = table_class_name == "STANDARD_INFREQUENT_ACCESS"
    storage = costs.price("dynamodb_ia_storage" if infrequent else "dynamodb_standard_storage")
    if mode == "PAY_PER_REQUEST":
        return CostEstimate(0.0, 0.0, not infrequent, storage.usd)
    capacity = costs.monthly(
        costs.dynamodb_provisioned_hourly(table_class_name, read_units, write_units)
    )
    if infrequent:  # the free tier covers the Standard class only
        return CostEstimate(capacity, capacity, False, storage.usd)
    free = costs.DYNAMODB_FREE_TIER_CAPACITY_UNITS
    beyond = costs.monthly(
        costs.dynamodb_provisioned_hourly(
            table_class_name, max(0, read_units - free), max(0, write_units - free)
        )
    )
    return CostEstimate(capacity, beyond, True, storage.usd)


# --- creating and updating -------------------------------------------------------------------
def ensure_table(values: dict, progress=print) -> tuple[dict, bool]:
    """Create the lab's table from checked form ``values`` or bring its class and capacity in
    line with them; return its description and whether it was created."""
    dynamodb = client("dynamodb")
    name = values["table_name"].strip()
    mode = values["capacity_mode"]
    throughput = {
        "ReadCapacityUnits": int(values["read_capacity"]),
        "WriteCapacityUnits": int(values["write_capacity"]),
    }
    existing = find_lab_table()
    if existing is None:
        progress(t("tables.creating", table=name))
        capacity = {"ProvisionedThroughput": throughput} if mode == "PROVISIONED" else {}
        dynamodb.create_table(
            TableName=name,
            BillingMode=mode,
            TableClass=values["table_class"],
            KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": PARTITION_KEY, "AttributeType": PARTITION_KEY_TYPE}
            ],
            Tags=as_aws(lab_tags(CHAPTER, "table", name=name)),
            **capacity,
        )
        return _wait_active(name, progress), True
    name = existing["TableName"]
    # DynamoDB takes one kind of change per UpdateTable call.
    changes = []
    if capacity_mode(existing) != mode:
        changes.append(
            {
                "BillingMode": mode,
                **({"ProvisionedThroughput": throughput} if mode == "PROVISIONED" else {}),
            }
        )
    elif mode == "PROVISIONED" and capacity_units(existing) != (
        throughput["ReadCapacityUnits"],
        throughput["WriteCapacityUnits"],
    ):
        changes.append({"ProvisionedThroughput": throughput})
    if table_class(existing) != values["table_class"]:
        changes.append({"TableClass": values["table_class"]})
    for change in changes:
        progress(t("tables.updating", table=name))
        dynamodb.update_table(TableName=name, **change)
        _wait_active(name, progress)
    return _describe(name), False


def _wait_active(name: str, progress) -> dict:
    description = _describe(name)
    if description["TableStatus"] != "ACTIVE":
        progress(t("tables.waiting", table=name))
        with read_cache.fresh():
            client("dynamodb").get_waiter("table_exists").wait(TableName=name)
        description = _describe(name)
    return description


# --- catch-up and "Check your work" ----------------------------------------------------------
def check_chapter() -> list[Check]:
    """What chapter 05 should have made, each with what was found."""
    table = find_lab_table()
    checks = [
        Check(
            t("tables.check_table"),
            table is not None,
            table["TableName"] if table else t("tables.check_missing"),
        )
    ]
    if table is None:
        return checks
    key_schema = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
    key_types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    key_ok = (
        key_schema == [(PARTITION_KEY, "HASH")]
        and key_types.get(PARTITION_KEY) == PARTITION_KEY_TYPE
    )
    function_table = function_table_name()
    role_table = functions.role_table_name()
    name = table["TableName"]
    checks += [
        Check(t("tables.check_active"), table["TableStatus"] == "ACTIVE", table["TableStatus"]),
        Check(
            t("tables.check_key"),
            key_ok,
            ", ".join(f"{n} ({key_types.get(n)}, {k})" for n, k in key_schema),
        ),
        Check(
            t("tables.check_function_uses"),
            function_table == name,
            f"{functions.TABLE_VARIABLE}={function_table or '-'}",
        ),
        Check(
            t("tables.check_role_allows"),
            role_table == name and functions.table_arn(role_table) == table["TableArn"],
            t("functions.policy_allows", table=role_table or "-"),
        ),
    ]
    return checks
