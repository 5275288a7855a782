"""Each AWS read made once per action: a read cache as long as one click or one chapter verb.

A learner far from the region waits for every call, and one click (check, create, render)
used to ask AWS the same question many times. Inside an ``action()``, a read (an operation
named ``Describe*``, ``Get*`` or ``List*``) with the same parameters, on the same backend,
region and account, is answered from the first answer; any other operation (a write) empties
the action's cache first, but for the few reads it cannot change (``KEPT_THROUGH``), so
whatever is read after a write is fresh. Reads inside ``fresh()`` (a wait polling for a
change) always ask AWS. A few facts AWS does not change in a lab's lifetime (the region's
endpoint services, an AWS-managed prefix list) are kept for the session, until
``forget_session()`` (a backend restarted or reset).

The cache is botocore's ``before-call`` hook (``install``): an answer it gives never reaches the
network. Callers get a copy of the cached answer, so one caller's changes never leak to
another. With ``LAB_CALL_LOG`` naming a file, every call that does reach AWS is logged there,
one ``service.Operation`` a line (how the call budgets are measured, on any backend).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

from helpers.core.errors import is_not_found

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
# Reads a write cannot change, kept through it (any other write empties the action's cache).
# An endpoint and its routes change the endpoint and the route tables; what DescribeVpcs and
# DescribeSecurityGroups answer (the Amazon EC2 API Reference's "Vpc" data type: id, CIDR
# blocks, state, DHCP options, tenancy, Block Public Access state, tags; "SecurityGroup": its
# rules, description, tags) holds nothing an endpoint or a route changes.
_VPC_AND_GROUPS = frozenset({"DescribeVpcs", "DescribeSecurityGroups"})
KEPT_THROUGH = {
    "CreateVpcEndpoint": _VPC_AND_GROUPS,
    "ModifyVpcEndpoint": _VPC_AND_GROUPS,
    "CreateRoute": _VPC_AND_GROUPS,
    "DeleteRoute": _VPC_AND_GROUPS,
    "ReplaceRoute": _VPC_AND_GROUPS,
}
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

_local = threading.local()  # per thread (widget callbacks may run on subshells): the action
_session: dict[tuple, tuple[Any, dict]] = {}
_session_lock = threading.Lock()


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
    _local.cache = {}
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
        cache.clear()


def forget_session() -> None:
    """Drop the session's facts (the backend they were read from restarted or was reset)."""
    with _session_lock:
        _session.clear()


def install(events, scope: tuple) -> None:
    """Hook the cache into a client's ``events``; ``scope`` names its backend, region and
    account (reads are shared only between clients of the same scope)."""
    events.register("before-call", lambda **kwargs: _before_call(events, scope, **kwargs))


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


def _changed_by(service: str, write: str, key: tuple) -> bool:
    """Whether the cached read ``key`` may answer differently after ``service``'s ``write``."""
    read_service, read = key[0], key[-2]
    if service in SELF_CONTAINED_WRITES:
        return read_service == service or (read_service, read) in REACHES_INTO.get(service, ())
    return read not in KEPT_THROUGH.get(write, frozenset())


def _before_call(events, scope: tuple, model, params: dict, context: dict, **_):
    cache = getattr(_local, "cache", None)
    if not _is_read(model):
        if cache:
            for stale in [key for key in cache if _changed_by(scope[0], model.name, key)]:
                del cache[stale]
        _log(model)
        return None
    key = _key(scope, model, params)
    if not getattr(_local, "fresh", 0):
        with _session_lock:
            answer = _session.get(key) if model.name in SESSION_FACTS else None
        if answer is None and cache is not None:
            answer = cache.get(key)
        if answer is not None:
            http, parsed = answer
            return http, copy.deepcopy(parsed)
    context["read_cache"] = (key, cache, model.name in SESSION_FACTS)
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
        cache[key] = answer


def _log(model) -> None:
    path = os.environ.get(CALL_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{model.service_model.service_name}.{model.name}\n")
