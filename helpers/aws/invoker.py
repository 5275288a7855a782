"""Invoking the note app's Lambda function, with real Lambda's outcome on every backend.

On a real account the function is invoked for real. The embedded backend, or another
AWS-compatible endpoint, stores functions but runs no code (or runs it where a VPC means
nothing), so the lab runs the deployed handler itself (the code GetFunction hands back,
checked against its CodeSha256) against the backend: in a separate Python process (the
kernel is never disturbed) or, under the in-process backend (the browser, where no process
can be started), in the kernel, with the same job and hooks (``helpers.core.sandbox``). It
lets each AWS call through only where the function could really reach the service, as
decided by ``helpers.aws.reachability``: with no network path the invocation ends as
Lambda's does, "Task timed out after 15.00 seconds" (reported at once, not waited for); a
DynamoDB call the endpoint policy or the execution role refuses (``helpers.aws.policy``
decides, call by call) gets DynamoDB's ``AccessDeniedException``.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from botocore.awsrequest import AWSResponse
from botocore.parsers import create_parser

from helpers.aws import reachability
from helpers.aws.functions import code_sha256, deployment_package
from helpers.aws.policy import Authorizer
from helpers.core import sandbox
from helpers.core.backend_process import DUMMY_CREDENTIALS, http_auth, naming_hook
from helpers.core.clients import client, credentials, endpoint_url, friendly_errors
from helpers.core.errors import LabError
from helpers.core.settings import current

REPO_ROOT = Path(__file__).resolve().parents[2]
# Exit status of the sandbox when the handler's AWS call has no way out of the VPC.
NO_PATH_EXIT_STATUS = 124
# Lambda gives a function's init phase (imports) up to 10 s on top of its own timeout.
INIT_SECONDS = 10


@dataclass
class InvokeResult:
    """What Lambda's Invoke answers (status, payload, FunctionError, log tail) and why."""

    function_name: str
    status_code: int
    payload: Any
    function_error: str | None  # "Unhandled" when the function failed or timed out
    log: str
    verdict: reachability.PathVerdict
    # How long the invocation ran, as its REPORT line says: a timeout the lab reports at once
    # counts the function's whole timeout, so a caller (API Gateway) can tell who gave up first.
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.function_error is None

    @property
    def error_message(self) -> str | None:
        if self.ok or not isinstance(self.payload, dict):
            return None
        return self.payload.get("errorMessage")

    @property
    def timed_out(self) -> bool:
        return "Task timed out after" in (self.error_message or "")


def event_actions(event: dict) -> list[str] | None:
    """The DynamoDB action the note app needs for ``event`` (None: the app refuses it)."""
    from note_app.handler import BadRequest, dynamodb_action

    try:
        return [dynamodb_action(event)]
    except (BadRequest, KeyError):
        return None


def invoke(function_name: str | None, event: dict) -> InvokeResult:
    """Invoke ``function_name`` (None: the lab's function) with ``event``, as Lambda would."""
    with friendly_errors():
        verdict = reachability.explain(function_name, event_actions(event))
        if current().is_real_aws and verdict.function_arn:
            return _invoke_real(verdict, event)  # AWS itself answers, refusals included
        failure = verdict.failure
        if failure and failure.kind == "invoke_error":
            # Lambda refuses the Invoke call itself (no function, subnet or ENI permission).
            raise LabError(
                "invoker.refused",
                code=failure.code,
                function=verdict.function_name,
                reason=failure.message,
            )
        return _invoke_in_sandbox(verdict, event)


