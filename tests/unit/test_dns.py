"""Route 53 (document 002): a signed, query-logged zone, and failover to a maintenance page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.edge.dns import MAINTENANCE_PAGE
from lib.synth import warnings
from tests.conftest import SUFFIX, Document, Synthesized, address_name, policy, ref, resources
from tools.compliance import DOMAIN_CONFIG

DOMAIN = "pay.example.org"  # examples/edge-domain.toml


@pytest.fixture(name="doc")
def secure_platform_with_a_domain(synthesized: Synthesized) -> Document:
    """Document 002's profile once a domain is configured (the zone needs one)."""
    return synthesized("secure-platform", TAP_CONFIG=str(DOMAIN_CONFIG))


def test_without_a_domain_there_is_no_zone_nor_failover_and_synth_says_so(synthesized: Synthesized) -> None:
    doc = synthesized("secure-platform")
    for kind in ("aws_route53_zone", "aws_route53_health_check", "aws_route53_record", "aws_cloudfront_distribution"):
        assert resources(doc, kind) == {}, kind
    config = synthesized.result("secure-platform")[0].config
    (zone_warning,) = [w for w in warnings(config) if "hosted_zone_id = 'create'" in w]
    assert "no zone, DNSSEC or failover records until [edge] domain_name is set" in zone_warning


def test_only_document_002_fails_over(synthesized: Synthesized) -> None:
    for profile in ("web-mysql", "portal-cdn", "serverless-payments", "full"):
        assert resources(synthesized(profile, TAP_CONFIG=str(DOMAIN_CONFIG)), "aws_route53_health_check") == {}


def test_a_new_zone_must_be_delegated_during_the_first_apply(synthesized: Synthesized) -> None:
    config = synthesized.result("secure-platform", TAP_CONFIG=str(DOMAIN_CONFIG))[0].config
    assert any("delegate it to its name servers" in w for w in warnings(config))


def test_a_created_zone_is_signed_with_a_us_east_1_key(doc: Document) -> None:
    assert resources(doc, "aws_route53_zone")["edge_hosted_zone"]["name"] == DOMAIN
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


def test_a_created_zone_logs_its_queries_encrypted_for_a_year(doc: Document) -> None:
    group = resources(doc, "aws_cloudwatch_log_group")["edge_hosted_zone_query_log_group"]
    assert group["name"] == f"/aws/route53/pay-{SUFFIX}/{DOMAIN}" and group["provider"] == "aws.us_east_1"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"] == ref(doc, "aws_kms_key", "edge_hosted_zone_query_log_key", "arn")
    key = resources(doc, "aws_kms_key")["edge_hosted_zone_query_log_key"]
    assert key["enable_key_rotation"] is True and key["provider"] == "aws.us_east_1"
    resource_policy = resources(doc, "aws_cloudwatch_log_resource_policy")["edge_hosted_zone_query_log_policy"]
    (write,) = json.loads(resource_policy["policy_document"])["Statement"]
    assert write["Principal"] == {"Service": "route53.amazonaws.com"}
    assert write["Resource"].endswith(f":log-group:/aws/route53/pay-{SUFFIX}/{DOMAIN}:*")
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


def test_failover_records_primary_the_load_balancer_secondary_the_maintenance_page(doc: Document) -> None:
    found = records(doc)
    assert set(found) == {"primary", "secondary"}
    assert "edge_alias" not in resources(doc, "aws_route53_record")  # failover replaces the plain alias
    for role, record in found.items():
        assert (record["name"], record["type"], record["set_identifier"]) == (DOMAIN, "A", role)
        assert record["failover_routing_policy"] == {"type": role.upper()}
        assert record["health_check_id"] == ref(doc, "aws_route53_health_check", f"edge_failover_{role}_health")
    assert found["primary"]["alias"]["name"] == ref(doc, "aws_lb", "edge_load_balancer", "dns_name")
    maintenance = ref(doc, "aws_cloudfront_distribution", "edge_failover_maintenance_distribution", "domain_name")
    assert found["secondary"]["alias"] == {
        "name": maintenance,
        "zone_id": "Z2FDTNDATAQYW2",
        "evaluate_target_health": False,
    }


