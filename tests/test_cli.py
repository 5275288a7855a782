"""The instructor's command line: catch-up builds the lab, clean-up removes it (lab tags only)."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers.aws.inventory import inventory
from helpers.core.clients import client


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_catch_up_then_clean_up_from_the_command_line(fresh_lab):
    decoy = client("ec2").create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    built = run("catch-up")
    assert built.returncode == 0, built.stderr
    kinds = {item.kind for item in inventory()}
    assert {"vpc", "vpc-endpoint", "lambda-function", "dynamodb-table", "rest-api"} <= kinds
    cleaned = run("clean-up")
    assert cleaned.returncode == 0, cleaned.stderr
    assert inventory() == []
    assert client("ec2").describe_vpcs(VpcIds=[decoy])["Vpcs"][0]["VpcId"] == decoy
