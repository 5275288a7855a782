"""The embedded backend's own process: moto's server on a loopback port, warmed up at once.

Started by ``helpers.core.backend`` as ``python -m helpers.core.backend_process``. It picks
a free port itself, writes the per-learner state file only once it answers, then warms the
services the lab uses in the background so that no learner action waits for moto's cold start.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

INFO_PATH = "/lab-backend/info"
# ?account=…&region=…&function=…&qualifier=… → the deployed zip (GetFunction's Code.Location)
LAMBDA_CODE_PATH = "/lab-backend/lambda-code"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def deployed_lambda_code(query: str) -> bytes | None:
    """The zip a Lambda function was deployed with (moto keeps it, but never returns it)."""
    from moto.awslambda.utils import get_backend  # the no-Docker backend, as configured
    from moto.core import DEFAULT_ACCOUNT_ID

    arguments = {key: values[0] for key, values in parse_qs(query).items()}
    try:
        backend = get_backend(arguments.get("account", DEFAULT_ACCOUNT_ID), arguments["region"])
        function = backend.get_function(arguments["function"], arguments.get("qualifier"))
        return function.code_bytes or None
    except Exception:  # unknown function, region or account: nothing to give
        return None


class _LabMiddleware:
    """Answers the lab's own paths (who this server is, how warm it is, deployed Lambda code);
    moto answers everything else."""

    def __init__(self, app, info: dict):
        self.app = app
        self.info = info

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == INFO_PATH:
            return self._answer(
                start_response, "200 OK", "application/json", json.dumps(self.info).encode()
            )
        if path == LAMBDA_CODE_PATH:
            code = deployed_lambda_code(environ.get("QUERY_STRING", ""))
            if code is None:
                return self._answer(start_response, "404 Not Found", "text/plain", b"")
            return self._answer(start_response, "200 OK", "application/zip", code)
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response, status: str, content_type: str, body: bytes):
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]


def configure_moto() -> None:
    """Lambda without Docker: functions are stored, the lab runs their code itself."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.set_config({"lambda": {"use_docker": False}, "batch": {"use_docker": False}})


def serve_code_locations(url: str) -> None:
    """GetFunction's ``Code.Location`` becomes a URL the deployed zip downloads from, as on
    AWS (moto's names an S3 bucket it never serves): this server's LAMBDA_CODE_PATH."""
    from moto.awslambda.models import LambdaFunction

    moto_get_code = LambdaFunction.get_code

    def get_code(function: LambdaFunction) -> dict:
        answer = moto_get_code(function)
        if answer.get("Code", {}).get("RepositoryType") == "S3":
            query = urlencode(
                {
                    "account": function.account_id,
                    "region": function.region,
                    "function": function.function_name,
                    "qualifier": str(function.version),
                }
            )
            answer["Code"]["Location"] = f"{url}{LAMBDA_CODE_PATH}?{query}"
        return answer

    LambdaFunction.get_code = get_code


def warm_up(url: str, region: str, info: dict) -> None:
    """Make the first call of every service the lab uses, so moto builds its backends now."""
    import boto3

    session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
    # The endpoint-service list is the slowest first call and also builds the EC2 backend.
    calls = [
        ("ec2_endpoint_services", None),
        ("ec2", lambda c: c.describe_vpcs()),
        ("iam", lambda c: c.list_roles()),
        ("sts", lambda c: c.get_caller_identity()),
        ("dynamodb", lambda c: c.list_tables()),
        ("lambda", lambda c: c.list_functions()),
        ("apigateway", lambda c: c.get_rest_apis()),
    ]
    seconds = info["warm"]["seconds"]
    for name, call in calls:
        began = time.perf_counter()
        try:
            if name == "ec2_endpoint_services":
                session.client("ec2", endpoint_url=url).describe_vpc_endpoint_services()
            else:
                call(session.client(name, endpoint_url=url))
        except Exception as error:  # warming is best effort; the real call will report
            info["warm"]["errors"][name] = type(error).__name__
        seconds[name] = round(time.perf_counter() - began, 3)
    info["warm"]["done"] = True


def watch_state_file(path: Path, instance: str, shut_down, every_seconds: float = 5.0) -> None:
    """Stop when the state file no longer names this server (lab home deleted, or another
    server took over): a backend nobody can find again must not run on forever."""
    while True:
        time.sleep(every_seconds)
        try:
            owner = json.loads(path.read_text(encoding="utf-8")).get("instance")
        except (OSError, ValueError):
            owner = None
        if owner != instance:
            shut_down()
            return


def _write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-file", required=True, type=Path)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip warming (benchmarks/cold_start.py compares both)",
    )
    args = parser.parse_args(argv)

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    configure_moto()
    info = {
        "instance": args.instance,
        "pid": os.getpid(),
        "region": args.region,
        "started_at": time.time(),
        "warm": {"done": args.no_warm_up, "seconds": {}, "errors": {}},
    }
    app = _LabMiddleware(DomainDispatcherApplication(create_backend_app), info)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}"
    info["url"] = url
    serve_code_locations(url)

    def shut_down(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    if hasattr(signal, "SIGBREAK"):  # Windows: CTRL_BREAK_EVENT from the process group
        signal.signal(signal.SIGBREAK, shut_down)

    _write_state(
        args.state_file,
        {
            "instance": args.instance,
            "pid": os.getpid(),
            "port": port,
            "url": url,
            "started_at": info["started_at"],
        },
    )
    threading.Thread(
        target=watch_state_file, args=(args.state_file, args.instance, shut_down), daemon=True
    ).start()
    if not args.no_warm_up:
        threading.Thread(target=warm_up, args=(url, args.region, info), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        try:
            if json.loads(args.state_file.read_text())["instance"] == args.instance:
                args.state_file.unlink()
        except (OSError, ValueError, KeyError):
            pass
        sys.exit(0)


if __name__ == "__main__":
    main()
