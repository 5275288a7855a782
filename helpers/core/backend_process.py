"""The embedded backend's own process: moto's server on a loopback port, warmed up at once.

Started by ``helpers.core.backend`` as ``python -m helpers.core.backend_process``. It picks
a free port itself, writes the per-learner state file only once it answers, then warms the
services the lab uses in the background so that no learner action waits for moto's cold start.
What only serves that start stays out of the long-lived process (issue 12's memory): moto's
endpoint-service list and the warm-up's calls are made in short-lived child processes.

Only its owner gets in: the process makes a random key pair (``secrets``) and keeps it in
the state file (readable by its owner alone); every request must carry it, as a SigV4
signature (AWS calls: any AWS client given the keys) or as HTTP Basic credentials (the
lab's own paths and moto's ``/moto-api/``). Anything else is answered 403, before moto sees it.

The same process is a class's backend (``--class-backend``, see ``helpers.core.backend``):
the key pair is the instructor's, and each learner has a key pair derived from it and their
account (``learner_keys``); a learner's requests are served from their own account whatever
account header they send, and moto's ``/moto-api/`` (which sees and resets every account) is
the instructor's only. It also notes, per account, which learners (``x-lab-learner``) called
and how often, for the instructor's status.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import io
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode
from xml.sax.saxutils import escape as xml_escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.wsgi import get_input_stream

from helpers.core.messages import t

INFO_PATH = "/lab-backend/info"
# ?account=…&region=…&function=…&qualifier=… → the deployed zip (GetFunction's Code.Location)
LAMBDA_CODE_PATH = "/lab-backend/lambda-code"
# For moto's in-process mock only (a rehearsal); every server of the lab has keys of its own.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ACCOUNT_HEADER = "x-moto-account-id"  # moto serves the request from this account
ACCOUNT_ENVIRON = "HTTP_" + ACCOUNT_HEADER.upper().replace("-", "_")
LEARNER_HEADER = "x-lab-learner"  # who sent it (percent-encoded: headers are ASCII)
REFUSED_HEADER = "x-lab-refused"  # on a 403 of the lab's: no valid keys (not an AWS answer)
REFUSED_CODE = "LabBackendRefused"  # the error code AWS clients show for it
# Key ids start "LAB" (never AWS's "AKIA…"): the owner's, and a class learner's (+ account id).
OWNER_KEY_PREFIX = "LABK"
LEARNER_KEY_PREFIX = "LABL"
SIGV4 = "AWS4-HMAC-SHA256 "


def new_owner_keys() -> dict:
    """A fresh random key pair for a server's owner (the learner, or a class's instructor)."""
    alphabet = string.ascii_uppercase + string.digits
    random_part = "".join(secrets.choice(alphabet) for _ in range(16))
    return {
        "aws_access_key_id": OWNER_KEY_PREFIX + random_part,
        "aws_secret_access_key": secrets.token_hex(20),
    }


def learner_key_id(account_id: str) -> str:
    return LEARNER_KEY_PREFIX + account_id


def learner_keys(owner_keys: dict, account_id: str) -> dict:
    """A class learner's key pair: only the instructor's secret makes it, and it opens only
    the learner's own account (the key id names it)."""
    key_id = learner_key_id(account_id)
    secret = hmac.new(
        owner_keys["aws_secret_access_key"].encode(), key_id.encode(), hashlib.sha256
    ).hexdigest()[:40]
    return {"aws_access_key_id": key_id, "aws_secret_access_key": secret}


def http_auth(keys: dict) -> tuple[str, str]:
    """The keys as ``requests``' HTTP Basic credentials, for the lab's own paths."""
    return keys["aws_access_key_id"], keys["aws_secret_access_key"]


@dataclass(frozen=True)
class Caller:
    key_id: str
    account: str | None  # a class learner's own account; None: the owner (any account)


