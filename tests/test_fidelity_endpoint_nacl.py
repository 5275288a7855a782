"""Fidelity to AWS, issue 9 points 5 and 6: DynamoDB interface endpoints in chapter 02's form,
and network ACL verdicts judged over port and address ranges in rule-number order.

Each test names the AWS documentation page (or the error AWS returns) that it holds the lab to.
"""

from __future__ import annotations

import pytest
from test_invoker import build_lab

from helpers import chapter
from helpers.aws import endpoints, networking, reachability
from helpers.aws.endpoints import EndpointRequest, EndpointService
from helpers.core import tags
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.views.forms.endpoint import EndpointForm, EndpointFormView

DYNAMODB = "com.amazonaws.us-east-1.dynamodb"
S3 = "com.amazonaws.us-east-1.s3"
SQS = "com.amazonaws.us-east-1.sqs"


@pytest.fixture
def network(fresh_lab):
    chapter("01").catch_up({})
    return networking.find_lab_network()


def alive_endpoints() -> list[dict]:
    return [
        e
        for e in client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"].lower() not in endpoints.GONE_STATES
    ]


# --- point 5: DynamoDB (and S3) as Gateway and Interface endpoints -----------------------------
def test_dynamodb_and_s3_are_listed_with_both_endpoint_types_once(fresh_lab):
    """DynamoDB Developer Guide, "AWS PrivateLink for DynamoDB" (Types of Amazon VPC endpoints
    for Amazon DynamoDB: gateway endpoints and interface endpoints; PrivateLink for DynamoDB
    does not support private DNS); Amazon S3 User Guide, "AWS PrivateLink for Amazon S3".
    The embedded backend lists DynamoDB as Gateway only."""
    services = endpoints.endpoint_services()
    names = [s.name for s in services]
    assert names.count(DYNAMODB) == 1 and names.count(S3) == 1
    dynamodb = endpoints.find_service(DYNAMODB)
    assert dynamodb.types == ("Gateway", "Interface")
    assert dynamodb.private_dns is False
    s3 = endpoints.find_service(S3)
    assert s3.types == ("Gateway", "Interface") and s3.private_dns is True
    assert endpoints.find_service(SQS).types == ("Interface",)


@pytest.mark.nobackend
def test_a_backend_listing_both_types_is_left_as_it_is_and_a_missing_type_is_added():
    """DynamoDB Developer Guide, "AWS PrivateLink for DynamoDB"; Amazon S3 User Guide, "AWS
    PrivateLink for Amazon S3": both services offer Gateway and Interface endpoints. On AWS,
    DescribeVpcEndpointServices lists both already: nothing is added twice."""
    as_on_aws = {
        DYNAMODB: EndpointService(DYNAMODB, "amazon", ("Gateway", "Interface"), False),
        S3: EndpointService(S3, "amazon", ("Gateway", "Interface"), True),
    }
    before = dict(as_on_aws)
    endpoints._with_both_types(as_on_aws, "us-east-1")
    assert as_on_aws == before
    one_type_each = {
        DYNAMODB: EndpointService(DYNAMODB, "amazon", ("Gateway",)),
        S3: EndpointService(S3, "amazon", ("Interface",), True),
    }
    endpoints._with_both_types(one_type_each, "us-east-1")
    assert one_type_each[DYNAMODB] == EndpointService(
        DYNAMODB, "amazon", ("Gateway", "Interface"), False
    )
    assert one_type_each[S3] == EndpointService(S3, "amazon", ("Gateway", "Interface"), True)


def test_interface_endpoint_to_dynamodb_is_created_through_the_form(network):
    """DynamoDB Developer Guide, "AWS PrivateLink for DynamoDB": `aws ec2 create-vpc-endpoint
    --service-name com.amazonaws.us-east-1.dynamodb --vpc-endpoint-type Interface` with subnets
    and security groups, no private DNS; in-VPC applications using the default Regional
    DynamoDB name keep going through the gateway endpoint ("Using gateway endpoints and
    interface endpoints together in the same Amazon VPC to access DynamoDB")."""
    form = EndpointForm()
    group = client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}]
    )["SecurityGroups"][0]["GroupId"]
    result = form.submit(
        service=DYNAMODB,
        endpoint_type="Interface",
        subnets=network.private_subnet_ids,
        security_groups=[group],
        confirm_cost=True,
    )
    assert result.ok and result.created, result.problems
    made = result.resource
    assert made["ServiceName"] == DYNAMODB and made["VpcEndpointType"] == "Interface"
    assert made["SubnetIds"] == network.private_subnet_ids
    assert made["PrivateDnsEnabled"] is False  # the form's ticked default is not sent
    not_used = "endpoints.interface_not_used_by_note_app"
    (warning,) = [w for w in result.warnings if w.code == not_used]
    assert "dynamodb.us-east-1.amazonaws.com" in warning.message
    assert "Gateway endpoint" in warning.message
    # It is not the lab's gateway endpoint: the chapters still find (and make) that one.
    assert tags.from_aws(made["Tags"])[tags.ROLE_KEY] == endpoints.OTHER_SERVICE_ROLE
    assert endpoints.find_lab_endpoint() is None
    gateway = form.submit()
    assert gateway.ok and gateway.created
    assert gateway.resource["VpcEndpointType"] == "Gateway"
    assert endpoints.find_lab_endpoint()["VpcEndpointId"] == gateway.resource["VpcEndpointId"]
    assert len(alive_endpoints()) == 2