def _invoke_real(verdict: reachability.PathVerdict, event: dict) -> InvokeResult:
    answer = client("lambda").invoke(
        FunctionName=verdict.function_arn, LogType="Tail", Payload=json.dumps(event).encode()
    )
    raw = answer["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    log = base64.b64decode(answer.get("LogResult", "")).decode("utf-8", "replace")
    return InvokeResult(
        verdict.function_name,
        answer["StatusCode"],
        payload,
        answer.get("FunctionError"),
        log,
        verdict,
    )


# --- any other backend: the deployed code, run by the lab in a sandbox -----------------------
def deployed_package(function_name: str, configuration: dict, location: str | None) -> bytes:
    """The zip deployed to the function: its SHA-256 must be the function's CodeSha256, so the
    lab never runs other code than what was deployed.

    The note app the lab deploys needs no download: the same SHA-256 proves the same bytes.
    Other code is downloaded from GetFunction's ``Code.Location``.
    """
    expected = configuration.get("CodeSha256")
    package = deployment_package()
    if code_sha256(package) == expected:
        return package
    downloaded = _download(location)
    if downloaded is None:
        raise LabError(
            "invoker.code_unavailable",
            function=function_name,
            location=location or "-",
        )
    if code_sha256(downloaded) != expected:
        raise LabError("invoker.code_changed", function=function_name)
    return downloaded


def _download(location: str | None) -> bytes | None:
    """The bytes at ``location``, or None when there are none to have.

    A location on AWS's own hosts is never fetched on another backend: it cannot hold that
    backend's code (moto names a bucket there that it never serves), and the lab talks to AWS
    only when the learner asked for it by name.
    """
    if not location or (urlparse(location).hostname or "").endswith(".amazonaws.com"):
        return None
    keys = credentials()  # the lab's backend lets in only its keys' holder (GetFunction's caller)
    try:
        answer = requests.get(location, auth=http_auth(keys) if keys else None, timeout=30)
    except requests.RequestException:
        return None
    return answer.content if answer.ok else None


def _invoke_in_sandbox(verdict: reachability.PathVerdict, event: dict) -> InvokeResult:
    # By name, as the lab finds its function: the action's cached answer serves both.
    function = client("lambda").get_function(FunctionName=verdict.function_name)
    configuration = function["Configuration"]
    package = deployed_package(
        verdict.function_name, configuration, function.get("Code", {}).get("Location")
    )
    request_id = str(uuid.uuid4())
    timeout = int(configuration.get("Timeout", 3))
    with tempfile.TemporaryDirectory(prefix="lab-lambda-") as workdir:
        task_root = Path(workdir) / "task"
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            archive.extractall(task_root)
        result_file = Path(workdir) / "result.json"
        job = {
            "event": event,
            "handler": configuration["Handler"],
            "task_root": str(task_root),
            "result_file": str(result_file),
            "request_id": request_id,
            "via": verdict.via,
            "authorizer": verdict.authorizer.to_json() if verdict.authorizer else None,
            "function_arn": configuration["FunctionArn"],
            "memory": configuration.get("MemorySize", 128),
            "timeout": timeout,
        }
        environment = _sandbox_environment(configuration)
        started = time.monotonic()
        if sandbox.in_process():
            ran = _run_in_kernel(job, environment)
        else:
            ran = _run_in_child_process(job, environment)
        milliseconds = (time.monotonic() - started) * 1000
        log = [f"START RequestId: {request_id} Version: $LATEST", ran.output.rstrip("\n")]
        if ran.no_path:
            now = datetime.now(UTC)
            message = (
                f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z "
                f"{request_id} Task timed out after {timeout:.2f} seconds"
            )
            payload, function_error = {"errorMessage": message}, "Unhandled"
            log.append(message)
            milliseconds = timeout * 1000
        elif ran.outcome is not None:
            payload = ran.outcome.get("payload", ran.outcome.get("error"))
            function_error = "Unhandled" if "error" in ran.outcome else None
        else:  # the handler ended its runtime itself (sys.exit, a crash)
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {ran.exit_status}",
            }
            function_error = "Unhandled"
    log += [
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {milliseconds:.2f} ms\t"
        f"Memory Size: {configuration.get('MemorySize', 128)} MB",
    ]
    return InvokeResult(
        verdict.function_name,
        200,
        payload,
        function_error,
        "\n".join(line for line in log if line),
        verdict,
        milliseconds,
    )