def test_the_primary_is_healthy_while_a_target_group_has_a_healthy_instance(doc: Document) -> None:
    checks = resources(doc, "aws_route53_health_check")
    primary = checks["edge_failover_primary_health"]
    # Route 53 follows only single-metric alarms: one alarm and check per group, combined.
    assert (primary["type"], primary["child_health_threshold"]) == ("CALCULATED", 1)
    assert primary["child_healthchecks"] == [ref(doc, "aws_route53_health_check", "edge_failover_web_health")]
    web = checks["edge_failover_web_health"]
    assert (web["type"], web["cloudwatch_alarm_region"]) == ("CLOUDWATCH_METRIC", "us-east-1")
    assert web["cloudwatch_alarm_name"] == ref(
        doc, "aws_cloudwatch_metric_alarm", "edge_failover_healthy_hosts_web", "alarm_name"
    )
    alarm = resources(doc, "aws_cloudwatch_metric_alarm")["edge_failover_healthy_hosts_web"]
    assert "metric_query" not in alarm
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWS/ApplicationELB",
        "HealthyHostCount",
        "Minimum",
    )
    assert alarm["dimensions"] == {
        "LoadBalancer": ref(doc, "aws_lb", "edge_load_balancer", "arn_suffix"),
        "TargetGroup": ref(doc, "aws_lb_target_group", "edge_load_balancer_target_group_web", "arn_suffix"),
    }
    assert (alarm["comparison_operator"], alarm["threshold"], alarm["treat_missing_data"]) == (
        "LessThanThreshold",
        1,
        "breaching",
    )


def test_signing_failures_raise_alarms_in_us_east_1(doc: Document) -> None:
    """The stack is in us-east-1, where Route 53 publishes: its own provider and alarms topic."""
    alarms = resources(doc, "aws_cloudwatch_metric_alarm")
    topic = ref(doc, "aws_sns_topic", "observability_topic", "arn")
    for metric, path in (
        ("DNSSECInternalFailure", "observability_edge_hosted_zone_dnssec_internal_failure"),
        ("DNSSECKeySigningKeysNeedingAction", "observability_edge_hosted_zone_dnssec_ksk_needs_action"),
    ):
        alarm = alarms[path]
        assert (alarm["namespace"], alarm["metric_name"], alarm.get("provider")) == ("AWS/Route53", metric, None)
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [topic]
        assert alarm["dimensions"] == {"HostedZoneId": ref(doc, "aws_route53_zone", "edge_hosted_zone", "zone_id")}
        assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_the_secondary_is_checked_over_https(doc: Document) -> None:
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


def test_the_maintenance_page_is_private_behind_https_and_the_cloudfront_waf(doc: Document) -> None:
    page = resources(doc, "aws_s3_object")["edge_failover_maintenance_page"]
    assert page["content"] == MAINTENANCE_PAGE.read_text() and page["content_type"].startswith("text/html")
    assert "<script" not in page["content"]  # the restrictive CSP allows no inline script
    assert page["server_side_encryption"] == "aws:kms"
    distribution = resources(doc, "aws_cloudfront_distribution")["edge_failover_maintenance_distribution"]
    assert distribution["aliases"] == [DOMAIN]
    assert distribution["default_root_object"] == "maintenance.html"
    assert distribution["web_acl_id"] == ref(doc, "aws_wafv2_web_acl", "edge_cdn_firewall_web_acl", "arn")
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    # In us-east-1, the load balancer's certificate serves CloudFront too.
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == ref(
        doc, "aws_acm_certificate_validation", "edge_certificate_validation", "certificate_arn"
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
        '[edge]\ndomain_name = "pay.example.org"\nhosted_zone_id = "create"\n'
        '[edge.failover]\nsecondary_dns_name = "dr-alb.eu-west-1.elb.amazonaws.com"\n'
        'secondary_zone_id = "Z32O12XQLNTSW2"\nsecondary_health_check_path = "/status"\n'
    )
    doc = synthesized("secure-platform", TAP_CONFIG=str(config))
    assert "edge_failover_maintenance_distribution" not in resources(doc, "aws_cloudfront_distribution")
    assert set(resources(doc, "aws_acm_certificate")) == {"edge_certificate"}
    secondary = records(doc)["secondary"]
    assert secondary["alias"]["name"] == "dr-alb.eu-west-1.elb.amazonaws.com"
    assert secondary["alias"]["zone_id"] == "Z32O12XQLNTSW2"
    check = resources(doc, "aws_route53_health_check")["edge_failover_secondary_health"]
    assert (check["fqdn"], check["resource_path"]) == ("dr-alb.eu-west-1.elb.amazonaws.com", "/status")
