"""Each AWS read made once per action: a read cache as long as one click or one chapter verb.

A learner far from the region waits for every call, and one click (check, create, render)
used to ask AWS the same question many times. Inside an ``action()``, a read (an operation
named ``Describe*``, ``Get*`` or ``List*``) with the same parameters, on the same backend,
region and account, is answered from the first answer; any other operation (a write) empties
the action's cache first, but for the few reads it cannot change (``KEPT_THROUGH``), so
whatever is read after a write is fresh. A create that answers with the new resource whole
(``ADDED_BY``: CreateVpc) puts the region's list read before it back with the new item added,
which is what the list then answers: the form's judgement after chapter 01's click reads no
VPC list again. Reads inside ``fresh()`` (a wait polling for a change) always ask AWS. A few
facts AWS does not change in a lab's lifetime (the region's endpoint services, an AWS-managed
prefix list) are kept for the session, until ``forget_session()`` (a backend restarted or
reset).

The cache is botocore's ``before-call`` hook (``install``): an answer it gives never reaches the
network. Callers get a copy of the cached answer, so one caller's changes never leak to
another. With ``LAB_CALL_LOG`` naming a file, every call that does reach AWS is logged there,
one ``service.Operation`` a line (how the call budgets are measured, on any backend).

A learner far from the region waits for each call in turn: ``together`` makes independent
calls at once, on worker threads that join the caller's action (its cache, its call log), and
``prefetch`` reads ahead, at once, what an action will ask. With calls in flight at the same
time, a read's answer is kept only if no write began while it was asked (nor was still under
way when it began): what is kept is never older than a write the action made.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from helpers.core.errors import is_not_found
from helpers.core.home import BROWSER

READ_PREFIXES = ("Describe", "Get", "List")
# Facts AWS keeps the same for a lab's lifetime (per backend, region and account).
SESSION_FACTS = frozenset(
    {
        "DescribeVpcEndpointServices",
        "DescribePrefixLists",
        "DescribeManagedPrefixLists",
        "GetManagedPrefixListEntries",
    }
)
# An AWS-managed IAM policy (its ARN in the ``aws`` account): AWS alone writes a new version,
# rarely (each version is kept in the policy's history, "AWS managed policies", IAM User
# Guide); a session shows the version it first read.
AWS_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/"
MANAGED_POLICY_READS = frozenset({"GetPolicy", "GetPolicyVersion"})


def _is_session_fact(model, params: dict) -> bool:
    if model.name in SESSION_FACTS:
        return True
    request = params.get("body")
    return (
        model.name in MANAGED_POLICY_READS
        and isinstance(request, dict)
        and str(request.get("PolicyArn", "")).startswith(AWS_MANAGED_POLICY_ARN)
    )


# Reads a write cannot change, kept through it (any other write empties the action's cache).
# An endpoint and its routes change the endpoint and the route tables; what DescribeVpcs and
# DescribeSecurityGroups answer (the Amazon EC2 API Reference's "Vpc" data type: id, CIDR
# blocks, state, DHCP options, tenancy, Block Public Access state, tags; "SecurityGroup": its
# rules, description, tags) holds nothing an endpoint or a route changes.
_VPC_AND_GROUPS = frozenset({"DescribeVpcs", "DescribeSecurityGroups"})
# A route takes no address in any subnet either ("Subnet" data type: its CIDR, free addresses,
# zone, settings and tags), nor does a gateway endpoint ("Gateway endpoints", AWS PrivateLink
# guide: a gateway endpoint is a route table target, with no network interface), so these keep
# the subnets' answers too; an interface endpoint puts a network interface in its subnets.
_WITH_SUBNETS = _VPC_AND_GROUPS | {"DescribeSubnets"}
# Building a network's parts changes none of the "Vpc" data type's fields either: DNS settings
# are VPC attributes read with DescribeVpcAttribute, not part of it ("ModifyVpcAttribute"), and
# subnets, gateways, route tables and addresses are answers of their own.
_VPC = frozenset({"DescribeVpcs"})
KEPT_THROUGH = {
    "CreateVpcEndpoint": _VPC_AND_GROUPS,
    "ModifyVpcEndpoint": _VPC_AND_GROUPS,
    "CreateRoute": _WITH_SUBNETS,
    "DeleteRoute": _WITH_SUBNETS,
    "ReplaceRoute": _WITH_SUBNETS,
    **dict.fromkeys(
        (
            "ModifyVpcAttribute",
            "CreateSubnet",
            "CreateInternetGateway",
            "AttachInternetGateway",
            "CreateRouteTable",
            "AssociateRouteTable",
            "AllocateAddress",
            "CreateNatGateway",
        ),
        _VPC,
    ),
}
# Tags change the tagged resources' answers only: a VPC's tags are in DescribeVpcs' answer.
TAG_WRITES = frozenset({"CreateTags", "DeleteTags"})
# A create that answers with the new resource whole, as the region's list describes it: the list
# read before it stays true with the new item added ("Use CreateVpc with an AWS SDK or CLI",
# Amazon EC2 Developer Guide: CreateVpc answers the VPC, its tags included, in the state it is
# in, "pending" on AWS until it is available).
ADDED_BY = {"CreateVpc": ("DescribeVpcs", "Vpc", "Vpcs")}
# Services whose writes change only their own answers: a role, a function, a table, an API
# each live in their own service, and what one of these services answers holds nothing another
# one writes (a function's configuration names its role's ARN, not the role's policies). The
# exception: a function in a VPC gets network interfaces in its subnets ("Giving Lambda
# functions access to resources in an Amazon VPC", Lambda Developer Guide), which changes EC2's
# interfaces and the subnets' free addresses. EC2's own writes empty every read.
SELF_CONTAINED_WRITES = frozenset({"iam", "lambda", "dynamodb", "apigateway", "logs", "sts"})
REACHES_INTO = {
    "lambda": frozenset({("ec2", "DescribeNetworkInterfaces"), ("ec2", "DescribeSubnets")})
}
CALL_LOG_ENV = "LAB_CALL_LOG"
# Calls made at once by ``together``: an action's independent calls are a handful (chapter 01's
# subnets and route tables); AWS's request rate limits allow far more.
MAX_TOGETHER = 8

_local = threading.local()  # per thread (widget callbacks may run on subshells): the action
_session: dict[tuple, tuple[Any, dict]] = {}
_session_lock = threading.Lock()
Result = TypeVar("Result")


class _ActionCache(dict):
    """One action's answers (key -> (http response, parsed answer)), shared by the threads
    working for it, and the writes it has started and not yet finished."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.writes_started = 0
        self.writes_under_way = 0


