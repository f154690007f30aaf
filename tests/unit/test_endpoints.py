"""VPC endpoints: gateways on private and database route tables; interface endpoints private-only."""

from __future__ import annotations

from tests.conftest import Document, policy, ref, resources

COMMON = {"secretsmanager", "kms", "logs", "monitoring", "sts"}
ALL = COMMON | {"ssm", "sqs", "events", "xray", "lambda"}
# Profiles with instances also get GuardDuty's agent endpoint (the baseline runs GuardDuty).
AGENT = {"guardduty-data"}
EXPECTED_INTERFACES = {
    "web-mysql": COMMON | AGENT,
    "transactions-pg": COMMON,
    "secure-platform": ALL | AGENT,
    "portal-cdn": COMMON | {"ssm"} | AGENT,
    "serverless-payments": COMMON | {"ssm", "xray", "sqs", "events", "lambda"} | AGENT,
    "full": ALL | AGENT,
}


def endpoints(doc: Document, kind: str) -> dict[str, dict]:
    found = {}
    for endpoint in resources(doc, "aws_vpc_endpoint").values():
        if endpoint["vpc_endpoint_type"] == kind:
            found[endpoint["service_name"].rsplit(".", 1)[1]] = endpoint
    return found


def test_gateway_endpoints_serve_every_private_and_database_route_table(doc: Document) -> None:
    gateways = endpoints(doc, "Gateway")
    assert set(gateways) == {"s3", "dynamodb"}
    tables = {
        ref(doc, "aws_route_table", n)
        for n in resources(doc, "aws_route_table")
        if n.startswith(("foundation_network_private_", "foundation_network_database_"))
    }
    for gateway in gateways.values():
        assert set(gateway["route_table_ids"]) == tables


def test_interface_endpoints_per_profile_with_private_dns_in_private_subnets(doc: Document, profile: str) -> None:
    interfaces = endpoints(doc, "Interface")
    assert set(interfaces) == EXPECTED_INTERFACES[profile]
    private = {
        ref(doc, "aws_subnet", n) for n, s in resources(doc, "aws_subnet").items() if s["tags"]["Tier"] == "private"
    }
    (sg_name,) = [n for n in resources(doc, "aws_security_group") if n.startswith("foundation_endpoints_")]
    for service, endpoint in interfaces.items():
        assert endpoint["private_dns_enabled"] is True, service
        assert set(endpoint["subnet_ids"]) == private
        assert endpoint["security_group_ids"] == [ref(doc, "aws_security_group", sg_name)]
        assert endpoint["service_name"].startswith("com.amazonaws.")


def test_endpoint_security_group_admits_only_https_from_the_vpc(doc: Document) -> None:
    ((sg_name, sg),) = [
        (n, g) for n, g in resources(doc, "aws_security_group").items() if n.startswith("foundation_endpoints_")
    ]
    assert "ingress" not in sg and "egress" not in sg
    token = ref(doc, "aws_security_group", sg_name)
    rules = [
        r for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == token
    ]
    (cidr_rule,) = [r for r in rules if "cidr_ipv4" in r]
    assert (cidr_rule["ip_protocol"], cidr_rule["from_port"], cidr_rule["to_port"]) == ("tcp", 443, 443)
    assert cidr_rule["cidr_ipv4"] == "10.0.0.0/16"
    # Any other rule admits a workload SG on 443 only (e.g. the rotation function).
    assert all(
        r["from_port"] == r["to_port"] == 443 and "referenced_security_group_id" in r
        for r in rules
        if r is not cidr_rule
    )
    assert not [
        r for r in resources(doc, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == token
    ]


def test_every_endpoint_admits_only_this_accounts_principals_and_resources(doc: Document) -> None:
    account = "${data.aws_caller_identity.current.account_id}"
    for service, endpoint in {**endpoints(doc, "Gateway"), **endpoints(doc, "Interface")}.items():
        statement, *others = policy(endpoint)["Statement"]
        # The one addition: S3's endpoint lets instances read Amazon Linux's package repositories.
        assert [o["Sid"] for o in others] == (["AmazonLinuxRepositories"] if service == "s3" and others else [])
        condition = statement["Condition"]["StringEquals"]
        assert condition["aws:PrincipalAccount"] == account, service
        # Calls without a resource (metrics, traces, GetCallerIdentity, the GuardDuty agent's
        # telemetry) carry no resource account.
        no_resource = {"monitoring", "sts", "xray", "guardduty-data"}
        expected_resource_account = None if service in no_resource else account
        assert condition.get("aws:ResourceAccount") == expected_resource_account, service
        prefix = {"monitoring": "cloudwatch", "guardduty-data": "guardduty"}.get(service, service)
        assert statement["Action"] == f"{prefix}:*"