@dataclass
class _Run:
    """How one run of the handler ended, wherever it ran."""

    output: str  # the handler's prints and the runtime's error lines
    no_path: bool = False  # Lambda's timeout: a call with no way out, or a run too long
    outcome: dict | None = None  # ``_run_handler``'s answer; None: the runtime exited
    exit_status: int | None = None


def _run_in_child_process(job: dict, environment: dict) -> _Run:
    try:
        finished = subprocess.run(
            # not ``-m``: importing the package imports this module first, and runpy
            # would print a warning about that into the function's log
            [sys.executable, "-c", "from helpers.aws.invoker import serve_job; serve_job()"],
            input=json.dumps(job),
            text=True,
            capture_output=True,
            cwd=job["task_root"],
            env=environment,
            timeout=job["timeout"] + INIT_SECONDS,
        )
    except subprocess.TimeoutExpired as expired:
        # a handler that really runs too long ends the same way
        return _Run(_text(expired.stdout) + _text(expired.stderr), no_path=True)
    output = finished.stdout + finished.stderr
    if finished.returncode == NO_PATH_EXIT_STATUS:
        return _Run(output, no_path=True)
    result_file = Path(job["result_file"])
    if result_file.exists():
        return _Run(output, outcome=json.loads(result_file.read_text(encoding="utf-8")))
    return _Run(output, exit_status=finished.returncode)


def _run_in_kernel(job: dict, environment: dict) -> _Run:
    """The same job in this Python, with the function's environment, its code on the path and
    its prints captured, all put back afterwards. Nothing can stop a handler here (no process
    to kill, and Pyodide has neither threads nor signals): one that really runs past its
    timeout is waited for. The timeout the lab reports comes, as in the child process, from a
    call the reachability verdict gives no way out: it ends the run at once."""
    printed = io.StringIO()
    try:
        with (
            sandbox.environment(environment),
            sandbox.importable_from(Path(job["task_root"])),
            contextlib.redirect_stdout(printed),
            contextlib.redirect_stderr(printed),
        ):
            outcome = run_job(job)
    except NoNetworkPath:
        return _Run(printed.getvalue(), no_path=True)
    except SystemExit as exited:  # the handler ended its runtime itself
        status = exited.code if isinstance(exited.code, int) else int(exited.code is not None)
        return _Run(printed.getvalue(), exit_status=status)
    return _Run(printed.getvalue(), outcome=outcome)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")


def _sandbox_environment(configuration: dict) -> dict:
    """What the handler's process sees: Lambda's variables, the function's, the backend."""
    region = configuration["FunctionArn"].split(":")[3]
    # the lab's own backend lets in only its keys; another endpoint (moto) takes any
    keys = credentials() or DUMMY_CREDENTIALS
    environment = {
        name: os.environ[name]
        for name in ("PATH", "LANG", "TZ", "SYSTEMROOT")
        if name in os.environ
    }
    environment.update((configuration.get("Environment") or {}).get("Variables", {}))
    url = endpoint_url()  # None in-process: AWS's own URLs, answered by the kernel's mock
    if url:
        environment["AWS_ENDPOINT_URL"] = url
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 128)),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{configuration.get('Runtime', 'python')}",
            "PYTHONPATH": str(REPO_ROOT),  # for this module's sandbox code, after the task root
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return environment