@contextlib.contextmanager
def action() -> Iterator[None]:
    """One learner action: reads inside are made once. Nested actions join the outer one."""
    opened = begin_action()
    try:
        yield
    finally:
        if opened:
            end_action()


def begin_action() -> bool:
    """Start an action unless one is running on this thread; True if this one started it
    (for actions without a ``with`` around them: a notebook cell)."""
    if getattr(_local, "cache", None) is not None:
        return False
    _local.cache = _ActionCache()
    return True


def end_action() -> None:
    _local.cache = None


@contextlib.contextmanager
def fresh() -> Iterator[None]:
    """Reads inside ask AWS again (waiting for a change); their answers replace cached ones."""
    _local.fresh = getattr(_local, "fresh", 0) + 1
    try:
        yield
    finally:
        _local.fresh -= 1


def expire() -> None:
    """Time passed (a poll's pause): the action's reads may be out of date, ask again."""
    cache = getattr(_local, "cache", None)
    if cache:
        with cache.lock:
            cache.clear()


def together(*calls: Callable[[], Result]) -> list[Result]:
    """Make ``calls`` at once, each on a worker thread that joins this thread's action (its
    answers, its writes, its ``fresh()``); their results, in order. Each call runs to its end;
    then the first failure, in order, is raised as it was raised (a ClientError, a LabError),
    once. Where no thread can start (the browser's Python), the calls are made in turn.

    Only the calling thread may show anything (an ipywidgets Output captures its own thread's
    prints): the calls return what to report."""
    if len(calls) < 2 or BROWSER:
        return [call() for call in calls]
    cache, fresh_depth = getattr(_local, "cache", None), getattr(_local, "fresh", 0)

    def joined(call: Callable[[], Result]) -> Result:
        _local.cache, _local.fresh = cache, fresh_depth
        try:
            return call()
        finally:
            _local.cache, _local.fresh = None, 0

    with ThreadPoolExecutor(min(len(calls), MAX_TOGETHER)) as pool:
        futures = [pool.submit(joined, call) for call in calls]
    return [future.result() for future in futures]


