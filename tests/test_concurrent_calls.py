"""Calls made at once (issue 12: every Create click under 2 s with 200 ms per call).

``read_cache.together`` makes an action's independent calls on worker threads, and
``read_cache.prefetch`` reads ahead at once what the action will ask. A worker thread has no
action of its own: it joins its caller's, so what it asks is logged and counted, what it reads
is cached for the caller, and what it writes expires the caller's reads. Failures surface in the
caller as they would have from the call made in turn.

Counts are deterministic (every test below asserts calls, never times: the times are in
``benchmarks/lab_figures.py``). Where two calls must overlap, botocore's own ``before-send``
event holds one until the other has begun.
"""

from __future__ import annotations

import contextlib
import threading

import pytest
from botocore.exceptions import ClientError

from helpers.aws import networking
from helpers.core import read_cache
from helpers.core.clients import client, friendly_errors
from helpers.core.errors import LabError, aws_error_code


@contextlib.contextmanager
def before_sending(
    events, operation: str, tell: threading.Event, wait_for: threading.Event | None = None
):
    """Once an ec2 ``operation``'s request is ready to go (the read cache has seen it), set
    ``tell``, then hold the request until ``wait_for`` is set (if given)."""
    event = f"before-send.ec2.{operation}"

    def hold(**_):
        tell.set()
        assert wait_for is None or wait_for.wait(20), f"{operation} held, never released"

    events.register(event, hold, unique_id=f"test-hold-{event}")
    try:
        yield
    finally:
        events.unregister(event, unique_id=f"test-hold-{event}")


def test_calls_made_at_once_run_on_other_threads_and_are_all_logged(fresh_lab, calls):
    """Three reads at once: each on a thread of its own, their answers in order, each logged."""
    ec2 = client("ec2")
    threads = []

    def read(operation):
        threads.append(threading.get_ident())
        return getattr(ec2, operation)()

    with read_cache.action():
        vpcs, subnets, tables = read_cache.together(
            lambda: read("describe_vpcs"),
            lambda: read("describe_subnets"),
            lambda: read("describe_route_tables"),
        )
    assert "Vpcs" in vpcs and "Subnets" in subnets and "RouteTables" in tables
    assert threading.get_ident() not in threads
    made = calls()
    assert made["ec2.DescribeVpcs"] == made["ec2.DescribeSubnets"] == 1
    assert made["ec2.DescribeRouteTables"] == 1


def test_reads_at_once_fill_the_callers_action_and_use_it(fresh_lab, calls):
    """A read the caller made is answered to the workers from the caller's cache; what the
    workers read (``prefetch``) is answered to the caller from it: one call each."""
    ec2 = client("ec2")
    with read_cache.action():
        ec2.describe_vpcs()
        read_cache.together(ec2.describe_vpcs, ec2.describe_vpcs)
        read_cache.prefetch(ec2.describe_subnets, ec2.describe_route_tables)
        ec2.describe_subnets()
        ec2.describe_route_tables()
    made = calls()
    assert made["ec2.DescribeVpcs"] == made["ec2.DescribeSubnets"] == 1
    assert made["ec2.DescribeRouteTables"] == 1


def test_a_write_made_by_a_worker_expires_the_callers_reads(fresh_lab, calls):
    """The caller's cached DescribeVpcs is dropped by a DeleteVpc made on a worker thread: the
    caller's next read asks AWS again and no longer sees the VPC."""
    ec2 = client("ec2")
    doomed = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    with read_cache.action():
        before = {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}
        read_cache.together(lambda: ec2.delete_vpc(VpcId=doomed), ec2.describe_subnets)
        after = {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}
    assert doomed in before and doomed not in after
    assert calls()["ec2.DescribeVpcs"] == 2


def test_a_read_asked_while_a_write_begins_is_not_kept(fresh_lab, calls):
    """A DescribeVpcs in flight when a CreateVpc begins may answer from before the new VPC: it
    is not kept, and the caller's next DescribeVpcs asks AWS and sees the new VPC."""
    ec2 = client("ec2")
    read_sent, write_sent = threading.Event(), threading.Event()

    def write():
        assert read_sent.wait(20)
        return ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]

    with (
        read_cache.action(),
        before_sending(ec2.meta.events, "DescribeVpcs", read_sent, write_sent),
        before_sending(ec2.meta.events, "CreateVpc", write_sent),
    ):
        _, made = read_cache.together(ec2.describe_vpcs, write)
        vpcs = {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}
    assert made in vpcs
    assert calls()["ec2.DescribeVpcs"] == 2


