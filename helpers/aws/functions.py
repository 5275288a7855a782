"""The note app on Lambda (chapters 03–04): its code package and a local rehearsal of it, its
execution role, and the function.

Finds the lab's role, policy and function by their lab tags, creates or updates them
idempotently (the same code path on the embedded backend and on real AWS, where it waits for
IAM to propagate and for the function to become Active), and checks the chapter's work.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from helpers.aws import rehearsal
from helpers.aws.checks import Check
from helpers.aws.networking import find_lab_network, subnets_by_id
from helpers.aws.policy import NOTE_APP_ACTIONS
from helpers.core import journal, read_cache, sandbox
from helpers.core.backend_process import DUMMY_CREDENTIALS
from helpers.core.clients import account_id, client, friendly_errors
from helpers.core.errors import LabError, Problem, aws_error_code, none_if_missing
from helpers.core.messages import t
from helpers.core.settings import current
from helpers.core.tags import ROLE_KEY, as_aws, from_aws, is_lab_resource, lab_tags
from note_app import handler as note_handler

CHAPTER = "04"
DEFAULT_FUNCTION_NAME = "note-app"
DEFAULT_ROLE_NAME = "note-app-execution-role"
TABLE_POLICY_NAME = "note-app-table-access"
IAM_PATH = "/vpc-endpoint-lab/"  # narrows IAM listings to the lab's; tags still decide
HANDLER_FILE = Path(note_handler.__file__)
HANDLER = f"{HANDLER_FILE.stem}.lambda_handler"
DEFAULT_RUNTIME = "python3.12"
DEFAULT_MEMORY_MB = 512
MEMORY_RANGE_MB = (128, 10240)
DEFAULT_TIMEOUT_SECONDS = 15
TIMEOUT_RANGE_SECONDS = (1, 900)
TABLE_VARIABLE = note_handler.TABLE_NAME_VARIABLE
REGION_VARIABLE = note_handler.REGION_VARIABLE
# Exactly what the handler calls: the least privilege the function needs.
TABLE_ACTIONS = NOTE_APP_ACTIONS
VPC_ACCESS_POLICY_NAME = "AWSLambdaVPCAccessExecutionRole"
DESCRIPTION = "Note app of the VPC endpoint lab"
ROLE_PROPAGATION_SECONDS = 120
ROLE_RETRY_SECONDS = 5
REPO_ROOT = Path(__file__).resolve().parents[2]
# Run as a script (-P: its folder stays off sys.path), not with -m, so that the rehearsal's
# process imports boto3, moto and the handler only, not the lab's whole package.
REHEARSAL_SCRIPT = Path(__file__).with_name("rehearsal.py")
# Seconds the rehearsal's own process may take to start Python, boto3 and moto.
REHEARSAL_START_SECONDS = 60
# The account the rehearsal's throwaway table is made in, apart from the learner's lab when
# both share the kernel's moto mock (in-process backend). Not moto's default account.
REHEARSAL_ACCOUNT_ID = "000000000003"
# Lambda's answers while IAM has not yet propagated a new role or a newly attached policy.
_NOT_YET_PROPAGATED = ("cannot be assumed", "does not have permissions to call")


# --- runtimes ----------------------------------------------------------------------------------
# Lambda's Python runtimes and the day each is (or was) deprecated, from the "Lambda runtimes"
# page of the Lambda Developer Guide (its "Supported runtimes" and "Deprecated runtimes"
# tables), as read on RUNTIME_TABLE_DATE. From its deprecation date Lambda no longer patches a
# runtime and the console no longer offers it for new functions.
RUNTIME_TABLE_DATE = date(2026, 12, 6)
PYTHON_RUNTIMES = {
    "python3.14": date(2029, 6, 30),
    "python3.13": date(2029, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.11": date(2026, 6, 30),
    "python3.10": date(2026, 6, 30),
    "python3.9": date(2025, 12, 15),
}


# What Lambda answers (InvalidParameterValueException, with EC2's answer inside) when
# CreateFunction or UpdateFunctionConfiguration names a subnet or security group EC2 does not
# know. The security-group text is Lambda's, as quoted from real answers; no real answer for a
# missing subnet was found, so its text follows the same pattern with EC2's own message for a
# missing subnet ("The subnet ID '…' does not exist").
SUBNET_NOT_FOUND_MESSAGE = (
    "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
    "EC2 Error Message: The subnet ID '{id}' does not exist"
)
GROUP_NOT_FOUND_MESSAGE = (
    "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
    "EC2 Error Message: The security group '{id}' does not exist"
)
# Lambda's answer (InvalidParameterValueException) to subnets without security groups or the
# reverse.
VPC_PAIR_MESSAGE = "SubnetIds and SecurityIds must coexist or be both empty list."


def lambda_runtime_identifiers() -> frozenset[str]:
    """Every runtime identifier Lambda's API knows (its ``Runtime`` enum); any other value is
    refused by the API's input validation (ValidationException) before Lambda looks at it."""
    return frozenset(client("lambda").meta.service_model.shape_for("Runtime").enum)