def prefetch(*reads: Callable[[], Any]) -> None:
    """Ask ``reads`` at once, for their answers to be in this action's cache when the action
    asks them in turn. A read that fails is left to fail again where it is asked (a "no such
    resource" answer is kept like any other; a throttle or a lost connection is not)."""

    def quietly(read: Callable[[], Any]) -> None:
        with contextlib.suppress(BotoCoreError, ClientError):
            read()

    together(*(lambda read=read: quietly(read) for read in reads))


def forget_session() -> None:
    """Drop the session's facts (the backend they were read from restarted or was reset)."""
    with _session_lock:
        _session.clear()


def install(events, scope: tuple) -> None:
    """Hook the cache into a client's ``events``; ``scope`` names its backend, region and
    account (reads are shared only between clients of the same scope)."""
    events.register("before-call", lambda **kwargs: _before_call(events, scope, **kwargs))
    events.register("after-call", _write_finished)
    events.register("after-call-error", _write_finished)


def _is_read(model) -> bool:
    return model.name.startswith(READ_PREFIXES) and not model.has_streaming_output


def _key(scope: tuple, model, params: dict) -> tuple:
    headers = {k: v for k, v in params.get("headers", {}).items() if k.lower() != "user-agent"}
    request = [params.get("method"), params.get("url"), params.get("body"), headers]
    return (*scope, model.name, json.dumps(request, sort_keys=True, default=repr))


def _keep_raw_answers(events, model) -> None:
    """Keep answers before botocore's own ``after-call`` handlers change them in place (IAM's
    policy documents are decoded there): a cached answer then goes through them again, as a
    fresh one does. The operation's own event is the first one emitted."""
    event = f"after-call.{model.service_model.service_id.hyphenize()}.{model.name}"
    events.register_first(event, _after_call, unique_id=f"read-cache-{event}")


def _changed_by(service: str, write: str, key: tuple, request: dict) -> bool:
    """Whether the cached read ``key`` may answer differently after ``service``'s ``write``
    (``request``: the write's parameters as sent)."""
    read_service, read = key[0], key[-2]
    if service in SELF_CONTAINED_WRITES:
        return read_service == service or (read_service, read) in REACHES_INTO.get(service, ())
    if _touches_no_subnet(write, request):
        return read not in _WITH_SUBNETS
    if write in TAG_WRITES and not _tags_a_vpc(request):
        return read not in _VPC
    return read not in KEPT_THROUGH.get(write, frozenset())


def _tags_a_vpc(request: dict) -> bool:
    """Whether a CreateTags or DeleteTags names a VPC among its resources (``ResourceId.N``)."""
    return any(
        name.startswith("ResourceId") and str(value).startswith("vpc-")
        for name, value in request.items()
    )


def _is_whole_list(key: tuple, scope: tuple, read: str) -> bool:
    """Whether the cached read ``key`` is ``read`` of every item, in ``scope`` (no filter, no
    id, no page)."""
    if key[: len(scope)] != scope or key[-2] != read:
        return False
    body = json.loads(key[-1])[2]
    return isinstance(body, dict) and set(body) <= {"Action", "Version"}