def test_a_read_begun_while_a_write_is_under_way_is_not_kept(fresh_lab, calls):
    """A DescribeVpcs that begins while a CreateVpc is still waiting for its answer is not
    kept either: the caller asks again once the write is done, and sees the new VPC."""
    ec2 = client("ec2")
    write_sent, read_sent = threading.Event(), threading.Event()

    def read():
        assert write_sent.wait(20)
        return ec2.describe_vpcs()

    with read_cache.action():
        with (
            before_sending(ec2.meta.events, "CreateVpc", write_sent, read_sent),
            before_sending(ec2.meta.events, "DescribeVpcs", read_sent),
        ):
            made, _ = read_cache.together(
                lambda: ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"], read
            )
        vpcs = {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}
    assert made in vpcs
    assert calls()["ec2.DescribeVpcs"] == 2


def test_a_failure_surfaces_in_the_caller_after_every_call_has_ended(fresh_lab, calls):
    """AWS's "InvalidVpcID.NotFound" ("Error codes for the Amazon EC2 API") raised in a worker is
    raised in the caller as the same ClientError, once the other calls have ended (the VPC made
    beside it exists); inside ``friendly_errors`` it is the lab's usual LabError."""
    ec2 = client("ec2")
    missing = "vpc-0123456789abcdef0"
    with pytest.raises(ClientError) as failed, read_cache.action():
        read_cache.together(
            lambda: ec2.create_vpc(CidrBlock="10.5.0.0/16"),
            lambda: ec2.describe_vpcs(VpcIds=[missing]),
        )
    assert aws_error_code(failed.value) == "InvalidVpcID.NotFound"
    assert any(v["CidrBlock"] == "10.5.0.0/16" for v in ec2.describe_vpcs()["Vpcs"])
    with pytest.raises(LabError) as refused, friendly_errors():
        read_cache.together(ec2.describe_subnets, lambda: ec2.describe_vpcs(VpcIds=[missing]))
    assert refused.value.code == "InvalidVpcID.NotFound"


def test_the_first_failure_in_order_is_the_one_raised(fresh_lab):
    """Two calls fail: the first one listed is raised, whichever thread ended first; a LabError
    raised in a worker reaches the caller as that very error."""
    late = LabError("networking.no_network")
    first = threading.Event()

    def fails_late():
        assert first.wait(20)
        raise late

    def fails_first():
        first.set()
        raise LabError("backend.restarted")

    with pytest.raises(LabError) as raised, read_cache.action():
        read_cache.together(fails_late, fails_first)
    assert raised.value is late


def test_fresh_reads_on_workers_ask_aws_again(fresh_lab, calls):
    """Inside ``fresh()`` (a wait polling for a change) the workers' reads go out too."""
    ec2 = client("ec2")
    with read_cache.action():
        ec2.describe_vpcs()
        with read_cache.fresh():
            read_cache.together(ec2.describe_vpcs, ec2.describe_subnets)
    assert calls()["ec2.DescribeVpcs"] == 2


def test_prefetch_leaves_a_failure_to_the_read_that_asks_it(fresh_lab, calls):
    """A read ahead that fails raises nothing; "no such role" (IAM's NoSuchEntity) is kept like
    any answer, so the caller's own GetRole fails from the cache, with AWS's code."""
    iam = client("iam")
    with read_cache.action():
        read_cache.prefetch(
            lambda: iam.get_role(RoleName="never-made"), client("ec2").describe_vpcs
        )
        with pytest.raises(ClientError) as failed:
            iam.get_role(RoleName="never-made")
    assert aws_error_code(failed.value) == "NoSuchEntity"
    assert calls()["iam.GetRole"] == 1


