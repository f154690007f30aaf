"""Route 53 (document 002): a signed, query-logged zone, and failover to a maintenance page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.edge.dns import MAINTENANCE_PAGE
from tests.conftest import SUFFIX, Document, Synthesized, address_name, name_prefix, policy, ref, resources
from tests.unit.test_edge_compute import FAILOVER


def failover_profile(profile: str) -> None:
    if profile not in FAILOVER:
        pytest.skip(f"{profile}: its document has no Route 53 failover")


def domain(profile: str) -> str:
    return f"{name_prefix(profile)}-{SUFFIX}.example.com"


def test_only_document_002_creates_a_zone_and_failover(doc: Document, profile: str) -> None:
    assert bool(resources(doc, "aws_route53_zone")) is (profile in FAILOVER)
    assert bool(resources(doc, "aws_route53_health_check")) is (profile in FAILOVER)


def test_a_created_zone_is_signed_with_a_us_east_1_key(doc: Document, profile: str) -> None:
    failover_profile(profile)
    assert resources(doc, "aws_route53_zone")["edge_hosted_zone"]["name"] == domain(profile)
    key = resources(doc, "aws_kms_key")["edge_hosted_zone_signing_key"]
    assert (key["customer_master_key_spec"], key["key_usage"], key["provider"]) == (
        "ECC_NIST_P256",
        "SIGN_VERIFY",
        "aws.us_east_1",
    )
    statements = {s["Sid"]: s for s in policy(key)["Statement"]}
    sign = statements["Route53DnssecSigns"]
    assert sign["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}
    assert sign["Action"] == ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
    assert "aws:SourceAccount" in sign["Condition"]["StringEquals"]
    assert statements["Route53DnssecGrants"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    signing = resources(doc, "aws_route53_key_signing_key")["edge_hosted_zone_key_signing_key"]
    assert signing["status"] == "ACTIVE"
    assert signing["key_management_service_arn"] == ref(doc, "aws_kms_key", "edge_hosted_zone_signing_key", "arn")
    dnssec = resources(doc, "aws_route53_hosted_zone_dnssec")["edge_hosted_zone_dnssec"]
    signing_address = address_name(doc, "aws_route53_key_signing_key", "edge_hosted_zone_key_signing_key")
    assert dnssec["depends_on"] == [f"aws_route53_key_signing_key.{signing_address}"]


def test_a_created_zone_logs_its_queries_encrypted_for_a_year(doc: Document, profile: str) -> None:
    failover_profile(profile)
    group = resources(doc, "aws_cloudwatch_log_group")["edge_hosted_zone_query_log_group"]
    assert group["name"] == f"/aws/route53/{domain(profile)}" and group["provider"] == "aws.us_east_1"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"] == ref(doc, "aws_kms_key", "edge_hosted_zone_query_log_key", "arn")
    key = resources(doc, "aws_kms_key")["edge_hosted_zone_query_log_key"]
    assert key["enable_key_rotation"] is True and key["provider"] == "aws.us_east_1"
    resource_policy = resources(doc, "aws_cloudwatch_log_resource_policy")["edge_hosted_zone_query_log_policy"]
    (write,) = json.loads(resource_policy["policy_document"])["Statement"]
    assert write["Principal"] == {"Service": "route53.amazonaws.com"}
    assert write["Resource"].endswith(f":log-group:/aws/route53/{domain(profile)}:*")
    assert ":logs:us-east-1:" in write["Resource"]
    query_log = resources(doc, "aws_route53_query_log")["edge_hosted_zone_query_log"]
    assert query_log["cloudwatch_log_group_arn"] == ref(
        doc, "aws_cloudwatch_log_group", "edge_hosted_zone_query_log_group", "arn"
    )
    assert len(query_log["depends_on"]) == 1 and "aws_cloudwatch_log_resource_policy" in query_log["depends_on"][0]


def records(doc: Document) -> dict[str, dict[str, Any]]:
    return {
        path.removeprefix("edge_failover_"): record
        for path, record in resources(doc, "aws_route53_record").items()
        if path.startswith("edge_failover_")
    }


def test_failover_records_primary_the_load_balancer_secondary_the_maintenance_page(doc: Document, profile: str) -> None:
    failover_profile(profile)
    found = records(doc)
    assert set(found) == {"primary", "secondary"}
    assert "edge_alias" not in resources(doc, "aws_route53_record")  # failover replaces the plain alias
    for role, record in found.items():
        assert (record["name"], record["type"], record["set_identifier"]) == (domain(profile), "A", role)
        assert record["failover_routing_policy"] == {"type": role.upper()}
        assert record["health_check_id"] == ref(doc, "aws_route53_health_check", f"edge_failover_{role}_health")
    assert found["primary"]["alias"]["name"] == ref(doc, "aws_lb", "edge_load_balancer", "dns_name")
    maintenance = ref(doc, "aws_cloudfront_distribution", "edge_failover_maintenance_distribution", "domain_name")
    assert found["secondary"]["alias"] == {
        "name": maintenance,
        "zone_id": "Z2FDTNDATAQYW2",
        "evaluate_target_health": False,
    }


def test_the_primary_is_healthy_while_a_target_group_has_a_healthy_instance(doc: Document, profile: str) -> None:
    failover_profile(profile)
    check = resources(doc, "aws_route53_health_check")["edge_failover_primary_health"]
    alarm = resources(doc, "aws_cloudwatch_metric_alarm")["edge_failover_healthy_hosts"]
    assert check["type"] == "CLOUDWATCH_METRIC" and check["cloudwatch_alarm_region"] == "us-east-1"
    assert check["cloudwatch_alarm_name"] == ref(
        doc, "aws_cloudwatch_metric_alarm", "edge_failover_healthy_hosts", "alarm_name"
    )
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["treat_missing_data"]) == (
        "LessThanThreshold",
        1,
        "breaching",
    )
    metrics = [q for q in alarm["metric_query"] if "metric" in q]
    groups = {ref(doc, "aws_lb_target_group", f"edge_load_balancer_target_group_{c}", "arn_suffix") for c in ["web"]}
    assert {q["metric"]["dimensions"]["TargetGroup"] for q in metrics} == groups
    assert all(q["metric"]["metric_name"] == "HealthyHostCount" for q in metrics)
    (total,) = [q for q in alarm["metric_query"] if "expression" in q]
    assert total["expression"] == " + ".join(q["id"] for q in metrics) and total["return_data"] is True


def test_the_secondary_is_checked_over_https(doc: Document, profile: str) -> None:
    failover_profile(profile)
    check = resources(doc, "aws_route53_health_check")["edge_failover_secondary_health"]
    assert (check["type"], check["port"], check["resource_path"], check["enable_sni"]) == (
        "HTTPS",
        443,
        "/maintenance.html",
        True,
    )
    assert (check["request_interval"], check["failure_threshold"]) == (30, 3)
    assert check["fqdn"] == ref(
        doc, "aws_cloudfront_distribution", "edge_failover_maintenance_distribution", "domain_name"
    )


def test_the_maintenance_page_is_private_behind_https_and_the_cloudfront_waf(doc: Document, profile: str) -> None:
    failover_profile(profile)
    page = resources(doc, "aws_s3_object")["edge_failover_maintenance_page"]
    assert page["content"] == MAINTENANCE_PAGE.read_text() and page["content_type"].startswith("text/html")
    assert "<script" not in page["content"]  # the restrictive CSP allows no inline script
    assert page["server_side_encryption"] == "aws:kms"
    distribution = resources(doc, "aws_cloudfront_distribution")["edge_failover_maintenance_distribution"]
    assert distribution["aliases"] == [domain(profile)]
    assert distribution["default_root_object"] == "maintenance.html"
    assert distribution["web_acl_id"] == ref(doc, "aws_wafv2_web_acl", "edge_cdn_firewall_web_acl", "arn")
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == ref(
        doc, "aws_acm_certificate_validation", "edge_cdn_certificate_validation", "certificate_arn"
    )
    assert [(e["error_code"], e["response_code"]) for e in distribution["custom_error_response"]] == [
        (403, 503),
        (404, 503),
    ]
    assert distribution["logging_config"]["bucket"] == ref(
        doc, "aws_s3_bucket", "edge_cdn_logs_bucket", "bucket_domain_name"
    )
    (origin,) = distribution["origin"]
    assert origin["origin_access_control_id"] == ref(
        doc, "aws_cloudfront_origin_access_control", "edge_failover_maintenance_maintenance_access"
    )
    assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "redirect-to-https"


def test_a_configured_secondary_replaces_the_maintenance_page(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "dr.toml"
    config.write_text(
        '[edge.failover]\nsecondary_dns_name = "dr-alb.eu-west-1.elb.amazonaws.com"\n'
        'secondary_zone_id = "Z32O12XQLNTSW2"\nsecondary_health_check_path = "/status"\n'
    )
    doc = synthesized("secure-platform", TAP_CONFIG=str(config))
    assert "edge_failover_maintenance_distribution" not in resources(doc, "aws_cloudfront_distribution")
    assert "edge_cdn_certificate" not in resources(doc, "aws_acm_certificate")
    secondary = records(doc)["secondary"]
    assert secondary["alias"]["name"] == "dr-alb.eu-west-1.elb.amazonaws.com"
    assert secondary["alias"]["zone_id"] == "Z32O12XQLNTSW2"
    check = resources(doc, "aws_route53_health_check")["edge_failover_secondary_health"]
    assert (check["fqdn"], check["resource_path"]) == ("dr-alb.eu-west-1.elb.amazonaws.com", "/status")
