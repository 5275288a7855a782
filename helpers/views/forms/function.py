"""Chapter 04's forms, the execution role (the IAM step) and the Lambda function, and the
views chapters 03 and 04 show: the handler's source, its package, a local rehearsal.

Each form refuses what AWS would refuse, with AWS's error code, before anything is created —
including what the embedded backend would wrongly accept (unknown subnets or security groups,
ones from another VPC) — and warns about choices that work but break the note app.
"""

from __future__ import annotations

import json
import re

from helpers.aws import api, functions, networking
from helpers.aws.tables import DEFAULT_TABLE_NAME
from helpers.core import journal, read_cache
from helpers.core.clients import client
from helpers.core.errors import none_if_missing
from helpers.core.messages import t
from helpers.views.forms.base import (
    Field,
    FormModel,
    Problem,
    SubmitResult,
    render_problems,
)
from helpers.views.html import Verbatim, box, table
from helpers.views.html import text as escape

# IAM's pattern is [\w+=,.@-]+ with \w meaning ASCII letters, digits and "_" (its docs: "upper and
# lowercase alphanumeric characters"): Python's \w would also take "đ" or "ể", hence re.ASCII.
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
API_GATEWAY_TIMEOUT_SECONDS = api.DEFAULT_INTEGRATION_TIMEOUT_MS // 1000


# --- the execution role ----------------------------------------------------------------------
class ExecutionRoleForm(FormModel):
    """The role the function runs as: trusted by Lambda, VPC access, the note table only."""

    chapter = functions.CHAPTER
    submit_label_key = "functions.create_role"

    def __init__(self):
        existing = functions.find_lab_role()
        remembered = journal.choices(self.chapter)
        self.fields = [
            Field(
                "role_name",
                "functions.field_role_name",
                "text",
                existing["RoleName"]
                if existing
                else remembered.get("role_name", functions.DEFAULT_ROLE_NAME),
            ),
            Field(
                "table_name",
                "functions.field_table_name",
                "text",
                functions.role_table_name() or remembered.get("table_name", DEFAULT_TABLE_NAME),
            ),
        ]

    def journal_values(self, values: dict) -> dict:
        return {**journal.choices(self.chapter), **values}

    def check(self, values: dict) -> list[Problem]:
        problems = []
        name = values["role_name"].strip()
        if not ROLE_NAME.match(name):
            problems.append(
                Problem("role_name", "ValidationError", t("functions.bad_role_name", name=name))
            )
        if not functions.TABLE_NAME.match(values["table_name"].strip()):
            problems.append(
                Problem(
                    "table_name",
                    "ValidationException",
                    t("functions.bad_table_name", table=values["table_name"]),
                )
            )
        if problems:
            return problems
        existing = functions.find_lab_role()
        if existing and existing["RoleName"] != name:
            problems.append(
                Problem(
                    "role_name",
                    "EntityAlreadyExists",
                    t("functions.role_renamed", existing=existing["RoleName"]),
                )
            )
        elif existing is None and _role_exists(name):
            problems.append(
                Problem("role_name", "EntityAlreadyExists", t("functions.role_not_lab", name=name))
            )
        return problems

    def create(self, values: dict) -> SubmitResult:
        table_name = values["table_name"].strip()
        made = functions.ensure_execution_role(
            values["role_name"].strip(), table_name, self.progress
        )
        return SubmitResult(
            ok=True, created=made.created, resource=made.role, html=role_done_html(made, table_name)
        )

    def preview(self, values: dict) -> str:
        table_name = values["table_name"].strip()
        if not functions.TABLE_NAME.match(table_name):
            return box(t("functions.bad_table_name", table=table_name), "error")
        return policies_html(functions.table_policy(table_name))


def _role_exists(name: str) -> bool:
    return none_if_missing(lambda: client("iam").get_role(RoleName=name)) is not None


def policy_html(title: str, document: dict, note: str = "") -> str:
    detail = f"<p>{escape(note)}</p>" if note else ""
    return (
        f"<h4>{escape(title)}</h4>{detail}<pre class='lab-policy'>"
        f"{escape(json.dumps(document, indent=2))}</pre>"
    )


