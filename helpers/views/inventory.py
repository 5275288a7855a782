"""The inventory as a table: what the lab made, and what it costs."""

from __future__ import annotations

from helpers.aws.inventory import InventoryItem, hourly_total
from helpers.core import costs
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.views.html import box, table


def cost_text(hourly_usd: float | None) -> str:
    if hourly_usd is None:
        return t("cleanup.cost_none")
    if hourly_usd == 0:
        return t("cleanup.cost_free")
    return t("cleanup.cost_hourly", usd=hourly_usd)


def render(items: list[InventoryItem]) -> str:
    """The inventory as an HTML table (or a sentence saying nothing is left)."""
    if not items:
        return box(t("cleanup.inventory_empty", region=current().region), "success")
    columns = [
        t("cleanup.column_type"),
        t("cleanup.column_id"),
        t("cleanup.column_name"),
        t("cleanup.column_chapter"),
        t("cleanup.column_cost"),
    ]
    rows = [
        [item.kind_label, item.id, item.name, item.chapter, cost_text(item.hourly_usd)]
        for item in items
    ]
    hourly = hourly_total(items)
    caption = t(
        "cleanup.inventory_caption",
        count=len(items),
        hourly=hourly,
        monthly=costs.monthly(hourly),
        recorded=costs.PRICES_RECORDED,
    )
    return table(columns, rows, caption=caption)