def runtime_deprecation(runtime: str) -> date | None:
    """The day Lambda deprecates (or deprecated) ``runtime``; None when not in the table."""
    return PYTHON_RUNTIMES.get(runtime)


def is_deprecated(runtime: str, today: date | None = None) -> bool:
    deprecation = runtime_deprecation(runtime)
    return deprecation is not None and deprecation <= (today or date.today())


def supported_runtimes(today: date | None = None) -> list[str]:
    """The Python runtimes Lambda supports ``today``, newest first: what the console offers."""
    return [runtime for runtime in PYTHON_RUNTIMES if not is_deprecated(runtime, today)]


# --- names and documents ---------------------------------------------------------------------
def partition(region: str | None = None) -> str:
    region = region or current().region
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def vpc_access_policy_arn() -> str:
    return f"arn:{partition()}:iam::aws:policy/service-role/{VPC_ACCESS_POLICY_NAME}"


def table_arn(table_name: str) -> str:
    region = current().region
    return f"arn:{partition(region)}:dynamodb:{region}:{account_id()}:table/{table_name}"


def trust_policy() -> dict:
    """Who may assume the execution role: the Lambda service, nobody else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def table_policy(table_name: str) -> dict:
    """The note table's actions the handler uses, on that one table and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoteTableAccess",
                "Effect": "Allow",
                "Action": list(TABLE_ACTIONS),
                "Resource": table_arn(table_name),
            }
        ],
    }


def policy_document(policy_arn: str) -> dict:
    """The default version's document of a managed policy."""
    iam = client("iam")
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    return json.loads(document) if isinstance(document, str) else document


def policy_table_name(document: dict) -> str | None:
    """The table a table policy allows (the last part of its resource ARN)."""
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            if ":table/" in resource:
                return resource.split(":table/", 1)[1]
    return None


# --- the code package ------------------------------------------------------------------------
def handler_source() -> str:
    return HANDLER_FILE.read_text(encoding="utf-8")


def deployment_package() -> bytes:
    """The zip Lambda runs: the repo's handler file at the root, built byte-for-byte
    reproducibly (fixed time stamp) so an unchanged file gives an unchanged CodeSha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        entry = zipfile.ZipInfo(HANDLER_FILE.name, date_time=(1980, 1, 1, 0, 0, 0))
        entry.external_attr = 0o644 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        package.writestr(entry, HANDLER_FILE.read_bytes())
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """Lambda's CodeSha256 of ``package`` (base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


def rehearse(events: list[dict], table_name: str = "note_tbl") -> list[tuple[dict, dict]]:
    """Each event with the handler's answer, run against a throwaway in-memory DynamoDB
    (moto's mock, as in the unit tests): no account, nothing left behind.

    It runs in a process of its own (``helpers.aws.rehearsal``): moto's mock and the handler's
    environment variables would otherwise act on the whole kernel, button clicks included.
    Under the in-process backend (no processes) it runs in the kernel, in the same
    environment, set and restored around it."""
    with tempfile.TemporaryDirectory(prefix="lab-rehearsal-") as workdir:
        job = {
            "events": events,
            "table_name": table_name,
            "region": current().region,
            "result_file": str(Path(workdir) / "responses.json"),
        }
        try:
            job_text = json.dumps(job)
        except (TypeError, ValueError) as error:
            raise LabError("functions.rehearsal_not_json", reason=str(error)) from None
        environment = _rehearsal_environment(table_name, job["region"])
        if sandbox.in_process():
            responses = _rehearse_in_kernel(job, environment)
        else:
            responses = _rehearse_in_child_process(job, job_text, environment)
    return list(zip(events, responses, strict=True))


