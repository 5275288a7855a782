"""The lab's tags: how the lab recognises what it made (never by name alone)."""

from __future__ import annotations

LAB_KEY = "lab"
LAB_VALUE = "vpc-endpoint-lab"
CHAPTER_KEY = "lab:chapter"
ROLE_KEY = "lab:role"  # which part of the lab this resource plays, e.g. "private-route-table"


def lab_tags(chapter: str, role: str, name: str | None = None, extra: dict | None = None) -> dict:
    tags = {LAB_KEY: LAB_VALUE, CHAPTER_KEY: chapter, ROLE_KEY: role}
    if name:
        tags["Name"] = name
    tags.update(extra or {})
    return tags


def as_aws(tags: dict) -> list[dict]:
    """``{"k": "v"}`` → ``[{"Key": "k", "Value": "v"}]`` (EC2, DynamoDB, IAM style)."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def from_aws(tag_list: list[dict] | None) -> dict:
    return {tag["Key"]: tag["Value"] for tag in tag_list or []}


def tag_specification(resource_type: str, tags: dict) -> list[dict]:
    return [{"ResourceType": resource_type, "Tags": as_aws(tags)}]


def ec2_filters(role: str | None = None, chapter: str | None = None) -> list[dict]:
    """EC2 ``Filters`` that match only the lab's resources (optionally one role)."""
    filters = [{"Name": f"tag:{LAB_KEY}", "Values": [LAB_VALUE]}]
    if role:
        filters.append({"Name": f"tag:{ROLE_KEY}", "Values": [role]})
    if chapter:
        filters.append({"Name": f"tag:{CHAPTER_KEY}", "Values": [chapter]})
    return filters


def is_lab_resource(tags: dict | list | None) -> bool:
    if isinstance(tags, list):
        tags = from_aws(tags)
    return (tags or {}).get(LAB_KEY) == LAB_VALUE