def test_private_dns_on_a_dynamodb_interface_endpoint_is_refused_as_aws_refuses_it(network):
    """DynamoDB Developer Guide, "AWS PrivateLink for DynamoDB" (Considerations: PrivateLink for
    DynamoDB does not support "Private and Hybrid Domain Name System (DNS) services"); AWS's
    answer to PrivateDnsEnabled for a service without a private DNS name: InvalidParameter,
    "Private DNS can't be enabled because the service … does not provide a private DNS name."
    moto creates such an endpoint anyway."""
    request = EndpointRequest(
        vpc_id=network.vpc_id,
        service_name=DYNAMODB,
        endpoint_type="Interface",
        subnet_ids=network.private_subnet_ids,
        private_dns=True,
        cost_confirmed=True,
    )
    with pytest.raises(LabError) as refused:
        endpoints.create_endpoint(request, progress=lambda _message: None)
    assert refused.value.code == "InvalidParameter"
    assert refused.value.field == "private_dns"
    assert "does not provide a private DNS name" in str(refused.value)
    assert alive_endpoints() == []
    # A service that has a private DNS name (SQS) may have it.
    sqs = EndpointRequest(**{**request.__dict__, "service_name": SQS})
    assert not [p for p in endpoints.refusals(sqs) if p.field == "private_dns"]


def test_view_lists_dynamodb_as_interface_and_hides_private_dns_for_it(network):
    """AWS PrivateLink Guide console flow ("Create an interface endpoint": Enable DNS name is
    offered for services with a private DNS name) and DynamoDB Developer Guide, "AWS
    PrivateLink for DynamoDB" (no private DNS for DynamoDB interface endpoints)."""
    view = EndpointFormView()
    view.set(service_search="dynamo", service_type_filter="Interface")
    assert [value for _, value in view.controls["service"].options] == [DYNAMODB]
    view.set(service=DYNAMODB)
    view.set(endpoint_type="Interface")
    assert view.values()["endpoint_type"] == "Interface"
    assert view.controls["subnets"].layout.display is None
    assert view.controls["security_groups"].layout.display is None
    assert view.controls["private_dns"].layout.display == "none"
    view.set(service_search="sqs")
    view.set(service=SQS)
    assert view.values()["endpoint_type"] == "Interface"
    assert view.controls["private_dns"].layout.display is None


# --- point 6: network ACL verdicts over ranges, in rule-number order ---------------------------
DYNAMODB_CIDR = "3.218.180.0/22"


def entry(number, action, *, egress=False, protocol="6", ports=None, cidr="0.0.0.0/0") -> dict:
    found = {
        "RuleNumber": number,
        "RuleAction": action,
        "Egress": egress,
        "Protocol": protocol,
        "CidrBlock": cidr,
    }
    if ports:
        found["PortRange"] = {"From": ports[0], "To": ports[1]}
    return found


def answers(entries) -> reachability.AclVerdict:
    return reachability.acl_verdict(
        entries, False, DYNAMODB_CIDR, reachability.LAMBDA_EPHEMERAL_PORTS
    )


@pytest.mark.nobackend
def test_linux_ephemeral_range_leaves_most_of_lambdas_ports_dropped():
    """Amazon VPC User Guide, "Ephemeral ports": "AWS Lambda functions use ports 1024-65535"
    (Linux kernels use 32768-61000). The old check tested only 32768 and 60999 and passed."""
    assert reachability.LAMBDA_EPHEMERAL_PORTS == (1024, 65535)
    linux_only = answers([entry(100, "allow", ports=(32768, 60999))])
    assert linux_only.allowed and linux_only.dropped
    assert linux_only.dropped_ports == "1024–32767, 61000–65535"
    full = answers([entry(100, "allow", ports=(1024, 65535))])
    assert full.allowed and not full.dropped
    nothing = answers([entry(100, "allow", ports=(443, 443))])
    assert not nothing.allowed and nothing.dropped_ports == "1024–65535"