def _rehearse_in_child_process(job: dict, job_text: str, environment: dict) -> list:
    # Each event gets the function's default Lambda timeout, once the process has started.
    seconds = REHEARSAL_START_SECONDS + DEFAULT_TIMEOUT_SECONDS * len(job["events"])
    result_file = Path(job["result_file"])
    try:
        finished = subprocess.run(
            [sys.executable, "-P", str(REHEARSAL_SCRIPT)],
            input=job_text,
            text=True,
            capture_output=True,
            env=environment,
            timeout=seconds,
        )
    except subprocess.TimeoutExpired:
        raise LabError("functions.rehearsal_timeout", seconds=seconds) from None
    print(finished.stdout, end="")  # the handler's own prints, shown as if it ran here
    if finished.returncode != 0 or not result_file.exists():
        lines = finished.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"exit status {finished.returncode}"
        raise LabError("functions.rehearsal_failed", reason=reason)
    return json.loads(result_file.read_text(encoding="utf-8"))


def _rehearse_in_kernel(job: dict, environment: dict) -> list:
    """The rehearsal in this Python, its prints shown here as they come. Nothing can stop it
    here (no process to kill; Pyodide has neither threads nor signals): the rehearsal's
    timeout applies to the child process only."""
    try:
        with sandbox.environment(environment):
            return rehearsal.rehearse(job)
    except Exception as error:  # what the child process's last stderr line would say
        reason = f"{type(error).__name__}: {error}"
        raise LabError("functions.rehearsal_failed", reason=reason) from error


def _rehearsal_environment(table_name: str, region: str) -> dict:
    """Dummy credentials and nothing of the learner's AWS set-up (keys, profiles, endpoint
    URLs): every call the handler makes must stay inside the rehearsal's mock. The handler's
    own variables name the table and its region."""
    environment = {
        name: os.environ[name]
        for name in ("PATH", "LANG", "TZ", "SYSTEMROOT")
        if name in os.environ
    }
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            TABLE_VARIABLE: table_name,
            REGION_VARIABLE: region,
            # In the kernel (in-process backend) the mock is the learner's lab: the rehearsal's
            # table is made in an account of its own, never beside the learner's table.
            "MOTO_ACCOUNT_ID": REHEARSAL_ACCOUNT_ID,
            "PYTHONPATH": str(REPO_ROOT),  # for the note app's handler
        }
    )
    return environment


def check_code() -> list[Check]:
    """Chapter 03's "Check your work": the handler, its package, and a local round trip."""
    with zipfile.ZipFile(io.BytesIO(deployment_package())) as package:
        names = package.namelist()
    note = {"id": "check-note", "text": "hello"}
    answers = [
        response
        for _, response in rehearse(
            [
                {"action": "add", "note": note},
                {"action": "list"},
                {"action": "delete", "id": note["id"]},
                {"action": "list"},
            ]
        )
    ]
    statuses = [answer["statusCode"] for answer in answers]
    round_trip = (
        statuses == [201, 200, 200, 200]
        and json.loads(answers[1]["body"]) == [note]
        and json.loads(answers[3]["body"]) == []
    )
    return [
        Check(
            t("functions.check_handler_defined"),
            callable(note_handler.lambda_handler),
            f"{HANDLER_FILE.name}: {HANDLER}",
        ),
        Check(t("functions.check_package"), names == [HANDLER_FILE.name], ", ".join(names)),
        Check(
            t("functions.check_round_trip"),
            round_trip,
            " → ".join(str(status) for status in statuses),
        ),
    ]