class Gate:
    """Who may call this server: the owner's keys, and on a class backend each learner's."""

    def __init__(self, owner_keys: dict, class_backend: bool):
        self.owner = owner_keys
        self.class_backend = class_backend

    def secret_of(self, key_id: str) -> tuple[str, str | None] | None:
        """The secret the key id must come with, and the account it is held to."""
        if hmac.compare_digest(key_id, self.owner["aws_access_key_id"]):
            return self.owner["aws_secret_access_key"], None
        account = key_id.removeprefix(LEARNER_KEY_PREFIX)
        if self.class_backend and key_id != account and len(account) == 12 and account.isdigit():
            return learner_keys(self.owner, account)["aws_secret_access_key"], account
        return None

    def caller(self, environ) -> Caller | None:
        """The caller the request's keys prove, or None."""
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        try:
            if authorization.startswith("Basic "):
                key_id, _, given = base64.b64decode(authorization[6:]).decode().partition(":")
                known = self.secret_of(key_id)
                valid = known is not None and hmac.compare_digest(given, known[0])
            elif authorization.startswith(SIGV4):
                fields = dict(
                    part.strip().split("=", 1) for part in authorization[len(SIGV4) :].split(",")
                )
                key_id = fields["Credential"].split("/", 1)[0]
                known = self.secret_of(key_id)
                valid = known is not None and _signature_matches(environ, fields, known[0])
            else:
                return None
        except (ValueError, KeyError, UnicodeDecodeError, binascii.Error):  # a malformed header
            return None
        return Caller(key_id, known[1]) if valid else None


def _signature_matches(environ, fields: dict, secret: str) -> bool:
    """Recompute the request's SigV4 signature with botocore's signer, from the request as
    received (raw path and query, the signed headers, the body), and compare."""
    key_id, date, region, service, _ = fields["Credential"].split("/")
    body = _buffered_body(environ)
    headers = {name: _header(environ, name) for name in fields["SignedHeaders"].split(";")}
    raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ["PATH_INFO"]
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=f"http://{headers.get('host') or 'localhost'}{raw_uri}",
        headers=headers,
        data=body,
    )
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer_class = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = signer_class(Credentials(key_id, secret), service, region)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return hmac.compare_digest(expected, fields["Signature"])