# --- inside the sandbox (the child process, or the kernel) --------------------------------
class _Context:
    """The handler's ``context`` argument, as Lambda's Python runtime gives it."""

    def __init__(self, job: dict):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = job["function_arn"]
        self.memory_limit_in_mb = str(job["memory"])
        self.aws_request_id = job["request_id"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + job["timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _Body:
    """Just enough of a raw HTTP response body for botocore."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_):
        yield self._data


class NoNetworkPath(BaseException):
    """A call of the handler's with no way out of the VPC: it would hang until Lambda's timeout.

    Not an ``Exception``: neither the handler's error handling nor botocore's retries may catch
    it; the run ends there."""


def _request_tables(params: dict) -> list[str]:
    try:
        body = json.loads(params.get("body") or b"{}")
    except ValueError:
        return []
    names = [body["TableName"]] if body.get("TableName") else []
    return names + list(body.get("RequestItems", {}))


def _network_guard(via: str | None, authorizer: Authorizer | None):
    """A botocore ``before-call`` hook: every AWS call the handler makes passes through it
    before it is sent (an answer given here is the call's answer: nothing is sent, not even
    to a moto mock in the same process)."""

    def guard(event_name: str, model, params: dict, context: dict, **_):
        _, service, operation = (event_name.split(".") + ["", ""])[:3]
        # Through a gateway endpoint only DynamoDB is reachable; NAT or no VPC reach all.
        if via is None or (via == "endpoint" and service != "dynamodb"):
            raise NoNetworkPath(f"{service}.{operation}")
        if service != "dynamodb" or authorizer is None:
            return None
        action = f"dynamodb:{operation}"
        account = authorizer.principal_arn.split(":")[4]
        for table in _request_tables(params):
            resource = f"arn:aws:dynamodb:{context['client_region']}:{account}:table/{table}"
            message = authorizer.denial(action, resource)
            if message:
                return _access_denied(model, params, message)
        return None

    return guard


def _access_denied(model, params: dict, message: str) -> tuple[AWSResponse, dict]:
    """DynamoDB's AccessDeniedException answer, parsed as botocore parses DynamoDB's own."""
    body = json.dumps(
        {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": message}
    ).encode()
    response = AWSResponse(
        params["url"],
        400,
        {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())},
        _Body(body),
    )
    parsed = create_parser(model.service_model.metadata["protocol"]).parse(
        {"status_code": 400, "headers": response.headers, "body": body}, model.output_shape
    )
    return response, parsed


def _run_handler(job: dict) -> dict:
    """Import the handler from the task root and call it, answering as Lambda's runtime does."""
    module_name, function_name = job["handler"].rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        return {
            "error": {
                "errorMessage": f"Unable to import module '{module_name}': {error}",
                "errorType": "Runtime.ImportModuleError",
                "stackTrace": [],
            }
        }
    handler = getattr(module, function_name, None)
    if handler is None:
        return {
            "error": {
                "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
                "errorType": "Runtime.HandlerNotFound",
                "stackTrace": [],
            }
        }
    try:
        payload = handler(job["event"], _Context(job))
    except Exception as error:
        print(f"[ERROR] {type(error).__name__}: {error}\n{traceback.format_exc()}", file=sys.stderr)
        return {
            "error": {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "requestId": job["request_id"],
                "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
            }
        }
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as error:
        return {
            "error": {
                "errorMessage": f"Unable to marshal response: {error}",
                "errorType": "Runtime.MarshalError",
                "requestId": job["request_id"],
                "stackTrace": [],
            }
        }
    return {"payload": payload}


def run_job(job: dict) -> dict:
    """Run the job's handler with the network guard and the function's account on every AWS
    call it makes (hooks on the botocore sessions made meanwhile: the handler's own, never the
    lab's), in the child process or in the kernel alike."""
    authorizer = Authorizer.from_json(job["authorizer"]) if job["authorizer"] else None
    # The function calls from its own account (on a class backend, the learner's).
    account = job["function_arn"].split(":")[4]
    hooks = [
        ("before-call", _network_guard(job["via"], authorizer)),
        ("before-sign", naming_hook(account)),
    ]
    with sandbox.botocore_handlers(hooks):
        return _run_handler(job)


def serve_job() -> None:
    """The sandbox process: read the job, run it, write the result (no way out: exit 124)."""
    job = json.load(sys.stdin)
    sys.path.insert(0, job["task_root"])
    try:
        outcome = run_job(job)
    except NoNetworkPath:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(NO_PATH_EXIT_STATUS)  # the call would hang until Lambda's timeout
    Path(job["result_file"]).write_text(json.dumps(outcome), encoding="utf-8")