def policies_html(table_document: dict) -> str:
    """The three documents that make the role: who may use it, and what it may do."""
    vpc_access = functions.policy_document(functions.vpc_access_policy_arn())
    return "".join(
        [
            policy_html(
                t("functions.trust_title"), functions.trust_policy(), t("functions.trust_note")
            ),
            policy_html(
                t("functions.vpc_access_title", name=functions.VPC_ACCESS_POLICY_NAME),
                vpc_access,
                t("functions.vpc_access_note", arn=functions.vpc_access_policy_arn()),
            ),
            policy_html(
                t("functions.table_policy_title", name=functions.TABLE_POLICY_NAME),
                table_document,
                t("functions.table_policy_note", count=len(functions.TABLE_ACTIONS)),
            ),
        ]
    )


def role_done_html(made: functions.EnsuredRole, table_name: str) -> str:
    """What a click on Create role did, in one success box: the role as the click left it
    (the policy documents are the ones shown above the button)."""
    role, attached = made.role, made.policy_arns
    return box(
        t(
            "functions.role_created" if made.created else "functions.role_reused",
            name=role["RoleName"],
            arn=role["Arn"],
            trusted=", ".join(_trusted_services(role)),
            policies=", ".join(sorted(arn.rsplit("/", 1)[-1] for arn in attached)),
            table=table_name,
        ),
        "success",
    )