# --- environment variables -------------------------------------------------------------------
# Lambda sets these itself and refuses them in a function's configuration.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
VARIABLE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")
ENVIRONMENT_LIMIT_BYTES = 4096
TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")


def default_environment(table_name: str) -> dict:
    return {TABLE_VARIABLE: table_name, REGION_VARIABLE: current().region}


def environment_text(variables: dict) -> str:
    """Variables as the form's text: one ``NAME=value`` a line."""
    return "\n".join(f"{name}={value}" for name, value in variables.items())


def environment_summary(variables: dict) -> str:
    """Variables on one line, for tables and checks."""
    return "; ".join(f"{name}={value}" for name, value in variables.items()) or "-"


def parse_environment(text: str) -> tuple[dict, list[Problem]]:
    """The variables in the form's text, and every reason Lambda (or the app) would refuse."""
    field = "environment"
    variables, problems = {}, []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals:  # the form's own NAME=value text: nothing Lambda could be sent
            problems.append(
                Problem(field, "functions.env_no_equals", t("functions.env_no_equals", line=number))
            )
        elif not VARIABLE_NAME.match(name):  # the API's own pattern for variable names
            problems.append(
                Problem(
                    field,
                    "ValidationException",
                    t("functions.env_bad_name", name=name, line=number),
                )
            )
        elif name in RESERVED_VARIABLES:
            problems.append(
                Problem(
                    field, "InvalidParameterValueException", t("functions.env_reserved", name=name)
                )
            )
        elif name in variables:
            problems.append(
                Problem(field, "functions.env_duplicate", t("functions.env_duplicate", name=name))
            )
        else:
            variables[name] = value
    for name in (TABLE_VARIABLE, REGION_VARIABLE):
        if not variables.get(name):
            problems.append(
                Problem(field, "functions.env_missing", t("functions.env_missing", name=name))
            )
    table_name = variables.get(TABLE_VARIABLE)
    if table_name and not TABLE_NAME.match(table_name):
        problems.append(
            Problem(field, "ValidationException", t("functions.env_bad_table", table=table_name))
        )
    region = current().region
    if variables.get(REGION_VARIABLE) and variables[REGION_VARIABLE] != region:
        problems.append(
            Problem(
                field,
                "functions.env_other_region",
                t("functions.env_other_region", value=variables[REGION_VARIABLE], region=region),
                "warning",
            )
        )
    if len(json.dumps(variables).encode("utf-8")) > ENVIRONMENT_LIMIT_BYTES:
        problems.append(
            Problem(field, "InvalidParameterValueException", t("functions.env_too_big"))
        )
    return variables, problems


# --- finding what the lab made ---------------------------------------------------------------
def _is_lab(tags: dict | list | None, role: str) -> bool:
    tags = tags if isinstance(tags, dict) else from_aws(tags)
    return is_lab_resource(tags) and tags.get(ROLE_KEY) == role


def find_lab_role() -> dict | None:
    """The lab's execution role (``get_role`` shape), found by its tags.

    The name the journal remembers the lab giving it is tried first: GetRole answers with the
    role's tags (IAM API Reference, the "Role" data type), one call instead of a listing. Then
    (or at once, when the journal remembers none: nothing to guess) every role under the lab's
    path is looked at, so a renamed or look-alike role never fools the lab."""
    iam = client("iam")
    with friendly_errors():
        remembered = journal.choices(CHAPTER).get("role_name")
        if remembered:
            found = none_if_missing(lambda: iam.get_role(RoleName=remembered))
            if found and _is_lab(_tags_of(found["Role"], "role"), "execution-role"):
                return found["Role"]
        for page in iam.get_paginator("list_roles").paginate(PathPrefix=IAM_PATH):
            for role in page["Roles"]:
                tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
                if _is_lab(tags, "execution-role"):
                    return iam.get_role(RoleName=role["RoleName"])["Role"]
    return None


