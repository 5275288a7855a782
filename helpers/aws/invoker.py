"""Invoking the note app's Lambda function, with real Lambda's outcome on every backend.

On a real account the function is invoked for real. The embedded backend, or another
AWS-compatible endpoint, stores functions but runs no code (or runs it where a VPC means
nothing), so the lab runs the deployed handler itself (the code GetFunction hands back,
checked against its CodeSha256), in a separate Python process (the kernel is never
disturbed) against the backend — and lets each AWS call through only where the function
could really reach the service, as decided by ``helpers.aws.reachability``: with no network
path the invocation ends as Lambda's does, "Task timed out after 15.00 seconds" (reported at
once, not waited for); a DynamoDB call the endpoint policy or the execution role refuses
(``helpers.aws.policy`` decides, call by call) gets DynamoDB's ``AccessDeniedException``.
"""

from __future__ import annotations

import base64
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

from helpers.aws import reachability
from helpers.aws.functions import code_sha256, deployment_package
from helpers.aws.policy import Authorizer
from helpers.core.backend_process import DUMMY_CREDENTIALS
from helpers.core.clients import client, endpoint_url, friendly_errors
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


# --- any other backend: the deployed code, run by the lab in a sandbox process -------------
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
    try:
        answer = requests.get(location, timeout=30)
    except requests.RequestException:
        return None
    return answer.content if answer.ok else None


def _invoke_in_sandbox(verdict: reachability.PathVerdict, event: dict) -> InvokeResult:
    function = client("lambda").get_function(FunctionName=verdict.function_arn)
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
        started = time.monotonic()
        try:
            finished = subprocess.run(
                [sys.executable, "-m", "helpers.aws.invoker"],
                input=json.dumps(job),
                text=True,
                capture_output=True,
                cwd=task_root,
                env=_sandbox_environment(configuration),
                timeout=timeout + INIT_SECONDS,
            )
            output = finished.stdout + finished.stderr
            no_path = finished.returncode == NO_PATH_EXIT_STATUS
        except subprocess.TimeoutExpired as expired:
            output = _text(expired.stdout) + _text(expired.stderr)
            no_path = True  # a handler that really runs too long ends the same way
        milliseconds = (time.monotonic() - started) * 1000
        log = [f"START RequestId: {request_id} Version: $LATEST", output.rstrip("\n")]
        if no_path:
            now = datetime.now(UTC)
            message = (
                f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z "
                f"{request_id} Task timed out after {timeout:.2f} seconds"
            )
            payload, function_error = {"errorMessage": message}, "Unhandled"
            log.append(message)
            milliseconds = timeout * 1000
        elif result_file.exists():
            outcome = json.loads(result_file.read_text(encoding="utf-8"))
            payload = outcome.get("payload", outcome.get("error"))
            function_error = "Unhandled" if "error" in outcome else None
        else:  # the handler ended the process itself (sys.exit, a crash)
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {finished.returncode}",
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


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")


def _sandbox_environment(configuration: dict) -> dict:
    """What the handler's process sees: Lambda's variables, the function's, the backend."""
    region = configuration["FunctionArn"].split(":")[3]
    environment = {
        name: os.environ[name]
        for name in ("PATH", "LANG", "TZ", "SYSTEMROOT")
        if name in os.environ
    }
    environment.update((configuration.get("Environment") or {}).get("Variables", {}))
    environment.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url(),
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
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


# --- inside the sandbox process -------------------------------------------------------------
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


def _request_tables(request) -> list[str]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return []
    names = [body["TableName"]] if body.get("TableName") else []
    return names + list(body.get("RequestItems", {}))


def _request_region(request) -> str:
    """The region a SigV4-signed request is for (from its credential scope)."""
    authorization = request.headers.get("Authorization", b"")
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return scope[2] if len(scope) > 2 else os.environ["AWS_REGION"]


def _network_guard(via: str | None, authorizer: Authorizer | None):
    """A botocore ``before-send`` hook: every AWS call the handler makes passes through it."""
    from botocore.awsrequest import AWSResponse

    def guard(request, event_name: str, **_):
        _, service, operation = (event_name.split(".") + ["", ""])[:3]
        # Through a gateway endpoint only DynamoDB is reachable; NAT or no VPC reach all.
        if via is None or (via == "endpoint" and service != "dynamodb"):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(NO_PATH_EXIT_STATUS)  # the call would hang until Lambda's timeout
        if service != "dynamodb" or authorizer is None:
            return None
        action = f"dynamodb:{operation}"
        account = authorizer.principal_arn.split(":")[4]
        for table in _request_tables(request):
            resource = f"arn:aws:dynamodb:{_request_region(request)}:{account}:table/{table}"
            message = authorizer.denial(action, resource)
            if message:
                body = json.dumps(
                    {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": message}
                ).encode()
                return AWSResponse(
                    request.url,
                    400,
                    {
                        "Content-Type": "application/x-amz-json-1.0",
                        "x-amzn-RequestId": str(uuid.uuid4()),
                    },
                    _Body(body),
                )
        return None

    return guard


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


def _serve() -> None:
    """The sandbox process: read the job, guard the network, run the handler, write the result."""
    import botocore.handlers

    job = json.load(sys.stdin)
    sys.path.insert(0, job["task_root"])
    authorizer = Authorizer.from_json(job["authorizer"]) if job["authorizer"] else None
    # Registered before the handler builds any session, so every client it makes has it.
    botocore.handlers.BUILTIN_HANDLERS.append(
        ("before-send", _network_guard(job["via"], authorizer))
    )
    outcome = _run_handler(job)
    Path(job["result_file"]).write_text(json.dumps(outcome), encoding="utf-8")


if __name__ == "__main__":
    _serve()
