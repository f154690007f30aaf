"""CloudFront in front of the load balancer and the assets bucket (document 003, and full)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lib.config import ALL_VIEWER_ORIGIN_REQUEST_POLICY, CACHING_DISABLED_POLICY, RESTRICTIVE_CSP
from lib.reachability import Gap, gaps, load_balancer_gaps
from tests.conftest import SUFFIX, Document, Synthesized, address_name, name_prefix, policy, ref, resources
from tests.unit.test_edge_compute import CDN, DOMAIN_CONFIG


def cdn_profile(profile: str) -> None:
    if profile not in CDN:
        pytest.skip(f"{profile}: its document has no CDN")


def distribution(doc: Document) -> dict[str, Any]:
    return resources(doc, "aws_cloudfront_distribution")["edge_cdn_distribution"]


def test_only_document_003_and_full_have_a_distribution(doc: Document, profile: str) -> None:
    assert ("edge_cdn_distribution" in resources(doc, "aws_cloudfront_distribution")) is (profile in CDN)
    assert bool(resources(doc, "terraform_data")) is (profile in CDN)


def test_the_load_balancer_origin_is_https_only_and_carries_the_origin_header(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    origins = {o["origin_id"]: o for o in distribution(doc)["origin"]}
    balancer = origins["load_balancer"]
    assert balancer["domain_name"] == ref(doc, "aws_lb", "edge_load_balancer", "dns_name")
    assert balancer["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert balancer["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]
    value = ref(doc, "terraform_data", "edge_origin_header_value", "output")
    assert balancer["custom_header"] == [{"name": "x-origin-verify", "value": value}]
    # The listener forwards only with the same value; the header's value is drawn once, then kept.
    rule = resources(doc, "aws_lb_listener_rule")["edge_load_balancer_from_cdn"]
    assert rule["condition"] == [{"http_header": {"http_header_name": "x-origin-verify", "values": [value]}}]
    data = resources(doc, "terraform_data")["edge_origin_header_value"]
    assert data["input"] == "${uuid()}" and data["lifecycle"]["ignore_changes"] == ["input"]


def test_dynamic_paths_are_uncached_with_the_host_forwarded(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    default = distribution(doc)["default_cache_behavior"]
    assert default["target_origin_id"] == "load_balancer"
    assert default["cache_policy_id"] == CACHING_DISABLED_POLICY
    # AllViewer forwards Host, so CloudFront checks the load balancer's certificate against the site's name.
    assert default["origin_request_policy_id"] == ALL_VIEWER_ORIGIN_REQUEST_POLICY
    assert default["viewer_protocol_policy"] == "redirect-to-https"
    assert "POST" in default["allowed_methods"]


def test_static_paths_come_from_the_assets_bucket_through_origin_access_control(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    cloudfront = distribution(doc)
    origins = {o["origin_id"]: o for o in cloudfront["origin"]}
    assets = origins["assets"]
    assert assets["domain_name"] == ref(
        doc, "aws_s3_bucket", "foundation_storage_assets_bucket", "bucket_regional_domain_name"
    )
    assert assets["origin_access_control_id"] == ref(
        doc, "aws_cloudfront_origin_access_control", "edge_cdn_assets_access"
    )
    access = resources(doc, "aws_cloudfront_origin_access_control")["edge_cdn_assets_access"]
    assert (access["signing_behavior"], access["signing_protocol"]) == ("always", "sigv4")
    cached = [b for b in cloudfront["ordered_cache_behavior"] if b["target_origin_id"] == "assets"]
    assert [b["path_pattern"] for b in cached] == ["/static/*", "/assets/*"]
    static_policy = ref(doc, "aws_cloudfront_cache_policy", "edge_cdn_static_cache_policy")
    assert all(b["target_origin_id"] == "assets" and b["cache_policy_id"] == static_policy for b in cached)
    assert all(b["allowed_methods"] == ["GET", "HEAD"] for b in cached)
    ttl = resources(doc, "aws_cloudfront_cache_policy")["edge_cdn_static_cache_policy"]
    assert (ttl["default_ttl"], ttl["max_ttl"]) == (86_400, 31_536_000)
    # The bucket admits this distribution only; the key lets CloudFront decrypt for the account's distributions.
    name = address_name(doc, "aws_s3_bucket", "foundation_storage_assets_bucket")
    (bucket_policy,) = [p for p in resources(doc, "aws_s3_bucket_policy").values() if name in p["bucket"]]
    (read,) = [
        s for s in policy(bucket_policy)["Statement"] if s.get("Sid") == "CloudFrontReadsThroughOriginAccessControl"
    ]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert read["Condition"] == {
        "StringEquals": {"AWS:SourceArn": ref(doc, "aws_cloudfront_distribution", "edge_cdn_distribution", "arn")}
    }
    key = resources(doc, "aws_kms_key")["foundation_keys_s3"]
    (decrypt,) = [
        s for s in policy(key)["Statement"] if s.get("Sid") == "CloudFrontDecryptsForThisAccountsDistributions"
    ]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(":distribution/*")


def test_tls_12_to_viewers_and_every_response_carries_the_security_headers(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    cloudfront = distribution(doc)
    viewer = cloudfront["viewer_certificate"]
    assert (viewer["minimum_protocol_version"], viewer["ssl_support_method"]) == ("TLSv1.2_2021", "sni-only")
    # In us-east-1 the load balancer's certificate serves CloudFront too (another region gets a twin).
    assert viewer["acm_certificate_arn"] == ref(
        doc, "aws_acm_certificate_validation", "edge_certificate_validation", "certificate_arn"
    )
    assert cloudfront["aliases"] == [f"{name_prefix(profile)}-{SUFFIX}.example.com"]
    headers_policy = ref(doc, "aws_cloudfront_response_headers_policy", "edge_cdn_security_headers")
    behaviors = [cloudfront["default_cache_behavior"], *cloudfront["ordered_cache_behavior"]]
    assert all(b["response_headers_policy_id"] == headers_policy for b in behaviors)
    security = resources(doc, "aws_cloudfront_response_headers_policy")["edge_cdn_security_headers"][
        "security_headers_config"
    ]
    hsts = security["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31_536_000 and hsts["include_subdomains"] and hsts["preload"]
    assert security["content_security_policy"]["content_security_policy"] == RESTRICTIVE_CSP
    assert security["frame_options"]["frame_option"] == "DENY"
    assert security["content_type_options"] == {"override": True}


def test_standard_logs_and_sanctioned_countries(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    cloudfront = distribution(doc)
    logging = cloudfront["logging_config"]
    assert logging["bucket"] == ref(doc, "aws_s3_bucket", "edge_cdn_logs_bucket", "bucket_domain_name")
    assert logging["include_cookies"] is False
    assert (
        resources(doc, "aws_s3_bucket")["edge_cdn_logs_bucket"]["bucket"] == f"{name_prefix(profile)}-cdn-logs-{SUFFIX}"
    )
    # CloudFront's standard logs are written through an ACL grant: the one bucket that accepts ACLs.
    ownership = {
        path: o["rule"]["object_ownership"] for path, o in resources(doc, "aws_s3_bucket_ownership_controls").items()
    }
    assert [path for path, rule in ownership.items() if rule != "BucketOwnerEnforced"] == ["edge_cdn_logs_ownership"]
    assert cloudfront["restrictions"]["geo_restriction"] == {
        "restriction_type": "blacklist",
        "locations": ["CU", "IR", "KP", "SY"],
    }


def test_cloudfronts_waf_lives_in_us_east_1(doc: Document, profile: str) -> None:
    cdn_profile(profile)
    (aliased,) = [p for p in doc["provider"]["aws"] if p.get("alias") == "us_east_1"]
    assert aliased["region"] == "us-east-1" and aliased["default_tags"][0]["tags"]["Environment"] == SUFFIX
    acl = resources(doc, "aws_wafv2_web_acl")["edge_cdn_firewall_web_acl"]
    assert (acl["scope"], acl["provider"]) == ("CLOUDFRONT", "aws.us_east_1")
    assert distribution(doc)["web_acl_id"] == ref(doc, "aws_wafv2_web_acl", "edge_cdn_firewall_web_acl", "arn")
    rules = {rule["name"]: rule for rule in acl["rule"]}
    # CloudFront's web ACL sees the viewer's own address.
    assert rules["rate-limit"]["statement"]["rate_based_statement"]["aggregate_key_type"] == "IP"
    assert all(r.get("action") == {"block": {}} or r.get("override_action") == {"none": {}} for r in acl["rule"])
    logging = resources(doc, "aws_wafv2_web_acl_logging_configuration")["edge_cdn_firewall_logging"]
    assert logging["provider"] == "aws.us_east_1"
    assert logging["log_destination_configs"] == [ref(doc, "aws_s3_bucket", "edge_firewall_logs_bucket", "arn")]
    assert "edge_cdn_firewall_association" not in resources(doc, "aws_wafv2_web_acl_association")


def test_with_a_domain_the_name_points_at_cloudfront_over_ipv4_and_ipv6(synthesized: Synthesized) -> None:
    doc = synthesized("portal-cdn", TAP_CONFIG=str(DOMAIN_CONFIG))
    records = resources(doc, "aws_route53_record")
    assert set(records) == {"edge_certificate_validation_record", "edge_alias", "edge_alias_ipv6"}
    cloudfront = ref(doc, "aws_cloudfront_distribution", "edge_cdn_distribution", "domain_name")
    for path, record_type in (("edge_alias", "A"), ("edge_alias_ipv6", "AAAA")):
        assert records[path]["type"] == record_type
        assert records[path]["alias"] == {
            "name": cloudfront,
            "zone_id": "Z2FDTNDATAQYW2",
            "evaluate_target_health": False,
        }


def test_in_another_region_cloudfront_gets_a_us_east_1_twin_validated_by_the_same_record(
    synthesized: Synthesized,
) -> None:
    doc = synthesized("portal-cdn", TAP_CONFIG=str(DOMAIN_CONFIG), AWS_REGION="eu-west-1")
    certificates = resources(doc, "aws_acm_certificate")
    assert certificates["edge_cdn_certificate"]["provider"] == "aws.us_east_1"
    assert "provider" not in certificates["edge_certificate"]
    validations = resources(doc, "aws_acm_certificate_validation")
    assert validations["edge_cdn_certificate_validation"]["provider"] == "aws.us_east_1"
    # ACM asks for the same record for one name in every region of an account: written once.
    fqdn = [ref(doc, "aws_route53_record", "edge_certificate_validation_record", "fqdn")]
    assert [v["validation_record_fqdns"] for v in validations.values()] == [fqdn, fqdn]
    assert distribution(doc)["viewer_certificate"]["acm_certificate_arn"] == ref(
        doc, "aws_acm_certificate_validation", "edge_cdn_certificate_validation", "certificate_arn"
    )
    # The us-east-1 web ACL delivers its logs into the eu-west-1 bucket: delivery is admitted from any region.
    name = address_name(doc, "aws_s3_bucket", "edge_firewall_logs_bucket")
    (bucket_policy,) = [p for p in resources(doc, "aws_s3_bucket_policy").values() if name in p["bucket"]]
    (write,) = [s for s in policy(bucket_policy)["Statement"] if s.get("Sid") == "LogDeliveryWrite"]
    assert (
        write["Condition"]["ArnLike"]["aws:SourceArn"]
        == "arn:aws:logs:*:${data.aws_caller_identity.current.account_id}:*"
    )


def test_distributions_wait_for_the_log_bucket_to_accept_acls(synthesized: Synthesized) -> None:
    """Standard logging fails on a bucket that still refuses ACLs (the default for new buckets)."""
    doc = synthesized("portal-cdn")
    ownership = "aws_s3_bucket_ownership_controls." + address_name(
        doc, "aws_s3_bucket_ownership_controls", "edge_cdn_logs_ownership"
    )
    assert ownership in distribution(doc)["depends_on"]
    maintenance = resources(
        synthesized("secure-platform", TAP_CONFIG=str(DOMAIN_CONFIG)), "aws_cloudfront_distribution"
    )
    assert any(
        "edge_cdn_logs_ownership" in d for d in maintenance["edge_failover_maintenance_distribution"]["depends_on"]
    )


def test_an_existing_cloudfront_certificate_is_used_as_is(synthesized: Synthesized, tmp_path: Path) -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/" + "1" * 36
    config = tmp_path / "cdn.toml"
    config.write_text(f'[edge.cdn]\ncertificate_arn = "{arn}"\nblocked_countries = []\n')
    doc = synthesized("portal-cdn", TAP_CONFIG=str(config))
    cloudfront = distribution(doc)
    assert cloudfront["viewer_certificate"]["acm_certificate_arn"] == arn
    assert set(resources(doc, "aws_acm_certificate")) == {"edge_certificate"}  # the configured one replaces the twin
    assert cloudfront["restrictions"]["geo_restriction"] == {"restriction_type": "none"}


# Reachability: the load balancer behind CloudFront is reachable through CloudFront only.


def cdn_doc(synthesized: Synthesized) -> Document:
    return copy.deepcopy(synthesized("portal-cdn"))


def test_the_distribution_reaches_the_load_balancer(synthesized: Synthesized) -> None:
    assert gaps(cdn_doc(synthesized)) == []


def test_a_load_balancer_that_does_not_admit_cloudfront_is_found(synthesized: Synthesized) -> None:
    doc = cdn_doc(synthesized)
    rules = doc["resource"]["aws_vpc_security_group_ingress_rule"]
    del rules[address_name(doc, "aws_vpc_security_group_ingress_rule", "edge_load_balancer_ingress_cloudfront")]
    assert gaps(doc) == [
        Gap(
            "aws_cloudfront_distribution." + address_name(doc, "aws_cloudfront_distribution", "edge_cdn_distribution"),
            "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer"),
            "the load balancer does not admit CloudFront's prefix list on 443",
        )
    ]


def test_a_cloudfront_origin_that_also_admits_the_internet_is_found(synthesized: Synthesized) -> None:
    doc = cdn_doc(synthesized)
    rules = doc["resource"]["aws_vpc_security_group_ingress_rule"]
    rule = rules[address_name(doc, "aws_vpc_security_group_ingress_rule", "edge_load_balancer_ingress_cloudfront")]
    rules["bypass"] = {**rule, "cidr_ipv4": "0.0.0.0/0"} | {"prefix_list_id": None}
    assert gaps(doc) == [
        Gap(
            "internet",
            "aws_lb." + address_name(doc, "aws_lb", "edge_load_balancer"),
            "a CloudFront origin must be reachable through CloudFront only",
        )
    ]


def test_targets_forwarded_only_by_the_origin_header_rule_are_still_checked(synthesized: Synthesized) -> None:
    doc = cdn_doc(synthesized)
    rules = doc["resource"]["aws_vpc_security_group_ingress_rule"]
    del rules[address_name(doc, "aws_vpc_security_group_ingress_rule", "edge_load_balancer_to_targets_ingress")]
    # The listener's default action is a 403: only its origin-header rule forwards to the targets.
    assert [gap.reason for gap in load_balancer_gaps(doc)] == [
        "the target's security group does not admit the caller on 8080"
    ]


def test_in_full_the_payment_api_is_behind_cloudfront_under_the_sites_name(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    cloudfront = distribution(doc)
    (api,) = [o for o in cloudfront["origin"] if o["origin_id"] == "payments_api"]
    assert api["domain_name"] == (
        "${aws_apigatewayv2_domain_name."
        + address_name(doc, "aws_apigatewayv2_domain_name", "edge_api_domain")
        + ".domain_name_configuration[0].target_domain_name}"
    )
    assert api["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    api_paths = [b for b in cloudfront["ordered_cache_behavior"] if b["target_origin_id"] == "payments_api"]
    assert [b["path_pattern"] for b in api_paths] == ["/payments"]
    for behavior in api_paths:
        # Uncached, every method, Host forwarded: SigV4 signs the site's name, which the custom domain answers to.
        assert behavior["cache_policy_id"] == CACHING_DISABLED_POLICY
        assert behavior["origin_request_policy_id"] == ALL_VIEWER_ORIGIN_REQUEST_POLICY
        assert "POST" in behavior["allowed_methods"]
    domain = resources(doc, "aws_apigatewayv2_domain_name")["edge_api_domain"]
    assert domain["domain_name"] == cloudfront["aliases"][0]
    assert domain["domain_name_configuration"] == {
        "certificate_arn": ref(doc, "aws_acm_certificate_validation", "edge_certificate_validation", "certificate_arn"),
        "endpoint_type": "REGIONAL",
        "security_policy": "TLS_1_2",
    }
    mapping = resources(doc, "aws_apigatewayv2_api_mapping")["edge_api_mapping"]
    assert mapping["api_id"] == ref(doc, "aws_apigatewayv2_api", "payments_api")
    assert mapping["stage"] == ref(doc, "aws_apigatewayv2_stage", "payments_api_stage")
    # 003 has no payment API: CloudFront fronts the load balancer and the assets only.
    portal = distribution(synthesized("portal-cdn"))
    assert [o["origin_id"] for o in portal["origin"]] == ["load_balancer", "assets"]