def find_table_policy() -> dict | None:
    """The lab's customer-managed policy for the note table, found by its tags: first at the
    ARN the lab gives it (GetPolicy answers with the policy's tags, IAM API Reference, the
    "Policy" data type) once the journal remembers the lab making the role it goes with, then
    among every policy under the lab's path."""
    iam = client("iam")
    with friendly_errors():
        if journal.choices(CHAPTER).get("role_name"):
            arn = f"arn:aws:iam::{account_id()}:policy{IAM_PATH}{TABLE_POLICY_NAME}"
            found = none_if_missing(lambda: iam.get_policy(PolicyArn=arn))
            if found and _is_lab(_tags_of(found["Policy"], "policy"), "table-policy"):
                return found["Policy"]
        for page in iam.get_paginator("list_policies").paginate(Scope="Local", PathPrefix=IAM_PATH):
            for policy in page["Policies"]:
                tags = iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"]
                if _is_lab(tags, "table-policy"):
                    return policy
    return None


def _tags_of(resource: dict, kind: str) -> list:
    """An IAM role's or policy's tags: in its Get answer, else asked for (an answer without
    the ``Tags`` member, from an older IAM, must not look untagged)."""
    if "Tags" in resource:
        return resource["Tags"]
    iam = client("iam")
    if kind == "role":
        return iam.list_role_tags(RoleName=resource["RoleName"])["Tags"]
    return iam.list_policy_tags(PolicyArn=resource["Arn"])["Tags"]


def role_policies(role_name: str) -> tuple[list[str], list[str]]:
    """The managed policy ARNs attached to the role, and its inline policy names (both lists
    asked at once)."""
    iam = client("iam")

    def listed(operation: str, key: str) -> list:
        pages = iam.get_paginator(operation).paginate(RoleName=role_name)
        return [item for page in pages for item in page[key]]

    attached, inline = read_cache.together(
        lambda: [p["PolicyArn"] for p in listed("list_attached_role_policies", "AttachedPolicies")],
        lambda: listed("list_role_policies", "PolicyNames"),
    )
    return attached, inline


def role_table_name() -> str | None:
    """The table the lab role's table policy allows, if the policy exists."""
    policy = find_table_policy()
    return policy_table_name(policy_document(policy["Arn"])) if policy else None


def _function_with_tags(name: str) -> tuple[dict, dict] | None:
    found = none_if_missing(lambda: client("lambda").get_function(FunctionName=name))
    return None if found is None else (found["Configuration"], found.get("Tags") or {})


def find_lab_function() -> dict | None:
    """The lab's function (``get_function_configuration`` shape), found by its tags.

    The name the journal remembers the learner choosing is tried first; then (or at once,
    when it remembers none) every function is looked at, so a renamed or look-alike function
    never fools the lab."""
    lam = client("lambda")
    with friendly_errors():
        remembered = journal.choices(CHAPTER).get("function_name")
        found = _function_with_tags(remembered) if remembered else None
        if found and _is_lab(found[1], "function"):
            return found[0]
        for function in _all_functions():
            tags = lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
            if _is_lab(tags, "function"):
                return lam.get_function_configuration(FunctionName=function["FunctionArn"])
    return None


def _all_functions() -> list[dict]:
    return [
        function
        for page in client("lambda").get_paginator("list_functions").paginate()
        for function in page["Functions"]
    ]


def name_taken(name: str) -> bool:
    """Whether a function called ``name`` exists (the lab's or not), in the listing of every
    function: ``find_lab_function`` has made it in this action whenever it found none of the
    lab's (a function's name is unique in its account and region, Lambda's CreateFunction:
    ResourceConflictException)."""
    with friendly_errors():
        return any(function["FunctionName"] == name for function in _all_functions())


def subnets_vpc_id(subnet_ids: list[str], likely_vpc_id: str | None = None) -> str | None:
    """The VPC the subnets are in. A function's VPC must be derived this way: the embedded
    backend reports every function's ``VpcConfig.VpcId`` as ``vpc-123abc``. Subnets of
    ``likely_vpc_id`` are picked out of that VPC's subnets (a read the caller's action has
    usually made already), the others asked for by id."""
    if not subnet_ids:
        return None
    vpcs = {subnet["VpcId"] for subnet in subnets_by_id(subnet_ids, likely_vpc_id).values()}
    return vpcs.pop() if len(vpcs) == 1 else None


