"""The lab's invoker: the handler runs only where real Lambda could reach DynamoDB.

Every broken path ends exactly as on AWS: a timeout with the function's own timeout, or
DynamoDB's AccessDeniedException naming the policy that refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from helpers import chapter
from helpers.aws import endpoints, functions, invoker, networking, reachability
from helpers.aws.policy import PolicyKind, Refusal
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.core.settings import current
from helpers.core.tags import as_aws, lab_tags

TABLE = "note_tbl"
POST_NOTE = {
    "httpMethod": "POST",
    "resource": "/notes",
    "path": "/notes",
    "body": json.dumps({"id": "n1", "text": "hello from the private subnet"}),
}
LIST_NOTES = {"httpMethod": "GET", "resource": "/notes", "path": "/notes"}
TIMEOUT_SECONDS = 15


@dataclass
class Lab:
    network: networking.LabNetwork
    endpoint_id: str | None
    function_name: str
    role_name: str
    table_policy_name: str


def _trust() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def build_lab(timeout=TIMEOUT_SECONDS, endpoint=True) -> Lab:
    """Chapters 01–05 as the learner leaves them: the note app in the private subnet.

    The network and endpoint come from their chapters' own code; the role, table and
    function are made here directly (tagged as the lab tags them), so that these tests
    depend only on the contracts of those chapters."""
    chapter("01").catch_up({})
    if endpoint:
        chapter("02").catch_up({})
    network = networking.find_lab_network()
    region = current().region
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=as_aws(lab_tags("05", "table", TABLE)),
    )
    iam = client("iam")
    role = iam.create_role(
        RoleName="note-app-execution-role",
        Path=functions.IAM_PATH,
        AssumeRolePolicyDocument=_trust(),
        Tags=as_aws(lab_tags("04", "execution-role")),
    )["Role"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=functions.vpc_access_policy_arn())
    table_arn = f"arn:aws:dynamodb:{region}:123456789012:table/{TABLE}"
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="note-table",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": list(functions.TABLE_ACTIONS),
                        "Resource": table_arn,
                    }
                ],
            }
        ),
    )
    group = client("ec2").describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [network.vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    client("lambda").create_function(
        FunctionName="note-app",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler=functions.HANDLER,
        Code={"ZipFile": functions.deployment_package()},
        Timeout=timeout,
        MemorySize=512,
        Environment={
            "Variables": {"AWS_DYNAMO_TABLE_NAME_VALUE": TABLE, "AWS_REGION_VALUE": region}
        },
        VpcConfig={"SubnetIds": network.private_subnet_ids, "SecurityGroupIds": [group]},
        Tags=lab_tags("04", "function", "note-app"),
    )
    made = endpoints.find_lab_endpoint()
    return Lab(
        network, made["VpcEndpointId"] if made else None, "note-app", role["RoleName"], "note-table"
    )


@pytest.fixture
def lab(fresh_lab) -> Lab:
    return build_lab()


def _body(result: invoker.InvokeResult):
    assert result.ok, result.payload
    return json.loads(result.payload["body"])


def _assert_timed_out(result: invoker.InvokeResult, seconds: int = TIMEOUT_SECONDS):
    assert result.function_error == "Unhandled"
    assert result.error_message.endswith(f"Task timed out after {seconds:.2f} seconds")
    assert result.timed_out


def _assert_denied(result: invoker.InvokeResult, because: str, refusal: Refusal):
    """The handler caught DynamoDB's AccessDeniedException and answered 500 with it, and the
    verdict names the policy that refused (``refusal``: kind, explicit deny or no allow)."""
    assert result.ok  # the note app turns DynamoDB errors into an HTTP 500 answer
    assert result.payload["statusCode"] == 500
    body = json.loads(result.payload["body"])
    assert body["error"] == "AccessDeniedException"
    assert body["message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/note-app-execution-role/note-app "
        "is not authorized to perform: dynamodb:PutItem on resource: "
        f"arn:aws:dynamodb:{current().region}:123456789012:table/{TABLE}"
    )
    assert body["message"].endswith(because)
    assert result.verdict.failure.refusal == refusal


def _refusal(policy: PolicyKind, explicit: bool) -> Refusal:
    """The refusal of POST_NOTE's PutItem on the lab's table."""
    table = f"arn:aws:dynamodb:{current().region}:123456789012:table/{TABLE}"
    return Refusal(policy, explicit, "dynamodb:PutItem", table)


def test_reachable_function_stores_the_note_and_lists_it(lab):
    stored = invoker.invoke(None, POST_NOTE)
    assert stored.payload["statusCode"] == 201
    assert _body(stored)["id"] == "n1"
    assert stored.verdict.via == "endpoint"
    listed = _body(invoker.invoke("note-app", LIST_NOTES))
    assert listed == [{"id": "n1", "text": "hello from the private subnet"}]
    item = client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": "n1"}})["Item"]
    assert item["text"] == {"S": "hello from the private subnet"}
    # The log is Lambda's: START, the handler's own lines, END, REPORT — no Python warning
    # about how the lab started the sandbox.
    lines = stored.log.splitlines()
    assert lines[0].startswith("START RequestId:") and lines[-1].startswith("REPORT RequestId:")
    assert "Warning" not in stored.log


def test_without_an_endpoint_the_function_times_out_and_nothing_is_stored(fresh_lab):
    build_lab(endpoint=False)
    result = invoker.invoke(None, POST_NOTE)
    _assert_timed_out(result)
    route = result.verdict.hop("route")
    assert route.status == "failed"
    assert "No DynamoDB gateway endpoint in this VPC" in route.reason
    assert client("dynamodb").scan(TableName=TABLE)["Count"] == 0


def test_the_timeout_reported_is_the_functions_own(fresh_lab):
    build_lab(timeout=7)
    client("ec2").delete_vpc_endpoints(
        VpcEndpointIds=[endpoints.find_lab_endpoint()["VpcEndpointId"]]
    )
    _assert_timed_out(invoker.invoke(None, POST_NOTE), seconds=7)


def test_endpoint_on_the_wrong_route_table_times_out(lab):
    endpoints.set_route_tables(
        lab.endpoint_id,
        add=lab.network.public_route_table_ids,
        remove=lab.network.private_route_table_ids,
    )
    result = invoker.invoke(None, POST_NOTE)
    _assert_timed_out(result)
    route = result.verdict.hop("route")
    assert route.status == "failed"
    assert lab.network.private_route_table_ids[0] in route.reason
    assert lab.network.public_route_table_ids[0] in route.reason  # where the endpoint is


def test_endpoint_of_another_region_times_out(lab):
    ec2 = client("ec2")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    other = "us-west-2" if current().region != "us-west-2" else "eu-west-1"
    # AWS refuses this request (InvalidServiceName); moto accepts it and adds no route.
    made = ec2.create_vpc_endpoint(
        VpcId=lab.network.vpc_id,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{other}.dynamodb",
        RouteTableIds=lab.network.private_route_table_ids,
    )
    result = invoker.invoke(None, POST_NOTE)
    _assert_timed_out(result)
    assert f"com.amazonaws.{other}.dynamodb" in result.verdict.hop("route").reason
    assert made["VpcEndpoint"]["VpcEndpointId"] in result.verdict.hop("route").reason


def test_deleted_endpoint_leaves_no_way_out(lab):
    assert invoker.invoke(None, LIST_NOTES).ok
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    result = invoker.invoke(None, LIST_NOTES)
    _assert_timed_out(result)
    assert result.verdict.via is None
    assert result.verdict.hop("endpoint").status == "skipped"


def test_endpoint_policy_deny_is_named(lab):
    endpoints.set_policy(
        lab.endpoint_id,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": "*"},
            ],
        },
    )
    result = invoker.invoke(None, POST_NOTE)
    _assert_denied(
        result,
        "with an explicit deny in a VPC endpoint policy",
        _refusal(PolicyKind.ENDPOINT, explicit=True),
    )
    assert result.verdict.hop("endpoint_policy").status == "failed"
    assert _body(invoker.invoke(None, LIST_NOTES)) == []  # Scan is still allowed


def test_endpoint_policy_without_an_allow_is_named(lab):
    endpoints.set_policy(
        lab.endpoint_id,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:Scan", "Resource": "*"}
            ],
        },
    )
    _assert_denied(
        invoker.invoke(None, POST_NOTE),
        "because no VPC endpoint policy allows the dynamodb:PutItem action",
        _refusal(PolicyKind.ENDPOINT, explicit=False),
    )


def test_role_without_the_permission_is_named(lab):
    client("iam").put_role_policy(
        RoleName=lab.role_name,
        PolicyName=lab.table_policy_name,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}],
            }
        ),
    )
    result = invoker.invoke(None, POST_NOTE)
    _assert_denied(
        result,
        "because no identity-based policy allows the dynamodb:PutItem action",
        _refusal(PolicyKind.IDENTITY, explicit=False),
    )
    assert result.verdict.hop("role").status == "failed"
    assert result.verdict.hop("endpoint_policy").status == "ok"


def test_role_without_vpc_access_cannot_be_invoked(lab):
    client("iam").detach_role_policy(
        RoleName=lab.role_name, PolicyArn=functions.vpc_access_policy_arn()
    )
    with pytest.raises(LabError) as refused:
        invoker.invoke(None, POST_NOTE)
    assert refused.value.code == "EC2AccessDeniedException"
    assert "ec2:CreateNetworkInterface" in refused.value.message
    assert reachability.explain().failure.refusal == Refusal(
        PolicyKind.IDENTITY, False, "ec2:CreateNetworkInterface", "*"
    )


def test_a_request_the_app_refuses_needs_no_network(lab):
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[lab.endpoint_id])
    result = invoker.invoke(
        None, {"httpMethod": "POST", "resource": "/notes", "path": "/notes", "body": "not json"}
    )
    assert result.payload["statusCode"] == 400  # answered before any DynamoDB call


def test_the_deployed_code_runs_not_the_repos(lab):
    deployed = (
        "def lambda_handler(event, context):\n"
        "    return {'statusCode': 200, 'body': 'deployed version'}\n"
    )
    client("lambda").update_function_code(
        FunctionName=lab.function_name, ZipFile=_zip("handler.py", deployed)
    )
    result = invoker.invoke(None, LIST_NOTES)
    assert result.payload == {"statusCode": 200, "body": "deployed version"}


def test_unknown_function_is_refused_like_lambda(fresh_lab):
    with pytest.raises(LabError) as refused:
        invoker.invoke("no-such-function", LIST_NOTES)
    assert refused.value.code == "ResourceNotFoundException"


def _zip(name: str, text: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()