def _touches_no_subnet(write: str, request: dict) -> bool:
    """A gateway endpoint made or changed: CreateVpcEndpoint's type defaults to ``Gateway``
    (Amazon EC2 API Reference), and a ModifyVpcEndpoint without subnets to add or remove
    changes route tables, policy or settings only."""
    if write == "CreateVpcEndpoint":
        return request.get("VpcEndpointType", "Gateway") == "Gateway"
    if write == "ModifyVpcEndpoint":
        return not any(name.startswith(("AddSubnetId", "RemoveSubnetId")) for name in request)
    return False


def _before_call(events, scope: tuple, model, params: dict, context: dict, **_):
    cache = getattr(_local, "cache", None)
    if not _is_read(model):
        if cache is not None:
            request = params.get("body")
            request = request if isinstance(request, dict) else {}
            added_to = ADDED_BY.get(model.name)
            with cache.lock:
                stale = [k for k in cache if _changed_by(scope[0], model.name, k, request)]
                lists = {
                    k: cache[k] for k in stale if added_to and _is_whole_list(k, scope, added_to[0])
                }
                for key in stale:
                    del cache[key]
                cache.writes_started += 1
                cache.writes_under_way += 1
            context["read_cache_write"] = (cache, cache.writes_started, lists, added_to)
        _log(model)
        return None
    key = _key(scope, model, params)
    session_fact = _is_session_fact(model, params)
    if not getattr(_local, "fresh", 0):
        with _session_lock:
            answer = _session.get(key) if session_fact else None
        if answer is None and cache is not None:
            answer = cache.get(key)
        if answer is not None:
            http, parsed = answer
            return http, copy.deepcopy(parsed)
    if cache is not None:
        with cache.lock:  # the action's writes when this read began, unless one is under way
            context["read_cache_writes_before"] = (
                None if cache.writes_under_way else cache.writes_started
            )
    context["read_cache"] = (key, cache, session_fact)
    _keep_raw_answers(events, model)
    _log(model)
    return None


def _after_call(http_response, parsed: dict, context: dict, **_) -> None:
    remembered = context.pop("read_cache", None)
    if remembered is None:
        return  # a cached answer, or a write
    key, cache, session_fact = remembered
    if http_response.status_code >= 300:
        # "No such resource" stands until a write, like any answer (the lab asks twice whether
        # a name is free); any other error (a throttle, a fault) must never be kept.
        code = parsed.get("Error", {}).get("Code")
        if session_fact or not is_not_found(code):
            return
    answer = (http_response, copy.deepcopy(parsed))
    if session_fact:
        with _session_lock:
            _session[key] = answer
    elif cache is not None and cache is getattr(_local, "cache", None):
        writes_before = context.pop("read_cache_writes_before", cache.writes_started)
        with cache.lock:
            # a write begun while this read was asked may or may not be in its answer
            if writes_before == cache.writes_started:
                cache[key] = answer


def _write_finished(context: dict, parsed: dict | None = None, http_response=None, **_) -> None:
    """A write's answer (or its failure) arrived: reads asked from now on include it. A create of
    ``ADDED_BY`` that succeeded puts the whole lists read before it back, its new item added,
    unless another write began meanwhile."""
    write = context.pop("read_cache_write", None)
    if write is None:
        return
    cache, writes_started, lists, added_to = write
    with cache.lock:
        cache.writes_under_way -= 1
        succeeded = http_response is not None and http_response.status_code < 300
        if lists and succeeded and cache.writes_started == writes_started:
            _, item_key, list_key = added_to
            for key, (http, answer) in lists.items():  # out of the cache: no one else holds it
                answer[list_key].append(copy.deepcopy(parsed[item_key]))
                cache[key] = (http, answer)


def _log(model) -> None:
    path = os.environ.get(CALL_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{model.service_model.service_name}.{model.name}\n")