def function_vpc_id(configuration: dict, likely_vpc_id: str | None = None) -> str | None:
    subnet_ids = (configuration.get("VpcConfig") or {}).get("SubnetIds", [])
    return subnets_vpc_id(subnet_ids, likely_vpc_id)


# --- creating and updating -------------------------------------------------------------------
@dataclass(frozen=True)
class EnsuredRole:
    role: dict  # as IAM describes it (GetRole's shape)
    created: bool
    policy_arns: list[str]  # the managed policies attached to it now


def ensure_execution_role(role_name: str, table_name: str, progress=print) -> EnsuredRole:
    """Make the lab's execution role exactly right; return it and whether it was created.

    Exactly right means: trusted by Lambda only, with AWSLambdaVPCAccessExecutionRole and the
    lab's table policy for ``table_name`` attached, and nothing else (a policy added by hand or
    by a "break it" exercise is removed). Nothing is read back: CreateRole answers with the
    role (IAM API Reference, CreateRole: "A structure containing details about the new role"),
    a role just made has no policy yet, and each change made succeeded."""
    iam = client("iam")
    tags = lab_tags(CHAPTER, "execution-role", name=role_name)
    role = find_lab_role()
    created = role is None
    if created:
        progress(t("functions.creating_role", name=role_name))

    def role_as_trusted() -> dict:
        if created:
            return iam.create_role(
                RoleName=role_name,
                Path=IAM_PATH,
                Description=DESCRIPTION,
                AssumeRolePolicyDocument=json.dumps(trust_policy()),
                Tags=as_aws(tags),
            )["Role"]
        if _document(role["AssumeRolePolicyDocument"]) != trust_policy():
            iam.update_assume_role_policy(
                RoleName=role["RoleName"], PolicyDocument=json.dumps(trust_policy())
            )
            return {**role, "AssumeRolePolicyDocument": trust_policy()}
        return role

    # The role and the table policy are two IAM entities, made or fixed at once; the
    # attachments change the one role, one after the other.
    role, policy_arn = read_cache.together(
        role_as_trusted, lambda: _ensure_table_policy(table_name)
    )
    wanted = [vpc_access_policy_arn(), policy_arn]
    attached, inline = ([], []) if created else role_policies(role["RoleName"])
    for arn in wanted:
        if arn not in attached:
            iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for arn in set(attached) - set(wanted):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for name in inline:
        iam.delete_role_policy(RoleName=role["RoleName"], PolicyName=name)
    return EnsuredRole(role, created, wanted)


def _document(document) -> dict:
    return json.loads(document) if isinstance(document, str) else document


def _ensure_table_policy(table_name: str) -> str:
    """The table policy's ARN, created or given a new default version when the table changed."""
    iam = client("iam")
    wanted = table_policy(table_name)
    policy = find_table_policy()
    if policy is None:
        tags = lab_tags(CHAPTER, "table-policy", name=TABLE_POLICY_NAME)
        return iam.create_policy(
            PolicyName=TABLE_POLICY_NAME,
            Path=IAM_PATH,
            Description=DESCRIPTION,
            PolicyDocument=json.dumps(wanted),
            Tags=as_aws(tags),
        )["Policy"]["Arn"]
    if policy_document(policy["Arn"]) != wanted:
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        old = sorted(
            (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
        )
        if len(versions) >= 5:  # IAM keeps at most five versions of a policy
            iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId=old[0]["VersionId"])
        iam.create_policy_version(
            PolicyArn=policy["Arn"], PolicyDocument=json.dumps(wanted), SetAsDefault=True
        )
    return policy["Arn"]


def function_settings(values: dict, role_arn: str) -> dict:
    """The create/update parameters Lambda takes for the form's ``values``."""
    return {
        "Role": role_arn,
        "Handler": HANDLER,
        "Runtime": values["runtime"],
        "MemorySize": int(values["memory"]),
        "Timeout": int(values["timeout"]),
        "Description": DESCRIPTION,
        "Environment": {"Variables": parse_environment(values["environment"])[0]},
        "VpcConfig": {
            "SubnetIds": list(values["subnets"]),
            "SecurityGroupIds": list(values["security_groups"]),
        },
    }


