"""The VPC of every profile: tiers, AZs, routes, NAT per mode, default SG, flow logs."""

from __future__ import annotations

import ipaddress

import pytest

from lib.profiles import PROFILES
from tests.conftest import Document, Synthesized, find_one, policy, ref, resources

# profile -> (NAT gateways, isolated database tier, flow-log destinations)
EXPECTED = {
    "web-mysql": (1, False, {"s3"}),
    "transactions-pg": (0, False, {"s3"}),
    "secure-platform": (3, False, {"s3", "cloud-watch-logs"}),
    "portal-cdn": (3, False, {"s3"}),
    "serverless-payments": (3, True, {"s3"}),
    "full": (3, True, {"s3", "cloud-watch-logs"}),
}


def region(profile: str) -> str:
    return PROFILES[profile].region


def subnets(doc: Document, tier: str) -> list[dict]:
    found = [s for s in resources(doc, "aws_subnet").values() if s["tags"]["Tier"] == tier]
    return sorted(found, key=lambda s: s["cidr_block"])


def route_tables(doc: Document, tier: str) -> dict[str, dict]:
    return {n: t for n, t in resources(doc, "aws_route_table").items() if n.startswith(f"foundation_network_{tier}_")}


def routes_of(doc: Document, table_name: str) -> list[dict]:
    token = ref(doc, "aws_route_table", table_name)
    return [r for r in resources(doc, "aws_route").values() if r["route_table_id"] == token]


def test_profiles_all_tested() -> None:
    assert set(EXPECTED) == set(PROFILES)


def test_vpc_has_dns_and_the_documented_cidr(doc: Document) -> None:
    (vpc,) = resources(doc, "aws_vpc").values()
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_three_subnets_per_tier_in_distinct_azs(doc: Document, profile: str) -> None:
    tiers = ["public", "private"] + (["database"] if EXPECTED[profile][1] else [])
    all_blocks = []
    for tier in tiers:
        found = subnets(doc, tier)
        assert len(found) == 3, tier
        zones = {s["availability_zone"] for s in found}
        assert len(zones) == 3, f"{tier} subnets share an AZ: {zones}"
        assert zones == {f"{region(profile)}{letter}" for letter in "abc"}
        all_blocks += [ipaddress.ip_network(s["cidr_block"]) for s in found]
    assert not EXPECTED[profile][1] or subnets(doc, "database")
    assert not any(a.overlaps(b) for i, a in enumerate(all_blocks) for b in all_blocks[i + 1 :])
    assert all(b.subnet_of(ipaddress.ip_network("10.0.0.0/16")) for b in all_blocks)
    if not EXPECTED[profile][1]:
        assert subnets(doc, "database") == []


