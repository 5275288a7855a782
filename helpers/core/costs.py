"""List prices of what the lab can create, with their source and date.

Prices are AWS's published on-demand list prices for us-east-1 (USD), recorded for this lab
on the date below; other regions differ a little. The lab shows them before creating
anything that costs money, and asks for confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_RECORDED = "2026-11"
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Price:
    item: str  # catalogue key under costs.*
    usd: float
    unit: str  # "hour", "GB", "WCU-hour", "RCU-hour", "GB-month", "million requests"
    source: str  # the AWS pricing page


VPC_PRICING = "https://aws.amazon.com/vpc/pricing/"
PRIVATELINK_PRICING = "https://aws.amazon.com/privatelink/pricing/"
DYNAMODB_PROVISIONED = "https://aws.amazon.com/dynamodb/pricing/provisioned/"
DYNAMODB_ON_DEMAND = "https://aws.amazon.com/dynamodb/pricing/on-demand/"

PRICES = {
    "nat_gateway_hour": Price("nat_gateway_hour", 0.045, "hour", VPC_PRICING),
    "nat_gateway_gb": Price("nat_gateway_gb", 0.045, "GB", VPC_PRICING),
    "public_ipv4_hour": Price("public_ipv4_hour", 0.005, "hour", VPC_PRICING),
    "interface_endpoint_az_hour": Price(
        "interface_endpoint_az_hour", 0.01, "hour", PRIVATELINK_PRICING
    ),
    "interface_endpoint_gb": Price("interface_endpoint_gb", 0.01, "GB", PRIVATELINK_PRICING),
    "gateway_endpoint_hour": Price("gateway_endpoint_hour", 0.0, "hour", PRIVATELINK_PRICING),
    "dynamodb_standard_wcu_hour": Price(
        "dynamodb_standard_wcu_hour", 0.00065, "WCU-hour", DYNAMODB_PROVISIONED
    ),
    "dynamodb_standard_rcu_hour": Price(
        "dynamodb_standard_rcu_hour", 0.00013, "RCU-hour", DYNAMODB_PROVISIONED
    ),
    "dynamodb_ia_wcu_hour": Price(
        "dynamodb_ia_wcu_hour", 0.00081, "WCU-hour", DYNAMODB_PROVISIONED
    ),
    "dynamodb_ia_rcu_hour": Price(
        "dynamodb_ia_rcu_hour", 0.00016, "RCU-hour", DYNAMODB_PROVISIONED
    ),
    "dynamodb_standard_storage": Price(
        "dynamodb_standard_storage", 0.25, "GB-month", DYNAMODB_PROVISIONED
    ),
    "dynamodb_ia_storage": Price("dynamodb_ia_storage", 0.10, "GB-month", DYNAMODB_PROVISIONED),
    "dynamodb_on_demand_write": Price(
        "dynamodb_on_demand_write", 0.625, "million requests", DYNAMODB_ON_DEMAND
    ),
    "dynamodb_on_demand_read": Price(
        "dynamodb_on_demand_read", 0.125, "million requests", DYNAMODB_ON_DEMAND
    ),
    "dynamodb_ia_on_demand_write": Price(
        "dynamodb_ia_on_demand_write", 0.78125, "million requests", DYNAMODB_ON_DEMAND
    ),
    "dynamodb_ia_on_demand_read": Price(
        "dynamodb_ia_on_demand_read", 0.15625, "million requests", DYNAMODB_ON_DEMAND
    ),
}

# The AWS Free Tier covers 25 WCU and 25 RCU of provisioned Standard-class capacity.
DYNAMODB_FREE_TIER_CAPACITY_UNITS = 25


def price(key: str) -> Price:
    return PRICES[key]


def monthly(hourly_usd: float) -> float:
    return round(hourly_usd * HOURS_PER_MONTH, 2)


def nat_gateway_hourly(count: int) -> float:
    """NAT gateways and their Elastic IPs (public IPv4 addresses), per hour."""
    return count * (PRICES["nat_gateway_hour"].usd + PRICES["public_ipv4_hour"].usd)


def interface_endpoint_hourly(availability_zones: int) -> float:
    return availability_zones * PRICES["interface_endpoint_az_hour"].usd


def dynamodb_provisioned_hourly(table_class: str, read_units: int, write_units: int) -> float:
    """Provisioned capacity per hour, before the free tier."""
    prefix = "dynamodb_ia" if table_class == "STANDARD_INFREQUENT_ACCESS" else "dynamodb_standard"
    return (
        read_units * PRICES[f"{prefix}_rcu_hour"].usd
        + write_units * PRICES[f"{prefix}_wcu_hour"].usd
    )


def path_monthly_cost(path: str, gb_per_month: float, availability_zones: int = 1) -> float:
    """Monthly cost of the network path from the private subnet to DynamoDB."""
    if path == "nat_gateway":
        return round(
            monthly(nat_gateway_hourly(availability_zones))
            + gb_per_month * PRICES["nat_gateway_gb"].usd,
            2,
        )
    if path == "interface_endpoint":
        return round(
            monthly(interface_endpoint_hourly(availability_zones))
            + gb_per_month * PRICES["interface_endpoint_gb"].usd,
            2,
        )
    if path == "gateway_endpoint":
        return 0.0
    raise ValueError(path)