def _differs(configuration: dict, settings: dict) -> bool:
    vpc = configuration.get("VpcConfig") or {}
    current_values = {
        "Role": configuration.get("Role"),
        "Handler": configuration.get("Handler"),
        "Runtime": configuration.get("Runtime"),
        "MemorySize": configuration.get("MemorySize"),
        "Timeout": configuration.get("Timeout"),
        "Variables": (configuration.get("Environment") or {}).get("Variables", {}),
        "SubnetIds": sorted(vpc.get("SubnetIds", [])),
        "SecurityGroupIds": sorted(vpc.get("SecurityGroupIds", [])),
    }
    wanted = {
        **{k: settings[k] for k in ("Role", "Handler", "Runtime", "MemorySize", "Timeout")},
        "Variables": settings["Environment"]["Variables"],
        "SubnetIds": sorted(settings["VpcConfig"]["SubnetIds"]),
        "SecurityGroupIds": sorted(settings["VpcConfig"]["SecurityGroupIds"]),
    }
    return current_values != wanted


def ensure_function(values: dict, progress=print) -> tuple[dict, bool]:
    """Create the lab's function from checked form ``values``, or bring it in line with them.

    Returns the function's configuration and whether it was created."""
    lam = client("lambda")
    role = find_lab_role()
    if role is None:
        raise LabError("functions.role_missing", field="function_name")
    settings = function_settings(values, role["Arn"])
    package = deployment_package()
    existing = find_lab_function()
    if existing is None:
        tags = lab_tags(CHAPTER, "function", name=values["function_name"])
        progress(t("functions.creating_function", name=values["function_name"]))
        configuration = _retry_while_role_propagates(
            lambda: lam.create_function(
                FunctionName=values["function_name"],
                Code={"ZipFile": package},
                PackageType="Zip",
                Tags=tags,
                **settings,
            ),
            progress,
        )
        return _wait(configuration, "function_active_v2", progress), True
    configuration = existing
    name = existing["FunctionName"]
    if _differs(existing, settings):
        progress(t("functions.updating_function", name=name))
        answer = _retry_while_role_propagates(
            lambda: lam.update_function_configuration(FunctionName=name, **settings), progress
        )
        configuration = _wait(answer, "function_updated_v2", progress)
    if existing.get("CodeSha256") != code_sha256(package):
        progress(t("functions.updating_code", name=name))
        answer = lam.update_function_code(FunctionName=name, ZipFile=package)
        configuration = _wait(answer, "function_updated_v2", progress)
    return configuration, False


def _retry_while_role_propagates(call, progress):
    """Run ``call``; while IAM has not yet propagated a new role (real AWS: seconds), retry."""
    deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
    while True:
        try:
            return call()
        except Exception as error:
            waiting = aws_error_code(error) == "InvalidParameterValueException" and any(
                text in str(error) for text in _NOT_YET_PROPAGATED
            )
            if not waiting or time.monotonic() > deadline:
                raise
            progress(t("functions.waiting_for_role"))
            time.sleep(ROLE_RETRY_SECONDS)


def _wait(answer: dict, waiter: str, progress) -> dict:
    """The function's configuration once it is ready: ``answer`` (what CreateFunction or an
    update answered, in the same shape) when it says so already, else after Lambda's waiter.
    On AWS a new function starts ``Pending`` and an update ``InProgress`` ("Lambda function
    states", Lambda Developer Guide)."""
    lam = client("lambda")
    name = answer["FunctionName"]
    ready = answer.get("State") in (None, "Active") and answer.get("LastUpdateStatus") in (
        None,
        "Successful",
    )
    configuration = answer
    if not ready:
        progress(t("functions.waiting_for_function", name=name))
        with read_cache.fresh():
            lam.get_waiter(waiter).wait(FunctionName=name)
        configuration = lam.get_function_configuration(FunctionName=name)
    return configuration