def _buffered_body(environ) -> bytes:
    """The request's body, read once and put back for moto."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _header(environ, name: str) -> str:
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return environ.get(key, "")
    return environ.get("HTTP_" + key, "")


def naming_hook(account_id: str, learner: str | None = None):
    """A botocore ``before-sign`` hook: every request names the account (and the learner)."""
    headers = {ACCOUNT_HEADER: account_id}
    if learner:
        headers[LEARNER_HEADER] = quote(learner, safe="")

    def name_account(request, **_):
        for header, value in headers.items():
            request.headers[header] = value

    return name_account


class ClassRegister:
    """Who a class backend has seen: per account, the learners' names and their requests."""

    def __init__(self):
        self._accounts: dict[str, dict] = {}
        self._lock = threading.Lock()

    def note(self, environ) -> None:
        account = environ.get(ACCOUNT_ENVIRON)
        if not account:
            return
        learner = unquote(environ.get("HTTP_" + LEARNER_HEADER.upper().replace("-", "_"), ""))
        with self._lock:
            seen = self._accounts.setdefault(account, {"learners": set(), "requests": 0})
            seen["requests"] += 1
            seen["last_seen"] = time.time()
            if learner:
                seen["learners"].add(learner)

    def accounts(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "account_id": account,
                    "learners": sorted(seen["learners"]),
                    "requests": seen["requests"],
                    "last_seen": seen["last_seen"],
                }
                for account, seen in sorted(self._accounts.items())
            ]


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
    """Lets in only the requests that carry the server's keys (``Gate``); answers the lab's
    own paths (who this server is, how warm it is, deployed Lambda code, and on a class
    backend the accounts it has seen); moto answers everything else."""

    def __init__(self, app, info: dict, gate: Gate, register: ClassRegister | None = None):
        self.app = app
        self.info = info
        self.gate = gate
        self.register = register

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        caller = self.gate.caller(environ)
        if caller is None:
            return self._refuse(environ, start_response, "backend.request_refused")
        if caller.account:  # a class learner: their own account, whatever they name
            if path.startswith("/moto-api"):  # moto's view and reset of every account
                return self._refuse(environ, start_response, "backend.request_instructor_only")
            environ[ACCOUNT_ENVIRON] = caller.account
        if path == INFO_PATH:
            info = {**self.info, "modules": loaded_modules()}
            if self.register and not caller.account:
                info["accounts"] = self.register.accounts()
            return self._answer(
                start_response, "200 OK", "application/json", json.dumps(info).encode()
            )
        if self.register:
            self.register.note(environ)
        if path == LAMBDA_CODE_PATH:
            query = environ.get("QUERY_STRING", "")
            if caller.account:
                query = urlencode({**dict(parse_qsl(query)), "account": caller.account})
            code = deployed_lambda_code(query)
            if code is None:
                return self._answer(start_response, "404 Not Found", "text/plain", b"")
            return self._answer(start_response, "200 OK", "application/zip", code)
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response, status: str, content_type: str, body: bytes, headers=()):
        start_response(
            status,
            [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
        )
        return [body]

    def _refuse(self, environ, start_response, key: str):
        """403, saying why: as plain text on the lab's and moto's own paths, else as an AWS
        error the caller's SDK or CLI can show (XML for the query protocols of EC2, IAM and
        STS, whose requests are forms; JSON with ``x-amzn-ErrorType`` for the others)."""
        message = t(key)
        headers = [(REFUSED_HEADER, "1")]
        if environ.get("PATH_INFO", "").startswith(("/moto-api", "/lab-backend")):
            content_type, body = "text/plain; charset=utf-8", message + "\n"
        elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            content_type = "text/xml; charset=utf-8"
            body = (
                f"<Response><Errors><Error><Code>{REFUSED_CODE}</Code>"
                f"<Message>{xml_escape(message)}</Message></Error></Errors></Response>"
            )
        else:
            content_type = "application/json"
            body = json.dumps({"__type": REFUSED_CODE, "message": message})
            headers.append(("x-amzn-ErrorType", REFUSED_CODE))
        return self._answer(
            start_response, "403 Forbidden", content_type, body.encode(), headers=headers
        )


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


class _OfferingsOnFirstUse(Mapping):
    """One location type's EC2 instance-type offerings, a region's read when first asked."""

    def __init__(self, location_type: str, files: dict[str, str], read):
        self._location_type = location_type
        self._files = files  # region → moto resource path
        self._read = read
        self._regions: dict[str, list] = {}

    def __getitem__(self, region: str) -> list:
        if region not in self._regions:
            offerings = self._read(self._files[region])
            for offering in offerings:  # as moto's import does
                offering["LocationType"] = self._location_type
            self._regions[region] = offerings
        return self._regions[region]

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def defer_instance_type_offerings() -> None:
    """Import moto's EC2 without its instance-type offerings of every region (≈ 85 MB held
    for the server's life; the lab launches no instances): a region's are read when asked."""
    import moto.utilities.utils as moto_utils

    read = moto_utils.load_resource
    files: dict[str, dict[str, str]] = {}

    def load_resource(resource: str):
        folder, _, name = resource.rpartition("/")
        if "/instance_type_offerings/" in resource:
            files.setdefault(folder.rpartition("/")[2], {})[name.split(".")[0]] = resource
            return []
        return read(resource)

    moto_utils.load_resource = load_resource
    try:
        from moto.ec2.models import instance_types
    finally:
        moto_utils.load_resource = read
    for location_type, by_region in files.items():
        instance_types.INSTANCE_TYPE_OFFERINGS[location_type] = _OfferingsOnFirstUse(
            location_type, by_region, read
        )


def moto_endpoint_services(region: str) -> list[dict]:
    """A region's default endpoint services, as moto's EC2 builds them (for a child process:
    moto asks each of 11 services' backends, importing CloudFormation, SageMaker, …)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models.vpcs import VPCBackend

    defer_instance_type_offerings()
    return VPCBackend._collect_default_endpoint_services(DEFAULT_ACCOUNT_ID, region)


def in_child(function, *arguments):
    """``function(*arguments)`` (a function of this module) in a short-lived Python process:
    what it imports is freed when it ends. Arguments and answer go as JSON, on stdin (keys
    stay off the command line) and stdout. A plain process, not ``multiprocessing``, whose
    resource tracker would stay for the server's life."""
    code = (
        "import json, sys\n"
        f"from helpers.core.backend_process import {function.__name__} as function\n"
        "json.dump(function(*json.load(sys.stdin)), sys.stdout)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(arguments),
        stdout=subprocess.PIPE,  # its stderr goes where the server's goes: the backend's log
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def endpoint_services_from_child(region: str) -> list[dict]:
    """``moto_endpoint_services`` in a short-lived process: the modules it imports (≈ 57 MB,
    services the lab never calls) are freed when it ends; the list it returns is small."""
    return in_child(moto_endpoint_services, region)


def default_endpoint_services(region: str) -> list[dict]:
    """The region's default endpoint services, built once per region as moto does (moto keeps
    them per region, the same for every account), by ``endpoint_services_from_child``."""
    from moto.ec2.models import vpcs

    with vpcs.ENDPOINT_SERVICE_COLLECTION_LOCK:
        if region not in vpcs.DEFAULT_VPC_ENDPOINT_SERVICES:
            vpcs.DEFAULT_VPC_ENDPOINT_SERVICES[region] = endpoint_services_from_child(region)
        return vpcs.DEFAULT_VPC_ENDPOINT_SERVICES[region]


def serve_endpoint_services_from_child() -> None:
    """moto's EC2 answers ``DescribeVpcEndpointServices`` from ``default_endpoint_services``;
    its filters, paging and an account's own endpoint services are still moto's."""
    from moto.ec2.models.vpcs import VPCBackend

    def collect_default_endpoint_services(account_id: str, region: str) -> list[dict]:
        return default_endpoint_services(region)

    VPCBackend._collect_default_endpoint_services = staticmethod(collect_default_endpoint_services)


def without_iri_format_check() -> None:
    """moto's API Gateway imports ``openapi_spec_validator``, whose ``jsonschema`` builds, if
    ``rfc3987_syntax`` is installed, a grammar for the "iri" string format (≈ 17 MB and a
    second at import). Only strings of an OpenAPI document given to ImportRestApi or
    PutRestApi would be checked with it (an OpenAPI 3.2 XML namespace, or a value declared
    with that format), and the lab never calls those: without the module, ``jsonschema``
    skips that one format, as where it is not installed."""
    sys.modules.setdefault("rfc3987_syntax", None)  # None: "not installed" to an import


def loaded_modules() -> list[str]:
    """The top-level packages this process has imported, and moto's services as
    ``moto.<service>`` (each service's models are held for the server's life)."""
    names = [name for name, module in list(sys.modules.items()) if module is not None]
    return sorted(
        {name.split(".")[0] for name in names}
        | {".".join(name.split(".")[:2]) for name in names if name.startswith("moto.")}
    )


def first_calls(url: str, region: str, keys: dict) -> tuple[dict, dict]:
    """The first call of every service the lab uses, to the server at ``url``: seconds per
    service, and the errors met."""
    import boto3

    session = boto3.session.Session(region_name=region, **keys)
    # The endpoint-service list is the slowest first call and also builds the EC2 backend.
    calls = [
        ("ec2_endpoint_services", "ec2", lambda c: c.describe_vpc_endpoint_services()),
        ("ec2", "ec2", lambda c: c.describe_vpcs()),
        ("iam", "iam", lambda c: c.list_roles()),
        ("sts", "sts", lambda c: c.get_caller_identity()),
        ("dynamodb", "dynamodb", lambda c: c.list_tables()),
        ("lambda", "lambda", lambda c: c.list_functions()),
        ("apigateway", "apigateway", lambda c: c.get_rest_apis()),
    ]
    seconds, errors = {}, {}
    for name, service, call in calls:
        began = time.perf_counter()
        try:
            call(session.client(service, endpoint_url=url))
        except Exception as error:  # warming is best effort; the real call will report
            errors[name] = type(error).__name__
        seconds[name] = round(time.perf_counter() - began, 3)
    return seconds, errors


def warm_up(url: str, region: str, info: dict, keys: dict) -> None:
    """Make the first call of every service the lab uses, so moto builds its backends now.
    The calls come from a short-lived process: the AWS client's service models (≈ 40 MB,
    EC2's alone 25) are not held for the server's life."""
    # The region's endpoint-service list is started at once, while the calls' process starts.
    threading.Thread(target=default_endpoint_services, args=(region,), daemon=True).start()
    try:
        seconds, errors = in_child(first_calls, url, region, keys)
        info["warm"]["seconds"].update(seconds)
        info["warm"]["errors"].update(errors)
    except (OSError, subprocess.SubprocessError, ValueError) as error:  # best effort, as above
        info["warm"]["errors"]["first_calls"] = type(error).__name__
    finally:
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


def _write_private(path: Path, state: dict) -> None:
    """A file holding the owner's keys: readable by its owner alone, from its creation on
    (0600 in a 0700 folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(state, indent=2))
    os.replace(temporary, path)


def owner_keys(keys_file: Path | None) -> dict:
    """The owner's keys: kept in ``keys_file`` when one is given (a class backend: the
    learners' keys, derived from them, then outlive a restart), else new for this run."""
    if keys_file is None:
        return new_owner_keys()
    try:
        return json.loads(keys_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        keys = new_owner_keys()
        _write_private(keys_file, keys)
        return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-file", required=True, type=Path)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--class-backend", action="store_true", help="note the accounts and learners it serves"
    )
    parser.add_argument(
        "--keys-file", type=Path, help="keep the owner's keys here (made if missing, 0600)"
    )
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip warming (benchmarks/cold_start.py compares both)",
    )
    args = parser.parse_args(argv)

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    without_iri_format_check()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    configure_moto()
    began = time.perf_counter()
    defer_instance_type_offerings()  # before any request imports moto's EC2
    serve_endpoint_services_from_child()
    ec2_import_seconds = round(time.perf_counter() - began, 3)
    info = {
        "instance": args.instance,
        "pid": os.getpid(),
        "region": args.region,
        "started_at": time.time(),
        "class_backend": args.class_backend,
        "warm": {
            "done": args.no_warm_up,
            "seconds": {"ec2_import": ec2_import_seconds},
            "errors": {},
        },
    }
    register = ClassRegister() if args.class_backend else None
    keys = owner_keys(args.keys_file)
    gate = Gate(keys, class_backend=args.class_backend)
    app = _LabMiddleware(DomainDispatcherApplication(create_backend_app), info, gate, register)
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_address[1]
    # The state file's URL is the one this host reaches it by (a wildcard address is not one).
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = f"http://{local}:{port}"
    info["url"] = url
    serve_code_locations(url)

    def shut_down(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    if hasattr(signal, "SIGBREAK"):  # Windows: CTRL_BREAK_EVENT from the process group
        signal.signal(signal.SIGBREAK, shut_down)

    _write_private(
        args.state_file,
        {
            "instance": args.instance,
            "pid": os.getpid(),
            "port": port,
            "url": url,
            "started_at": info["started_at"],
            **keys,
        },
    )
    threading.Thread(
        target=watch_state_file, args=(args.state_file, args.instance, shut_down), daemon=True
    ).start()
    if not args.no_warm_up:
        threading.Thread(target=warm_up, args=(url, args.region, info, keys), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        try:
            if json.loads(args.state_file.read_text(encoding="utf-8"))["instance"] == args.instance:
                args.state_file.unlink()
        except (OSError, ValueError, KeyError):
            pass
        sys.exit(0)


if __name__ == "__main__":
    main()