def test_document_000_subnet_cidrs(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql")
    assert [s["cidr_block"] for s in subnets(doc, "public")] == ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
    assert [s["cidr_block"] for s in subnets(doc, "private")] == ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"]


def test_no_subnet_assigns_public_ips(doc: Document) -> None:
    assert all(s["map_public_ip_on_launch"] is False for s in resources(doc, "aws_subnet").values())


def test_nat_gateways_per_mode(doc: Document, profile: str) -> None:
    expected = EXPECTED[profile][0]
    nats = resources(doc, "aws_nat_gateway")
    assert len(nats) == expected
    assert len(resources(doc, "aws_eip")) == expected
    public_ids = {
        ref(doc, "aws_subnet", n) for n, s in resources(doc, "aws_subnet").items() if s["tags"]["Tier"] == "public"
    }
    assert {n["subnet_id"] for n in nats.values()} <= public_ids
    assert len({n["subnet_id"] for n in nats.values()}) == expected


def test_public_route_table_goes_to_the_internet_gateway(doc: Document) -> None:
    (name,) = route_tables(doc, "public")
    (route,) = routes_of(doc, name)
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["gateway_id"].startswith("${aws_internet_gateway.")


def test_private_route_tables_use_nat_only_when_nat_is_on(doc: Document, profile: str) -> None:
    tables = route_tables(doc, "private")
    assert len(tables) == 3
    nat_ids = {ref(doc, "aws_nat_gateway", n) for n in resources(doc, "aws_nat_gateway")}
    used = set()
    for name in tables:
        routes = routes_of(doc, name)
        if EXPECTED[profile][0] == 0:
            assert routes == []
        else:
            (route,) = routes
            assert route["destination_cidr_block"] == "0.0.0.0/0"
            assert route["nat_gateway_id"] in nat_ids
            used.add(route["nat_gateway_id"])
    # per_az: each AZ's private subnets leave through their own AZ's NAT gateway.
    assert len(used) == EXPECTED[profile][0]


def test_isolated_database_tier_has_own_tables_without_internet_route(doc: Document, profile: str) -> None:
    tables = route_tables(doc, "database")
    assert len(tables) == (3 if EXPECTED[profile][1] else 0)
    for name in tables:
        assert routes_of(doc, name) == []
        assert "route" not in tables[name] or tables[name]["route"] == []
    associated = {a["subnet_id"]: a["route_table_id"] for a in resources(doc, "aws_route_table_association").values()}
    for name, subnet in resources(doc, "aws_subnet").items():
        table = associated[ref(doc, "aws_subnet", name)]
        assert table.startswith(f"${{aws_route_table.foundation_network_{subnet['tags']['Tier']}_"), (name, table)


def test_default_security_group_is_stripped(doc: Document) -> None:
    (default_sg,) = resources(doc, "aws_default_security_group").values()
    assert default_sg["vpc_id"].startswith("${aws_vpc.")
    assert "ingress" not in default_sg and "egress" not in default_sg


def test_flow_logs_capture_all_traffic_to_the_profile_destinations(doc: Document, profile: str) -> None:
    flow_logs = resources(doc, "aws_flow_log").values()
    assert {f["log_destination_type"] for f in flow_logs} == EXPECTED[profile][2]
    for flow_log in flow_logs:
        assert flow_log["traffic_type"] == "ALL"
        assert flow_log["vpc_id"].startswith("${aws_vpc.")


def test_s3_flow_logs_go_to_the_flow_log_bucket_with_a_delivery_policy(doc: Document) -> None:
    _, flow_log = find_one(doc, "aws_flow_log", lambda _n, f: f["log_destination_type"] == "s3")
    assert flow_log["log_destination"] == ref(doc, "aws_s3_bucket", _bucket_name(doc, "flow_logs"), "arn")
    _, bucket_policy = find_one(
        doc, "aws_s3_bucket_policy", lambda n, _p: n.startswith("foundation_storage_flow_logs_policy")
    )
    sids = {s["Sid"]: s for s in policy(bucket_policy)["Statement"]}
    write = sids["LogDeliveryWrite"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == "${data.aws_caller_identity.current.account_id}"
    assert "DenyInsecureTransport" in sids


def _bucket_name(doc: Document, purpose: str) -> str:
    name, _ = find_one(doc, "aws_s3_bucket", lambda n, _b: n.startswith(f"foundation_storage_{purpose}_bucket"))
    return name


@pytest.mark.parametrize(("profile_name", "retention"), [("secure-platform", 30), ("full", 365)])
def test_cloudwatch_flow_logs_are_encrypted_retained_and_delivered_by_a_scoped_role(
    synthesized: Synthesized, profile_name: str, retention: int
) -> None:
    doc = synthesized(profile_name)
    ((group_name, group),) = [
        (n, g)
        for n, g in resources(doc, "aws_cloudwatch_log_group").items()
        if n.startswith("foundation_network_flow_log_group")
    ]
    assert group["retention_in_days"] == retention
    assert group["kms_key_id"] == ref(doc, "aws_kms_key", "foundation_keys_logs", "arn")
    _, flow_log = find_one(doc, "aws_flow_log", lambda _n, f: f["log_destination_type"] == "cloud-watch-logs")
    assert flow_log["log_destination"] == ref(doc, "aws_cloudwatch_log_group", group_name, "arn")
    (role,) = [r for n, r in resources(doc, "aws_iam_role").items() if n.startswith("foundation_network_flow_log_role")]
    trust = policy(role, "assume_role_policy")["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].endswith(":vpc-flow-log/*")
    _, role_policy = find_one(
        doc, "aws_iam_role_policy", lambda n, _p: n.startswith("foundation_network_flow_log_role_policy")
    )
    (statement,) = policy(role_policy)["Statement"]
    assert "*" not in statement["Resource"]
    group_arn = ref(doc, "aws_cloudwatch_log_group", group_name, "arn")
    assert all(r.startswith(group_arn) for r in statement["Resource"])