# --- catch-up and "Check your work" ----------------------------------------------------------
def check_chapter() -> list[Check]:
    """What chapter 04 should have made, each with what was found."""
    checks = []
    role = find_lab_role()
    checks.append(
        Check(
            t("functions.check_role"),
            role is not None,
            role["RoleName"] if role else t("functions.check_missing_role"),
        )
    )
    table_name = None
    if role:
        trusted = _document(role["AssumeRolePolicyDocument"]) == trust_policy()
        checks.append(
            Check(
                t("functions.check_trust"),
                trusted,
                "lambda.amazonaws.com" if trusted else t("functions.check_fix_role"),
            )
        )
        attached, inline = role_policies(role["RoleName"])
        checks.append(
            Check(
                t("functions.check_vpc_access"),
                vpc_access_policy_arn() in attached,
                VPC_ACCESS_POLICY_NAME,
            )
        )
        policy = find_table_policy()
        document = policy_document(policy["Arn"]) if policy else {}
        table_name = policy_table_name(document)
        allows = (
            bool(policy)
            and policy["Arn"] in attached
            and document == table_policy(table_name or "")
        )
        checks.append(
            Check(
                t("functions.check_table_policy"),
                allows,
                f"{', '.join(TABLE_ACTIONS)} → {table_arn(table_name)}"
                if allows
                else t("functions.check_fix_role"),
            )
        )
        expected = {vpc_access_policy_arn(), policy["Arn"] if policy else None}
        extra = sorted(set(attached) - expected)
        checks.append(
            Check(
                t("functions.check_nothing_else"),
                not extra and not inline,
                ", ".join(extra + inline) or t("functions.check_only_two"),
            )
        )
    function = find_lab_function()
    checks.append(
        Check(
            t("functions.check_function"),
            function is not None,
            f"{function['FunctionName']} ({function.get('State')})"
            if function
            else t("functions.check_missing_function"),
        )
    )
    if function:
        checks.extend(_function_checks(function, role, table_name))
    return checks


def _function_checks(function: dict, role: dict | None, table_name: str | None) -> list[Check]:
    network = find_lab_network()
    network_vpc = network.vpc_id if network else None
    vpc = function.get("VpcConfig") or {}
    subnets = vpc.get("SubnetIds", [])
    private = set(network.private_subnet_ids) if network else set()
    in_private = bool(subnets) and set(subnets) <= private
    variables = (function.get("Environment") or {}).get("Variables", {})
    region = current().region
    env_ok = variables.get(REGION_VARIABLE) == region and bool(variables.get(TABLE_VARIABLE))
    groups = vpc.get("SecurityGroupIds", [])
    groups_vpcs = (
        {
            g["VpcId"]
            for g in client("ec2").describe_security_groups(
                Filters=[{"Name": "group-id", "Values": groups}]
            )["SecurityGroups"]
        }
        if groups
        else set()
    )
    return [
        Check(
            t("functions.check_active"),
            function.get("State") in (None, "Active"),
            str(function.get("State")),
        ),
        Check(
            t("functions.check_runtime"),
            function.get("Handler") == HANDLER and function.get("Runtime") in supported_runtimes(),
            f"{function.get('Runtime')}, {function.get('Handler')}",
        ),
        Check(
            t("functions.check_private_subnets"),
            in_private,
            f"{', '.join(subnets) or '-'} ({function_vpc_id(function, network_vpc) or '-'})",
        ),
        Check(
            t("functions.check_security_group"),
            bool(groups) and network is not None and groups_vpcs == {network.vpc_id},
            ", ".join(groups) or "-",
        ),
        Check(t("functions.check_environment"), env_ok, environment_summary(variables)),
        Check(
            t("functions.check_role_used"),
            role is not None and function.get("Role") == role["Arn"],
            function.get("Role", "-"),
        ),
        Check(
            t("functions.check_table_matches"),
            table_name is not None and variables.get(TABLE_VARIABLE) == table_name,
            f"{TABLE_VARIABLE}={variables.get(TABLE_VARIABLE, '')}; "
            f"{t('functions.policy_allows', table=table_name or '-')}",
        ),
        Check(
            t("functions.check_code"),
            function.get("CodeSha256") == code_sha256(deployment_package()),
            function.get("CodeSha256", "-"),
        ),
    ]