@pytest.mark.nobackend
def test_rules_are_taken_in_rule_number_order_and_the_first_match_decides():
    """Amazon VPC User Guide, "Network ACL rules": "Rules are evaluated starting with the lowest
    numbered rule. As soon as a rule matches traffic, it's applied regardless of any
    higher-numbered rule that might contradict it." Entries arrive unsorted."""
    deny_first = answers(
        [entry(200, "allow", ports=(1024, 65535)), entry(100, "deny", ports=(5000, 5001))]
    )
    assert deny_first.dropped_ports == "5000–5001" and deny_first.allowed
    allow_first = answers(
        [entry(100, "allow", ports=(1024, 65535)), entry(200, "deny", ports=(5000, 5001))]
    )
    assert not allow_first.dropped
    # Allowing rules may add up to the whole range, in pieces, before the deny.
    pieces = answers(
        [
            entry(100, "allow", ports=(1024, 40000)),
            entry(110, "allow", ports=(40001, 65535)),
            entry(120, "deny", protocol="-1"),
        ]
    )
    assert not pieces.dropped
    # A deny for another network (not DynamoDB's) does not matter.
    elsewhere = answers(
        [entry(90, "deny", cidr="10.0.0.0/8"), entry(100, "allow", ports=(1024, 65535))]
    )
    assert not elsewhere.dropped


@pytest.mark.nobackend
def test_protocol_all_covers_every_port_and_udp_covers_no_tcp():
    """EC2 API Reference, NetworkAclEntry: "The protocol number. A value of "-1" means all
    protocols"; TCP is protocol 6, and a port range applies to TCP or UDP only."""
    assert not answers([entry(100, "allow", protocol="-1", ports=(53, 53))]).dropped
    udp = answers([entry(100, "allow", protocol="17", ports=(1024, 65535))])
    assert not udp.allowed and udp.dropped_ports == "1024–65535"
    denied_all = answers([entry(50, "deny", protocol="-1"), entry(100, "allow", protocol="-1")])
    assert not denied_all.allowed


@pytest.mark.nobackend
def test_outbound_https_is_judged_over_every_address_of_dynamodbs_cidr():
    """Amazon VPC User Guide, "Network ACL rules" (first match in rule-number order) and
    "Gateway endpoints for Amazon DynamoDB" (the network ACL must allow traffic to and from
    DynamoDB; prefix lists cannot be referenced, so rules name its CIDRs)."""
    part = "3.218.181.0/24"
    partly = reachability.acl_verdict(
        [
            entry(90, "deny", egress=True, ports=(443, 443), cidr=part),
            entry(100, "allow", egress=True, protocol="-1"),
        ],
        True,
        DYNAMODB_CIDR,
        (443, 443),
    )
    assert partly.allowed and partly.dropped_addresses == part
    wrong_port = reachability.acl_verdict(
        [entry(100, "allow", egress=True, ports=(80, 80))], True, DYNAMODB_CIDR, (443, 443)
    )
    assert not wrong_port.allowed and wrong_port.dropped_addresses == DYNAMODB_CIDR


def _private_subnets_acl(lab, ingress_ports) -> None:
    """Give the function's subnets a new ACL: all out; TCP ``ingress_ports`` in."""
    ec2 = client("ec2")
    acl_id = ec2.create_network_acl(VpcId=lab.network.vpc_id)["NetworkAcl"]["NetworkAclId"]
    for egress, protocol, ports in ((True, "-1", None), (False, "6", ingress_ports)):
        ec2.create_network_acl_entry(
            NetworkAclId=acl_id,
            RuleNumber=100,
            Protocol=protocol,
            RuleAction="allow",
            Egress=egress,
            CidrBlock="0.0.0.0/0",
            **({"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}),
        )
    for subnet_id in lab.network.private_subnet_ids:
        current = ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
        )["NetworkAcls"][0]
        association = next(a for a in current["Associations"] if a["SubnetId"] == subnet_id)
        ec2.replace_network_acl_association(
            AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id
        )


def test_an_acl_open_only_to_linux_ports_breaks_the_path_and_says_why(fresh_lab):
    """Amazon VPC User Guide, "Ephemeral ports" ("AWS Lambda functions use ports 1024-65535")
    and "Network ACL rules": an inbound rule for 32768-60999 leaves answers to Lambda's other
    ports dropped, so the call waits until the function's timeout."""
    lab = build_lab()
    _private_subnets_acl(lab, (32768, 60999))
    verdict = reachability.explain()
    hop = verdict.hop("firewall")
    assert hop.status == "failed"
    assert "1024–32767, 61000–65535" in hop.reason and "some answers may be dropped" in hop.reason
    assert verdict.failure.kind == "timeout"
    _private_subnets_acl(lab, (1024, 65535))
    assert reachability.explain().hop("firewall").status == "ok"