def _trusted_services(role: dict) -> list[str]:
    document = role["AssumeRolePolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    services = []
    for statement in document.get("Statement", []):
        principal = (statement.get("Principal") or {}).get("Service", [])
        services.extend([principal] if isinstance(principal, str) else principal)
    return services


# --- the function ----------------------------------------------------------------------------
def vpc_options(_values: dict) -> list[tuple[str, str]]:
    return networking.vpc_choices()


def subnet_options(values: dict) -> list[tuple[str, str]]:
    if not values.get("vpc"):
        return []
    return [
        (
            f"{s['SubnetId']} ({networking.name_of(s) or '-'}) {s['CidrBlock']} "
            f"{s['AvailabilityZone']}",
            s["SubnetId"],
        )
        for s in networking.describe_subnets(values["vpc"])
    ]


def security_group_options(values: dict) -> list[tuple[str, str]]:
    if not values.get("vpc"):
        return []
    groups = networking.vpc_security_groups(values["vpc"])
    return [
        (f"{g['GroupId']} ({g['GroupName']})", g["GroupId"])
        for g in sorted(groups, key=lambda g: (g["GroupName"] != "default", g["GroupName"]))
    ]


def default_security_group(vpc_id: str | None) -> str | None:
    if not vpc_id:
        return None
    return next(
        (
            g["GroupId"]
            for g in networking.vpc_security_groups(vpc_id)
            if g["GroupName"] == "default"
        ),
        None,
    )


def internet_facing_subnets(vpc_id: str) -> set[str]:
    """Subnets whose route table (their own, else the VPC's main one) sends 0.0.0.0/0 to an
    internet gateway: public subnets."""
    route_tables = networking.describe_route_tables(vpc_id)
    return {
        subnet["SubnetId"]
        for subnet in networking.describe_subnets(vpc_id)
        if _routes_to_internet(networking.route_table_for_subnet(subnet["SubnetId"], route_tables))
    }


def _routes_to_internet(route_table: dict | None) -> bool:
    return any(
        route.get("DestinationCidrBlock") == "0.0.0.0/0"
        and route.get("GatewayId", "").startswith("igw-")
        and route.get("State", "active") == "active"
        for route in (route_table or {}).get("Routes", [])
    )


class FunctionForm(FormModel):
    """Lambda's "Create function" page: author from scratch, with VPC settings."""

    chapter = functions.CHAPTER
    submit_label_key = "functions.create_function"

    def __init__(self):
        network = networking.find_lab_network()
        vpc_id = network.vpc_id if network else None
        self.network = network

        def environment() -> str:
            table_name = functions.role_table_name() or journal.choices(self.chapter).get(
                "table_name", DEFAULT_TABLE_NAME
            )
            return functions.environment_text(functions.default_environment(table_name))

        self.fields = [
            Field(
                "function_name",
                "functions.field_function_name",
                "text",
                functions.DEFAULT_FUNCTION_NAME,
            ),
            Field(
                "runtime",
                "functions.field_runtime",
                "choice",
                functions.DEFAULT_RUNTIME,
                options=functions.supported_runtimes(),
            ),
            Field("memory", "functions.field_memory", "int", functions.DEFAULT_MEMORY_MB),
            Field("timeout", "functions.field_timeout", "int", functions.DEFAULT_TIMEOUT_SECONDS),
            Field("vpc", "functions.field_vpc", "choice", vpc_id, options=vpc_options),
            Field(
                "subnets",
                "functions.field_subnets",
                "multi",
                list(network.private_subnet_ids) if network else [],
                options=subnet_options,
                depends_on=("vpc",),
            ),
            Field(
                "security_groups",
                "functions.field_security_groups",
                "multi",
                default_factory=lambda: [g for g in [default_security_group(vpc_id)] if g],
                options=security_group_options,
                depends_on=("vpc",),
            ),
            Field(
                "environment",
                "functions.field_environment",
                "textarea",
                default_factory=environment,
            ),
        ]

    # --- catch-up ---------------------------------------------------------------------------
    def values_from_journal(self, choices: dict) -> dict:
        """The form's values for the learner's remembered ``choices``, with ids that may have
        changed (a backend restarted empty) found again by the part they played."""
        values = self.defaults()
        for name in ("function_name", "runtime", "memory", "timeout", "environment"):
            if name in choices:
                values[name] = choices[name]
        if functions.is_deprecated(values["runtime"]):
            # Deprecated since it was chosen: the console no longer offers it either.
            values["runtime"] = functions.DEFAULT_RUNTIME
        if choices.get("vpc") and networking.vpc_by_id(choices["vpc"]):
            values["vpc"] = choices["vpc"]
        vpc_id = values["vpc"]
        in_vpc = {s["SubnetId"] for s in networking.describe_subnets(vpc_id)} if vpc_id else set()
        if choices.get("subnets") and set(choices["subnets"]) <= in_vpc:
            values["subnets"] = choices["subnets"]
        elif choices.get("subnet_roles") and self.network:
            by_role = {
                "private-subnet": self.network.private_subnet_ids,
                "public-subnet": self.network.public_subnet_ids,
            }
            values["subnets"] = [
                s for role in choices["subnet_roles"] for s in by_role.get(role, [])
            ]
        names = choices.get("security_group_names") or []
        if names and vpc_id:
            values["security_groups"] = [
                g["GroupId"]
                for g in networking.vpc_security_groups(vpc_id)
                if g["GroupName"] in names
            ]
        return values

    def journal_values(self, values: dict) -> dict:
        roles = []
        if self.network:
            for subnet in values["subnets"]:
                if subnet in self.network.private_subnet_ids:
                    roles.append("private-subnet")
                elif subnet in self.network.public_subnet_ids:
                    roles.append("public-subnet")
        groups = networking.security_groups_by_id(values["security_groups"], values["vpc"])
        return {
            **journal.choices(self.chapter),
            **values,
            "subnet_roles": roles,
            "security_group_names": [
                groups[g]["GroupName"] for g in values["security_groups"] if g in groups
            ],
        }

    # --- checks -----------------------------------------------------------------------------
    def check(self, values: dict) -> list[Problem]:
        problems = self._settings_problems(values)
        _, environment_problems = functions.parse_environment(values["environment"])
        problems += environment_problems
        name_refused = any(p.field == "function_name" for p in problems)
        # Independent reads (the network, the role, the name), asked at once.
        network, role, name = read_cache.together(
            lambda: self.network_problems(values),
            lambda: self._role_problems(values),
            lambda: [] if name_refused else self._name_problems(values["function_name"].strip()),
        )
        return problems + network + role + name

    def _settings_problems(self, values: dict) -> list[Problem]:
        problems = []
        name = values["function_name"].strip()
        if not FUNCTION_NAME.match(name):
            problems.append(
                Problem(
                    "function_name",
                    "ValidationException",
                    t("functions.bad_function_name", name=name),
                )
            )
        problems += _runtime_problems(values["runtime"])
        for field, (low, high) in (
            ("memory", functions.MEMORY_RANGE_MB),
            ("timeout", functions.TIMEOUT_RANGE_SECONDS),
        ):
            value = values[field]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                problems.append(
                    Problem(
                        field,
                        "ValidationException",
                        t(f"functions.bad_{field}", value=value, low=low, high=high),
                    )
                )
        timeout = values["timeout"]
        if isinstance(timeout, int) and API_GATEWAY_TIMEOUT_SECONDS < timeout <= 900:
            problems.append(
                Problem(
                    "timeout",
                    "functions.timeout_over_api",
                    t("functions.timeout_over_api", limit=API_GATEWAY_TIMEOUT_SECONDS),
                    "warning",
                )
            )
        return problems

    def network_problems(self, values: dict) -> list[Problem]:
        vpc_id = values["vpc"]
        subnet_ids = list(values["subnets"] or [])
        group_ids = list(values["security_groups"] or [])
        problems = []
        # Lambda never sees the VPC (it derives it from the subnets): choosing one is the
        # console's step, so these refusals are the lab's, not Lambda's.
        if not vpc_id:
            problems.append(Problem("vpc", "functions.vpc_missing", t("functions.vpc_missing")))
        elif networking.vpc_by_id(vpc_id) is None:
            problems.append(
                Problem("vpc", "functions.vpc_not_found", t("functions.vpc_not_found", vpc=vpc_id))
            )
            vpc_id = None
        subnets = networking.subnets_by_id(subnet_ids, vpc_id)
        groups = networking.security_groups_by_id(group_ids, vpc_id)
        paired = bool(subnet_ids) == bool(group_ids)
        problems += _membership_problems(
            "subnets",
            subnet_ids,
            subnets,
            vpc_id,
            MAX_SUBNETS,
            functions.SUBNET_NOT_FOUND_MESSAGE,
            "subnet",
            paired,
        )
        problems += _membership_problems(
            "security_groups",
            group_ids,
            groups,
            vpc_id,
            MAX_SECURITY_GROUPS,
            functions.GROUP_NOT_FOUND_MESSAGE,
            "group",
            paired,
        )
        if vpc_id and subnets:
            public = internet_facing_subnets(vpc_id) & set(subnets)
            for subnet in sorted(public):
                problems.append(
                    Problem(
                        "subnets",
                        "functions.public_subnet",
                        t("functions.public_subnet", subnet=subnet),
                        "confirm",  # the function would run, but never reach DynamoDB
                    )
                )
        return problems

    def _role_problems(self, values: dict) -> list[Problem]:
        role = functions.find_lab_role()
        if role is None:
            return [Problem(None, "functions.role_missing", t("functions.role_missing"))]
        variables, _ = functions.parse_environment(values["environment"])
        allowed = functions.role_table_name()
        wanted = variables.get(functions.TABLE_VARIABLE)
        if wanted and allowed != wanted:
            return [
                Problem(
                    "environment",
                    "functions.table_not_allowed",
                    t("functions.table_not_allowed", table=wanted, allowed=allowed or "-"),
                    "warning",
                )
            ]
        return []

    def _name_problems(self, name: str) -> list[Problem]:
        existing = functions.find_lab_function()
        if existing and existing["FunctionName"] != name:
            return [
                Problem(
                    "function_name",
                    "ResourceConflictException",
                    t("functions.function_renamed", existing=existing["FunctionName"]),
                )
            ]
        if existing is None and functions.name_taken(name):
            return [
                Problem(
                    "function_name",
                    "ResourceConflictException",
                    t("functions.function_not_lab", name=name),
                )
            ]
        return []

    # --- creating and showing ---------------------------------------------------------------
    def create(self, values: dict) -> SubmitResult:
        values = {**values, "function_name": values["function_name"].strip()}
        configuration, created = functions.ensure_function(values, self.progress)
        return SubmitResult(
            ok=True,
            created=created,
            resource=configuration,
            html=function_done_html(configuration, created),
        )

    def preview(self, values: dict) -> str:
        variables, _ = functions.parse_environment(values["environment"])
        package = functions.deployment_package()
        rows = _function_rows(
            values["function_name"],
            values["runtime"],
            values["memory"],
            values["timeout"],
            values["subnets"],
            values["security_groups"],
            variables,
            likely_vpc_id=values["vpc"],
        )
        rows.append(
            [
                t("functions.row_code"),
                t(
                    "functions.code_package",
                    file=functions.HANDLER_FILE.name,
                    size=len(package),
                    sha=functions.code_sha256(package),
                ),
            ]
        )
        return table(
            [t("functions.column_setting"), t("functions.column_value")],
            rows,
            caption=t("functions.preview_caption"),
        )


def _runtime_problems(runtime: str) -> list[Problem]:
    """A runtime Lambda supports today, as the console offers them; a deprecated one is named
    with its date, and a value Lambda does not know gets the API's ValidationException."""
    supported = functions.supported_runtimes()
    if runtime in supported:
        return []
    if functions.is_deprecated(runtime):
        return [
            Problem(
                "runtime",
                "functions.runtime_deprecated",
                t(
                    "functions.runtime_deprecated",
                    runtime=runtime,
                    date=functions.runtime_deprecation(runtime).isoformat(),
                    table_date=functions.RUNTIME_TABLE_DATE.isoformat(),
                    newest=supported[0] if supported else functions.DEFAULT_RUNTIME,
                ),
            )
        ]
    known = runtime in functions.lambda_runtime_identifiers()
    return [
        Problem(
            "runtime",
            "functions.bad_runtime" if known else "ValidationException",
            t("functions.bad_runtime", runtime=runtime, runtimes=", ".join(supported)),
        )
    ]


def _membership_problems(
    field: str,
    wanted: list[str],
    found: dict,
    vpc_id: str | None,
    limit: int,
    not_found_message: str,
    kind: str,
    paired: bool,
) -> list[Problem]:
    """Subnets or security groups: some chosen, each existing, all in the chosen VPC.

    Lambda itself refuses subnets without security groups (or the reverse); with neither it
    would make a function outside any VPC, which the lab refuses as its own rule. A subnet or
    group EC2 does not know gets Lambda's answer, with EC2's inside (``not_found_message``)."""
    if not wanted:
        code = f"functions.{kind}_none" if paired else "InvalidParameterValueException"
        detail = "" if paired else f" ({functions.VPC_PAIR_MESSAGE})"
        return [Problem(field, code, t(f"functions.{kind}_none") + detail)]
    problems = []
    if len(wanted) > limit:
        problems.append(
            Problem(field, "ValidationException", t(f"functions.{kind}_too_many", limit=limit))
        )
    for resource_id in wanted:
        if resource_id not in found:
            problems.append(
                Problem(
                    field,
                    "InvalidParameterValueException",
                    t(
                        f"functions.{kind}_not_found",
                        id=resource_id,
                        answer=not_found_message.format(id=resource_id),
                    ),
                )
            )
        elif vpc_id and found[resource_id]["VpcId"] != vpc_id:
            problems.append(
                Problem(
                    field,
                    "InvalidParameterValueException",
                    t(
                        f"functions.{kind}_other_vpc",
                        id=resource_id,
                        its_vpc=found[resource_id]["VpcId"],
                        vpc=vpc_id,
                    ),
                )
            )
    return problems


def _function_rows(
    name, runtime, memory, timeout, subnets, groups, variables, likely_vpc_id=None
) -> list[list]:
    return [
        [t("functions.row_name"), name],
        [t("functions.row_runtime"), f"{runtime} · {functions.HANDLER}"],
        [t("functions.row_memory"), f"{memory} MB"],
        [t("functions.row_timeout"), f"{timeout} s"],
        # Derived from the subnets: the embedded backend reports a made-up VpcId.
        [t("functions.row_vpc"), functions.subnets_vpc_id(list(subnets), likely_vpc_id) or "-"],
        [t("functions.row_subnets"), ", ".join(subnets) or "-"],
        [t("functions.row_security_groups"), ", ".join(groups) or "-"],
        [t("functions.row_environment"), functions.environment_summary(variables)],
    ]


def function_done_html(configuration: dict, created: bool) -> str:
    """What a click on Create function did, in one success box (the chapter's show() lists
    the whole configuration)."""
    vpc = configuration.get("VpcConfig") or {}
    return box(
        t(
            "functions.function_created" if created else "functions.function_reused",
            name=configuration["FunctionName"],
            state=configuration.get("State") or "-",
            subnets=", ".join(vpc.get("SubnetIds", [])) or "-",
        ),
        "success",
    )


def function_html(configuration: dict) -> str:
    """The function as Lambda reports it now."""
    vpc = configuration.get("VpcConfig") or {}
    rows = _function_rows(
        configuration["FunctionName"],
        configuration.get("Runtime"),
        configuration.get("MemorySize"),
        configuration.get("Timeout"),
        vpc.get("SubnetIds", []),
        vpc.get("SecurityGroupIds", []),
        (configuration.get("Environment") or {}).get("Variables", {}),
    )
    rows += [
        [t("functions.row_state"), configuration.get("State") or "-"],
        [t("functions.row_role"), configuration.get("Role", "-")],
        ["CodeSha256", configuration.get("CodeSha256", "-")],
    ]
    return table(
        [t("functions.column_setting"), t("functions.column_value")],
        rows,
        caption=t("functions.function_caption"),
    )


# --- what the notebooks call ----------------------------------------------------------------
def package_html() -> str:
    """The deployment package: file, size, checksum, handler."""
    package = functions.deployment_package()
    rows = [
        [t("functions.row_file"), functions.HANDLER_FILE.name],
        [t("functions.row_size"), t("functions.size_bytes", size=len(package))],
        ["CodeSha256", functions.code_sha256(package)],
        [t("functions.row_runtime"), functions.HANDLER],
    ]
    return table(
        [t("functions.column_setting"), t("functions.column_value")],
        rows,
        caption=t("functions.package_caption"),
    )


def rehearsal_html(events: list[dict]) -> str:
    """Each request and the handler's answer, run locally (``functions.rehearse``)."""
    rows = [
        [Verbatim(json.dumps(event)), response["statusCode"], Verbatim(response["body"])]
        for event, response in functions.rehearse(events)
    ]
    return table(
        [t("functions.column_request"), t("functions.column_status"), t("functions.column_body")],
        rows,
        caption=t("functions.rehearsal_caption"),
    )


def function_view_html() -> str:
    """The lab's function as it is now, or how to make it."""
    configuration = functions.find_lab_function()
    if configuration is None:
        return box(t("functions.check_missing_function"), "warning")
    return function_html(configuration)


# The fields the network's checks read: a what-if about them alone asks nothing of IAM or Lambda.
NETWORK_FIELDS = ("vpc", "subnets", "security_groups")


def what_if_html(**values) -> str:
    """What the function form would say about ``values`` — checked only, nothing created. Only
    the network's checks when ``values`` are network settings alone (the other checks judge the
    defaults, already judged by the form above)."""
    model = FunctionForm()
    if set(values) <= set(NETWORK_FIELDS):
        network = model.completed(values, NETWORK_FIELDS)
        problems = model.network_problems(network)
    else:
        problems = model.check(model.completed(values))
    judged = render_problems(model, problems) or box(t("functions.what_if_fine"), "success")
    return judged + box(t("functions.what_if_nothing"), "info")
