"""The backend's memory (issue 12, "Smaller backend"): moto's endpoint-service list is built in
a short-lived child process, so the long-lived backend never imports the services moto asks
for it (CloudFormation, SageMaker, Route 53 Resolver, IoT…), and its answer stays moto's.

These are facts about the lab's moto server, not about AWS: the reference for
``DescribeVpcEndpointServices`` is moto's own answer, computed in this test's process by
moto's unchanged code. Its ``ServiceId`` values are random per process (moto's
``vpce-svc-`` + a random number, also in some DNS names), so they are compared by form only.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

import helpers
from helpers.core import backend
from helpers.core.backend_process import naming_hook

LAB_REGION = "us-east-1"
OTHER_REGION = "ap-southeast-1"
CLASS_LEARNER_ACCOUNT = "210987654321"
# moto's services that answer only for the endpoint-service list, none of which the lab uses
SERVICES_ONLY_FOR_THE_LIST = (
    "moto.cloudformation",
    "moto.sagemaker",
    "moto.route53resolver",
    "moto.iot",
    "moto.codepipeline",
    "moto.redshiftdata",
    "moto.firehose",
)
SERVICE_ID = re.compile(r"^vpce-svc-[0-9a-f]{17}$")
SERVICE_ID_ANYWHERE = re.compile(r"vpce-svc-[0-9a-f]{17}")


def backend_ec2(region: str, account: str | None = None):
    running = backend.start()
    client = boto3.session.Session(region_name=region, **running.keys).client(
        "ec2", endpoint_url=running.url
    )
    if account:  # as a class backend's learner is served: from their own account
        client.meta.events.register("before-sign", naming_hook(account))
    return client


def moto_own_ec2(region: str):
    return boto3.client(
        "ec2",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def services_without_ids(answer: dict) -> tuple[list, list]:
    """The answer's names and details, each random service id (also in DNS names) made one."""
    details = answer["ServiceDetails"]
    for service in details:
        assert SERVICE_ID.match(service["ServiceId"]), service["ServiceId"]
    details_as_one = SERVICE_ID_ANYWHERE.sub("vpce-svc-…", json.dumps(details))
    return answer["ServiceNames"], json.loads(details_as_one)


def loaded_modules() -> list[str]:
    running = backend.start()
    return backend.server_info(running.url, running.keys, timeout=backend.BUSY_SERVER_SECONDS)[
        "modules"
    ]


def test_backend_after_chapters_01_02_holds_no_service_asked_only_for_the_list(fresh_lab):
    """After chapters 01-02 (the VPC, then the endpoint, which reads the service list), the
    backend has moto's EC2 and the lab's services, and none of those that moto's list asks."""
    helpers.chapter("03").catch_up_earlier()
    assert backend_ec2(LAB_REGION).describe_vpc_endpoints()["VpcEndpoints"]  # chapter 02's

    modules = loaded_modules()
    assert {"moto.ec2", "moto.dynamodb", "moto.iam"} <= set(modules)
    assert not set(SERVICES_ONLY_FOR_THE_LIST) & set(modules)
    # API Gateway's OpenAPI validator without jsonschema's "iri" grammar (lark)
    assert "moto.apigateway" in modules
    assert "lark" not in modules
    # The lab's chapters, forms and widgets are the kernel's, never the backend's.
    assert not {"helpers.chapters", "helpers.views", "ipywidgets"} & set(modules)


@pytest.mark.parametrize("region", [LAB_REGION, OTHER_REGION])
def test_endpoint_services_are_moto_own_list(fresh_lab, region):
    """The whole list, for the lab's region and a region the backend had not warmed, is the
    one moto computes itself (names, types, zones, DNS names, policies, in order)."""
    served = services_without_ids(backend_ec2(region).describe_vpc_endpoint_services())
    with mock_aws():
        expected = services_without_ids(moto_own_ec2(region).describe_vpc_endpoint_services())

    assert served == expected
    assert f"com.amazonaws.{region}.dynamodb" in served[0]
    assert len(served[0]) > 200  # the whole default list (moto 5.2: 256), not a few services


def test_endpoint_services_filters_and_accounts_are_moto_own(fresh_lab):
    """A filtered question (the lab's: DynamoDB's gateway service) gets moto's answer, and a
    second account (a class backend's learner) gets the same list as the first."""
    service = f"com.amazonaws.{LAB_REGION}.dynamodb"
    question = {
        "ServiceNames": [service],
        "Filters": [{"Name": "service-type", "Values": ["Gateway"]}],
    }
    owner, learner = backend_ec2(LAB_REGION), backend_ec2(LAB_REGION, CLASS_LEARNER_ACCOUNT)
    served = services_without_ids(owner.describe_vpc_endpoint_services(**question))
    with mock_aws():
        expected = services_without_ids(
            moto_own_ec2(LAB_REGION).describe_vpc_endpoint_services(**question)
        )

    assert served == expected
    assert served[0] == [service]
    learner_list = learner.describe_vpc_endpoint_services()
    assert services_without_ids(learner_list) == services_without_ids(
        owner.describe_vpc_endpoint_services()
    )