def test_without_threads_the_calls_are_made_in_turn(fresh_lab, calls, monkeypatch):
    """In the browser's Python (Pyodide: no threads) and for a single call, the calls run on the
    caller's thread, in order."""
    monkeypatch.setattr(read_cache, "BROWSER", True)
    threads = []

    def note(value):
        threads.append(threading.get_ident())
        return value

    assert read_cache.together(lambda: note(1), lambda: note(2)) == [1, 2]
    monkeypatch.setattr(read_cache, "BROWSER", False)
    assert read_cache.together(lambda: note(3)) == [3]
    assert threads == [threading.get_ident()] * 3


# --- chapter 01's network, made in two rounds of calls at once -----------------------------------


def made_lines(lines: list[tuple[int, str]]) -> list[str]:
    return [line.split(" (")[0] for _, line in lines]


def test_the_network_is_reported_in_the_plans_order_from_the_calling_thread(fresh_lab, calls):
    """The wizard's defaults: the progress lines name the VPC, the subnets, the internet gateway
    and the route tables in that order (the console's own order), each printed by the thread
    that asked for the network (an ipywidgets Output shows only its own thread's prints);
    the network is whole (each subnet associated, the public default route to the gateway);
    a second call makes nothing and writes nothing."""
    lines = []
    result = networking.ensure_network({}, lambda line: lines.append((threading.get_ident(), line)))
    assert {thread for thread, _ in lines} == {threading.get_ident()}
    plan = result.plan
    assert made_lines(lines) == [
        f"created {name}"
        for name in (
            plan.vpc_name,
            *(s.name for s in plan.subnets),
            plan.internet_gateway_name,
            *(r.name for r in plan.route_tables),
        )
    ]
    assert result.created == [line.removeprefix("created ") for line in made_lines(lines)]
    network = result.network
    tables = {t["RouteTableId"]: t for t in client("ec2").describe_route_tables()["RouteTables"]}
    public = tables[network.public_route_table_ids[0]]
    assert set(networking.associated_subnet_ids(public)) == set(network.public_subnet_ids)
    private = tables[network.private_route_table_ids[0]]
    assert set(networking.associated_subnet_ids(private)) == set(network.private_subnet_ids)
    assert any(
        r.get("DestinationCidrBlock") == "0.0.0.0/0"
        and r.get("GatewayId") == network.internet_gateway_id
        for r in public["Routes"]
    )
    before = calls()
    again = networking.ensure_network({}, lambda line: lines.append((0, line)))
    writes = [
        call
        for call in calls() - before
        if not call.split(".")[1].startswith(read_cache.READ_PREFIXES)
    ]
    assert again.created == [] and writes == []
    assert again.network == network


def test_a_refused_call_in_a_round_surfaces_as_awss_error_and_a_second_call_finishes(
    fresh_lab,
):
    """AWS refuses the internet gateway ("InternetGatewayLimitExceeded", "Error codes for the
    Amazon EC2 API"): the learner gets AWS's code as usual; what the round made meanwhile (the
    VPC, the subnets, the route tables) is reported, in the plan's order; the next call makes
    only what is missing (one VPC, the gateway, its route)."""
    ec2 = client("ec2")

    def refuse(**_):
        raise ClientError(
            {"Error": {"Code": "InternetGatewayLimitExceeded", "Message": "limit reached"}},
            "CreateInternetGateway",
        )

    lines = []
    event = "before-call.ec2.CreateInternetGateway"
    ec2.meta.events.register(event, refuse, unique_id="test-refuse-gateway")
    try:
        with pytest.raises(LabError) as refused:
            networking.ensure_network({}, lambda line: lines.append((0, line)))
    finally:
        ec2.meta.events.unregister(event, unique_id="test-refuse-gateway")
    assert refused.value.code == "InternetGatewayLimitExceeded"
    plan = networking.plan_network({}, networking.availability_zones())
    assert made_lines(lines) == [
        f"created {name}"
        for name in (plan.vpc_name, *(s.name for s in plan.subnets))
        + tuple(r.name for r in plan.route_tables)
    ]
    finished = networking.ensure_network({}, lambda line: None)
    assert finished.created == [plan.internet_gateway_name]
    assert len([v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]) == 1
    public = next(
        t
        for t in ec2.describe_route_tables()["RouteTables"]
        if t["RouteTableId"] == finished.network.public_route_table_ids[0]
    )
    assert any(r.get("GatewayId") == finished.network.internet_gateway_id for r in public["Routes"])
