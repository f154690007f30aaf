"""Edge and compute tiers, per profile: what each source document asks for, asserted on the JSON."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from lib.compute import AMI_PARAMETER, BUILD_DIR, architecture
from lib.compute.artifact import build
from lib.edge.firewall import MANAGED_GROUPS
from tests.conftest import (
    SUFFIX,
    Document,
    Synthesized,
    address_name,
    name_prefix,
    path_of,
    policy,
    ref,
    resources,
)
from tools.compliance import DOMAIN_CONFIG

ROOT = Path(__file__).resolve().parents[2]
# profile -> (internal, fleets, instance type)
EDGE = {
    "web-mysql": (False, {"web"}, "t3.small"),
    "secure-platform": (False, {"web", "batch"}, "t3.small"),
    "portal-cdn": (False, {"web"}, "t3.large"),
    "serverless-payments": (True, {"blue", "green"}, "t3.small"),
    "full": (False, {"blue", "green", "batch"}, "t3.small"),
}


# Profiles with CloudFront in front of the load balancer (document 003, and full).
CDN = frozenset({"portal-cdn", "full"})
# Profiles with a hosted zone TAP creates and Route 53 failover (document 002).
FAILOVER = frozenset({"secure-platform"})


def edge_profile(profile: str) -> tuple[bool, set[str], str]:
    if profile not in EDGE:
        pytest.skip(f"{profile}: its document has no edge")
    return EDGE[profile]


def only(doc: Document, kind: str) -> dict[str, Any]:
    (value,) = resources(doc, kind).values()
    return value


def subnets(doc: Document, tier: str) -> list[str]:
    """References to the tier's subnets, in zone order."""
    return [f"${{aws_subnet.{n}.id}}" for n, s in doc["resource"]["aws_subnet"].items() if s["tags"]["Tier"] == tier]


def ingress(doc: Document, group_path: str) -> list[dict[str, Any]]:
    group = ref(doc, "aws_security_group", group_path)
    return [
        r for r in resources(doc, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == group
    ]


def test_profiles_without_an_edge_build_none(synthesized: Synthesized) -> None:
    doc = synthesized("transactions-pg")
    for kind in ("aws_lb", "aws_autoscaling_group", "aws_launch_template", "aws_wafv2_web_acl"):
        assert resources(doc, kind) == {}
    # No compute, so no application group: nothing is left unattached (CKV2_AWS_5).
    assert not [n for n in resources(doc, "aws_security_group") if n.startswith("foundation_app_security_group")]


def test_the_load_balancer(doc: Document, profile: str) -> None:
    internal, _, _ = edge_profile(profile)
    balancer = resources(doc, "aws_lb")["edge_load_balancer"]
    assert balancer["subnets"] == subnets(doc, "private" if internal else "public")
    assert balancer["internal"] is internal
    assert balancer["load_balancer_type"] == "application"
    assert balancer["drop_invalid_header_fields"] is True and balancer["desync_mitigation_mode"] == "strictest"
    assert balancer["enable_cross_zone_load_balancing"] is True
    logs = balancer["access_logs"]
    assert logs["enabled"] is True and logs["prefix"] == "alb"
    assert logs["bucket"] == ref(doc, "aws_s3_bucket", "edge_load_balancer_access_logs_bucket", "bucket")
    assert balancer["enable_deletion_protection"] is False  # destroyable; see the mode test


def test_deletion_protection_follows_the_mode(synthesized: Synthesized) -> None:
    protected = synthesized("full", TAP_PROTECTED="true")
    assert resources(protected, "aws_lb")["edge_load_balancer"]["enable_deletion_protection"] is True


def test_alb_logs_go_to_a_dedicated_sse_s3_bucket_writable_by_elb_only(doc: Document, profile: str) -> None:
    edge_profile(profile)
    name = address_name(doc, "aws_s3_bucket", "edge_load_balancer_access_logs_bucket")
    (encryption,) = [
        e for e in resources(doc, "aws_s3_bucket_server_side_encryption_configuration").values() if name in e["bucket"]
    ]
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    (bucket_policy,) = [p for p in resources(doc, "aws_s3_bucket_policy").values() if name in p["bucket"]]
    (delivery,) = [s for s in policy(bucket_policy)["Statement"] if s.get("Sid") == "LoadBalancerAccessLogDelivery"]
    # us-east-1 predates August 2022: its ELB account delivers.
    assert delivery["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert delivery["Action"] == "s3:PutObject" and "/alb/AWSLogs/" in delivery["Resource"]


def test_listeners_https_with_tls_12_and_http_redirects(doc: Document, profile: str) -> None:
    internal, _, _ = edge_profile(profile)
    listeners = {listener["port"]: listener for listener in resources(doc, "aws_lb_listener").values()}
    https = listeners[443]
    assert https["protocol"] == "HTTPS" and https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    # Listeners wait for the certificate's validation.
    assert https["certificate_arn"] == ref(
        doc, "aws_acm_certificate_validation", "edge_certificate_validation", "certificate_arn"
    )
    if internal:
        assert set(listeners) == {443}
        return
    rules = {path_of(name): rule for name, rule in resources(doc, "aws_lb_listener_rule").items()}
    hidden = rules["edge_load_balancer_hide_health"]
    assert hidden["condition"] == [{"path_pattern": {"values": ["/health"]}}]
    assert hidden["action"][0]["fixed_response"]["status_code"] == "404"
    if profile in CDN:
        # Behind CloudFront: no port 80, and only requests with the origin header are forwarded.
        assert set(listeners) == {443} and set(rules) == {
            "edge_load_balancer_hide_health",
            "edge_load_balancer_from_cdn",
        }
        (forbidden,) = https["default_action"]
        assert forbidden["type"] == "fixed-response" and forbidden["fixed_response"]["status_code"] == "403"
        return
    assert set(rules) == {"edge_load_balancer_hide_health"}
    assert set(listeners) == {443, 80}
    (redirect,) = listeners[80]["default_action"]
    assert redirect == {
        "type": "redirect",
        "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
    }


def test_target_groups_check_health_as_document_000_says(doc: Document, profile: str) -> None:
    _, fleets, _ = edge_profile(profile)
    groups = resources(doc, "aws_lb_target_group")
    colours = {g["tags"]["Colour"] for g in groups.values()}
    assert colours == (fleets - {"batch"})
    for group in groups.values():
        assert (group["port"], group["protocol"], group["target_type"]) == (8080, "HTTPS", "instance")
        check = group["health_check"]
        assert (check["path"], check["matcher"], check["protocol"]) == ("/health", "200", "HTTPS")
        assert (check["healthy_threshold"], check["unhealthy_threshold"]) == (2, 2)
        assert (check["interval"], check["timeout"]) == (30, 5)
    (https,) = [listener for listener in resources(doc, "aws_lb_listener").values() if listener["port"] == 443]
    action = (
        resources(doc, "aws_lb_listener_rule")["edge_load_balancer_from_cdn"]["action"][0]
        if profile in CDN
        else https["default_action"][0]
    )
    forward = action["forward"]
    weights = {groups[path_of(g["arn"].split(".")[1])]["tags"]["Colour"]: g["weight"] for g in forward["target_group"]}
    assert weights == ({"blue": 90, "green": 10} if "blue" in fleets else {"web": 100})


def test_blue_green_weights_come_from_the_environment_file(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "shift.toml"
    config.write_text("[edge.load_balancer.blue_green]\nblue_weight = 0\ngreen_weight = 100\n")
    doc = synthesized("serverless-payments", TAP_CONFIG=str(config))
    (https,) = resources(doc, "aws_lb_listener").values()
    assert [g["weight"] for g in https["default_action"][0]["forward"]["target_group"]] == [0, 100]


def test_who_reaches_the_load_balancer_and_the_instances(doc: Document, profile: str) -> None:
    internal, _, _ = edge_profile(profile)
    alb = ingress(doc, "edge_load_balancer_security_group")
    if internal:
        link = ref(doc, "aws_security_group", "edge_private_route_security_group")
        assert [(r["referenced_security_group_id"], r["from_port"]) for r in alb] == [(link, 443)]
    elif profile in CDN:
        # One rule: CloudFront's origin-facing list weighs as its max entries against the group's rule quota.
        (prefix_list,) = doc["data"]["aws_ec2_managed_prefix_list"].values()
        assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"
        (rule,) = alb
        assert rule["prefix_list_id"].startswith("${data.aws_ec2_managed_prefix_list.edge_cloudfront_prefix_list")
        assert (rule["from_port"], rule["to_port"], "cidr_ipv4" in rule) == (443, 443, False)
    else:
        assert sorted((r["cidr_ipv4"], r["from_port"]) for r in alb) == [("0.0.0.0/0", 80), ("0.0.0.0/0", 443)]
    # The application group admits the load balancer, on the application port, and nothing else.
    app = ingress(doc, "foundation_app_security_group")
    assert [(r.get("referenced_security_group_id"), r["from_port"]) for r in app] == [
        (ref(doc, "aws_security_group", "edge_load_balancer_security_group"), 8080)
    ]


def test_the_regional_waf_on_public_load_balancers(doc: Document, profile: str) -> None:
    internal, _, _ = edge_profile(profile)
    acls = resources(doc, "aws_wafv2_web_acl")
    if internal:
        assert acls == {}
        return
    acl = resources(doc, "aws_wafv2_web_acl")["edge_firewall_web_acl"]
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    rules = {rule["name"]: rule for rule in acl["rule"]}
    rate = rules["rate-limit"]["statement"]["rate_based_statement"]
    # Behind CloudFront every request comes from CloudFront: the client's forwarded address counts.
    aggregate = "FORWARDED_IP" if profile in CDN else "IP"
    assert (rate["limit"], rate["aggregate_key_type"], rate["evaluation_window_sec"]) == (1000, aggregate, 300)
    managed = {r["statement"]["managed_rule_group_statement"]["name"] for r in acl["rule"] if "override_action" in r}
    assert managed == set(MANAGED_GROUPS)
    assert {
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    } <= managed
    # Every rule blocks: own rules by action, managed groups by keeping their actions.
    assert all(r.get("action") == {"block": {}} or r.get("override_action") == {"none": {}} for r in acl["rule"])
    assert {"payments-methods", "payments-body-size", "payments-content-type"} <= set(rules)
    path = rules["payments-methods"]["statement"]["and_statement"]["statement"][0]["byte_match_statement"]
    assert path["search_string"] == "/payments"
    assert [t["type"] for t in path["text_transformation"]] == ["URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"]
    assert "blocked-countries" not in rules  # off while the list is empty
    association = only(doc, "aws_wafv2_web_acl_association")
    assert association["resource_arn"] == ref(doc, "aws_lb", "edge_load_balancer", "arn")
    logging = resources(doc, "aws_wafv2_web_acl_logging_configuration")["edge_firewall_logging"]
    assert logging["redacted_fields"] == [
        {"single_header": {"name": header}} for header in ("authorization", "cookie", "x-origin-verify")
    ]
    assert logging["logging_filter"]["default_behavior"] == "DROP"
    assert logging["logging_filter"]["filter"][0]["condition"] == [{"action_condition": {"action": "BLOCK"}}]
    bucket = resources(doc, "aws_s3_bucket")["edge_firewall_logs_bucket"]
    assert bucket["bucket"] == f"aws-waf-logs-{name_prefix(profile)}-{SUFFIX}"
    # Into an encrypted log group Logs Insights reads, kept the PCI year, named as WAF requires ...
    group = resources(doc, "aws_cloudwatch_log_group")["edge_firewall_log_group"]
    assert group["name"] == f"aws-waf-logs-{name_prefix(profile)}-regional-{SUFFIX}"
    assert group["kms_key_id"] == ref(doc, "aws_kms_key", "foundation_keys_logs", "arn")
    assert group["retention_in_days"] == 365
    assert logging["log_destination_configs"] == [
        ref(doc, "aws_cloudwatch_log_group", "edge_firewall_log_group", "arn")
    ]
    # ... and copied, unwrapped, into document 002's WAF log bucket.
    stream = resources(doc, "aws_kinesis_firehose_delivery_stream")["edge_firewall_stream"]
    s3 = stream["extended_s3_configuration"]
    assert s3["bucket_arn"] == ref(doc, "aws_s3_bucket", "edge_firewall_logs_bucket", "arn")
    assert s3["prefix"] == "regional/!{timestamp:yyyy/MM/dd}/" and s3["compression_format"] == "GZIP"
    assert [p["type"] for p in s3["processing_configuration"]["processors"]] == [
        "Decompression",
        "CloudWatchLogProcessing",
    ]
    (subscription,) = [
        s
        for s in resources(doc, "aws_cloudwatch_log_subscription_filter").values()
        if s["destination_arn"] == ref(doc, "aws_kinesis_firehose_delivery_stream", "edge_firewall_stream", "arn")
    ]
    assert subscription["log_group_name"] == ref(doc, "aws_cloudwatch_log_group", "edge_firewall_log_group", "name")


def test_geo_blocking_and_forwarded_ip_come_from_configuration(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "waf.toml"
    config.write_text('[edge.load_balancer.waf]\nblocked_countries = ["KP", "IR"]\nrate_limit_on_forwarded_ip = true\n')
    acl = resources(synthesized("secure-platform", TAP_CONFIG=str(config)), "aws_wafv2_web_acl")[
        "edge_firewall_web_acl"
    ]
    rules = {rule["name"]: rule["statement"] for rule in acl["rule"]}
    assert rules["blocked-countries"] == {"geo_match_statement": {"country_codes": ["KP", "IR"]}}
    rate = rules["rate-limit"]["rate_based_statement"]
    assert rate["aggregate_key_type"] == "FORWARDED_IP"
    assert rate["forwarded_ip_config"]["header_name"] == "X-Forwarded-For"


def test_without_a_domain_the_certificate_is_a_placeholder_that_cannot_validate(doc: Document, profile: str) -> None:
    edge_profile(profile)
    certificates = resources(doc, "aws_acm_certificate")
    # One certificate: in us-east-1 CloudFront uses the load balancer's (test_cdn.py covers other regions).
    (certificate,) = certificates.values()
    assert certificate["domain_name"] == f"{name_prefix(profile)}-{SUFFIX}.example.com"
    assert certificate["validation_method"] == "DNS" and certificate["lifecycle"]["create_before_destroy"] is True
    (validation,) = resources(doc, "aws_acm_certificate_validation").values()
    assert "validation_record_fqdns" not in validation
    # No zone for a placeholder (Route 53 refuses example.com), so no record anywhere.
    assert resources(doc, "aws_route53_record") == {} and resources(doc, "aws_route53_zone") == {}


def test_a_configured_domain_gets_a_zone_validation_record_and_an_alias(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql", TAP_CONFIG=str(DOMAIN_CONFIG))
    zone = only(doc, "aws_route53_zone")
    assert zone["name"] == "pay.example.org"
    assert only(doc, "aws_acm_certificate")["domain_name"] == "pay.example.org"
    records = resources(doc, "aws_route53_record")
    validation_record = records["edge_certificate_validation_record"]
    assert validation_record["zone_id"] == ref(doc, "aws_route53_zone", "edge_hosted_zone", "zone_id")
    assert "domain_validation_options" in validation_record["name"]
    assert only(doc, "aws_acm_certificate_validation")["validation_record_fqdns"] == [
        ref(doc, "aws_route53_record", "edge_certificate_validation_record", "fqdn")
    ]
    alias = records["edge_alias"]
    assert alias["name"] == "pay.example.org" and alias["type"] == "A"
    assert alias["alias"]["name"] == ref(doc, "aws_lb", "edge_load_balancer", "dns_name")


def user_data(template: dict[str, Any]) -> str:
    """The script as the instance receives it: plain base64, no Terraform expression inside."""
    return base64.b64decode(template["user_data"], validate=True).decode()


def test_launch_templates(doc: Document, profile: str) -> None:
    _, fleets, instance_type = edge_profile(profile)
    templates = resources(doc, "aws_launch_template")
    assert len(templates) == len(fleets)
    (ami,) = resources(doc.get("data", {}) and {"resource": doc["data"]}, "aws_ssm_parameter").values()
    assert ami["name"] == AMI_PARAMETER.format(architecture="x86_64")
    artifact = build(BUILD_DIR)
    for template in templates.values():
        assert template["image_id"].startswith("${data.aws_ssm_parameter.compute_ami_x86_64")
        assert template["instance_type"] == (instance_type if "batch" not in template["name"] else "t3.small")
        assert template["metadata_options"] == {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "instance_metadata_tags": "disabled",
        }
        (interface,) = template["network_interfaces"]
        assert interface["associate_public_ip_address"] == "false"
        assert interface["security_groups"] == [ref(doc, "aws_security_group", "foundation_app_security_group")]
        (root,) = template["block_device_mappings"]
        ebs = root["ebs"]
        assert (root["device_name"], ebs["volume_type"], ebs["encrypted"]) == ("/dev/xvda", "gp3", "true")
        assert ebs["kms_key_id"] == ref(doc, "aws_kms_key", "foundation_keys_compute", "arn")
        assert template["monitoring"] == {"enabled": True}
        assert "ebs_optimized" not in template  # the type's default; "true" fails types without it
        script = user_data(template)
        assert f"readonly ARTIFACT_SHA256={artifact.sha256}" in script
        prefix = name_prefix(profile)
        assert f"readonly ARTIFACT_BUCKET={prefix}-releases-{SUFFIX}" in script
        assert f"readonly DB_SECRET_ID={prefix}/{SUFFIX}/database/tap_app" in script
        assert "${" not in template["user_data"]
        role = template["name"].removeprefix(f"{name_prefix(profile)}-").removesuffix(f"-{SUFFIX}")
        assert f"readonly COLOUR={role}" in script


def test_the_ami_follows_the_instance_architecture() -> None:
    assert [architecture(t) for t in ("t3.large", "t4g.small", "m7g.large", "c7gn.xlarge", "m5.large")] == [
        "x86_64",
        "arm64",
        "arm64",
        "arm64",
        "x86_64",
    ]


def test_auto_scaling_groups(doc: Document, profile: str) -> None:
    _, fleets, _ = edge_profile(profile)
    groups = {_role(g): g for g in resources(doc, "aws_autoscaling_group").values()}
    assert set(groups) == fleets
    private = set(subnets(doc, "private"))
    for role, group in groups.items():
        assert set(group["vpc_zone_identifier"]) == private
        hours = profile in ("portal-cdn", "full") and role != "batch"
        assert group["lifecycle"]["ignore_changes"] == (
            ["desired_capacity", "min_size"] if hours else ["desired_capacity"]
        )
        assert {t["key"] for t in group["tag"]} >= {"Name", "Environment", "Role"}
        assert all(t["propagate_at_launch"] for t in group["tag"])
        # The deep /health decides routing only: a database outage must not replace the fleet.
        assert group["health_check_type"] == "EC2"
        if role == "batch":
            assert "target_group_arns" not in group
            assert (group["min_size"], group["desired_capacity"], group["max_size"]) == (1, 1, 4)
        else:
            colour = "web" if role == "web" else role
            assert group["target_group_arns"] == [
                ref(doc, "aws_lb_target_group", f"edge_load_balancer_target_group_{colour}", "arn")
            ]
            assert (group["min_size"], group["max_size"]) == (2, 6)


def _role(group: dict[str, Any]) -> str:
    return str({t["key"]: t["value"] for t in group["tag"]}["Role"])


def test_cpu_step_scaling_out_at_70_and_in_at_30(doc: Document, profile: str) -> None:
    _, fleets, _ = edge_profile(profile)
    # The scaling alarms (the observability tier's alarms for people are tested there).
    alarms = [
        a
        for p, a in resources(doc, "aws_cloudwatch_metric_alarm").items()
        if a.get("namespace") == "AWS/EC2" and p.startswith("compute_")
    ]
    assert len(alarms) == 2 * len(fleets)
    policies = resources(doc, "aws_autoscaling_policy")
    for alarm in alarms:
        assert alarm["metric_name"] == "CPUUtilization" and alarm["statistic"] == "Average"
        (action,) = alarm["alarm_actions"]
        scaling = policies[path_of(action.split(".")[1])]
        assert scaling["policy_type"] == "StepScaling"
        if alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold":
            assert alarm["threshold"] == 70
            assert [s["scaling_adjustment"] for s in scaling["step_adjustment"]] == [1, 2]
        else:
            assert (alarm["comparison_operator"], alarm["threshold"]) == ("LessThanOrEqualToThreshold", 30)
            assert [s["scaling_adjustment"] for s in scaling["step_adjustment"]] == [-1]


def test_business_hours_keep_three_instances_in_new_york(doc: Document, profile: str) -> None:
    edge_profile(profile)
    schedules = resources(doc, "aws_autoscaling_schedule")
    if profile not in ("portal-cdn", "full"):
        assert schedules == {}
        return
    web_groups = 2 if profile == "full" else 1
    assert len(schedules) == 2 * web_groups
    for schedule in schedules.values():
        assert schedule["time_zone"] == "America/New_York"
        # -1 leaves a size unchanged; omitted, it would be 0.
        assert (schedule["max_size"], schedule["desired_capacity"]) == (-1, -1)
        if schedule["scheduled_action_name"].endswith("business-hours-start"):
            assert (schedule["recurrence"], schedule["min_size"]) == ("0 8 * * MON-FRI", 3)
        else:
            assert (schedule["recurrence"], schedule["min_size"]) == ("0 18 * * MON-FRI", 2)


def test_the_instance_role_reads_exactly_the_secret_and_the_release(doc: Document, profile: str) -> None:
    edge_profile(profile)
    role = resources(doc, "aws_iam_role")["compute_instance_role"]
    (trust,) = policy(role, "assume_role_policy")["Statement"]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    inline = resources(doc, "aws_iam_role_policy")["compute_instance_role_policy"]
    statements = {s["Sid"]: s for s in policy(inline)["Statement"]}
    assert statements["ReadTheDatabaseSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadTheDatabaseSecret"]["Resource"] == ref(
        doc, "aws_secretsmanager_secret", "data_database_app_secret", "arn"
    )
    obj = resources(doc, "aws_s3_object")["compute_release_object"]
    assert statements["ReadTheRelease"] == {
        "Sid": "ReadTheRelease",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": f"{ref(doc, 'aws_s3_bucket', 'compute_release_bucket', 'arn')}/{obj['key']}",
    }
    for sid in ("DecryptTheSecret", "DecryptTheRelease"):
        assert statements[sid]["Action"] == ["kms:Decrypt"] and "kms:ViaService" in json.dumps(statements[sid])
    assert set(statements) == {
        "ReadTheDatabaseSecret",
        "DecryptTheSecret",
        "ReadTheRelease",
        "DecryptTheRelease",
        "ShipApplicationLogs",
        "PublishAgentMetrics",
    }


def test_the_release_is_stored_under_its_hash_encrypted(doc: Document, profile: str) -> None:
    edge_profile(profile)
    artifact = build(BUILD_DIR)
    obj = resources(doc, "aws_s3_object")["compute_release_object"]
    assert obj["key"] == f"tap-health/tap-health-{artifact.sha256}.zip" and obj["source_hash"] == artifact.sha256
    assert obj["server_side_encryption"] == "aws:kms"
    assert obj["kms_key_id"] == ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")


def test_the_s3_endpoint_admits_amazon_linux_repositories_only_with_compute(synthesized: Synthesized) -> None:
    def repository_statements(doc: Document) -> list[dict[str, Any]]:
        endpoint = resources(doc, "aws_vpc_endpoint")["foundation_endpoints_s3"]
        return [s for s in policy(endpoint)["Statement"] if s.get("Sid") == "AmazonLinuxRepositories"]

    (statement,) = repository_statements(synthesized("portal-cdn"))
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/*"
    assert repository_statements(synthesized("transactions-pg")) == []


def test_the_compute_key_lets_auto_scaling_launch_encrypted_volumes(doc: Document, profile: str) -> None:
    edge_profile(profile)
    key = resources(doc, "aws_kms_key")["foundation_keys_compute"]
    statements = {s["Sid"]: s for s in policy(key)["Statement"]}
    scaling_role = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    for sid in ("AutoScalingUsesKeyForInstanceVolumes", "AutoScalingGrantsKeyToEc2ForInstanceVolumes"):
        assert statements[sid]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": scaling_role}
    assert statements["AutoScalingGrantsKeyToEc2ForInstanceVolumes"]["Condition"]["Bool"] == {
        "kms:GrantIsForAWSResource": "true"
    }


def test_the_http_api_reaches_the_internal_load_balancer_through_a_vpc_link(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    integration = resources(doc, "aws_apigatewayv2_integration")["edge_private_route_integration"]
    assert integration["connection_type"] == "VPC_LINK"
    assert integration["connection_id"] == ref(doc, "aws_apigatewayv2_vpc_link", "edge_private_route_vpc_link")
    assert integration["integration_uri"] == ref(doc, "aws_lb_listener", "edge_load_balancer_https", "arn")
    assert integration["tls_config"] == {"server_name_to_verify": f"payment-{SUFFIX}.example.com"}
    assert integration["request_parameters"] == {"overwrite:path": "/$request.path.proxy"}
    route = resources(doc, "aws_apigatewayv2_route")["edge_private_route"]
    assert route["route_key"] == "ANY /service/{proxy+}" and route["authorization_type"] == "AWS_IAM"
    # Beside the payment API's Lambda routes, on the same API.
    assert route["api_id"] == ref(doc, "aws_apigatewayv2_api", "payments_api")
    link = only(doc, "aws_apigatewayv2_vpc_link")
    assert link["subnet_ids"] == subnets(doc, "private")


# Application logs: every fleet's agent ships to an encrypted group; 003 and full copy them to the app-logs bucket.
APP_LOGS_BUCKET = frozenset({"portal-cdn", "full"})


def test_instances_ship_their_logs_to_an_encrypted_group(doc: Document, profile: str) -> None:
    edge_profile(profile)
    group = resources(doc, "aws_cloudwatch_log_group")["compute_logs_group"]
    assert group["name"] == f"/{name_prefix(profile)}/{SUFFIX}/app/health"
    assert group["kms_key_id"] == ref(doc, "aws_kms_key", "foundation_keys_logs", "arn")
    assert group["retention_in_days"] == 365
    for template in resources(doc, "aws_launch_template").values():
        assert f"readonly APP_LOG_GROUP={group['name']}" in user_data(template)
    role_policy = policy(resources(doc, "aws_iam_role_policy")["compute_instance_role_policy"])
    (ship,) = [s for s in role_policy["Statement"] if s["Sid"] == "ShipApplicationLogs"]
    arn = ref(doc, "aws_cloudwatch_log_group", "compute_logs_group", "arn")
    assert ship["Resource"] == [arn, f"{arn}:log-stream:*"]
    assert ship["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def test_document_003_copies_the_logs_to_the_app_logs_bucket(doc: Document, profile: str) -> None:
    edge_profile(profile)
    streams = resources(doc, "aws_kinesis_firehose_delivery_stream")
    if profile not in APP_LOGS_BUCKET:
        assert "compute_logs_stream" not in streams
        assert not [f for f in resources(doc, "aws_cloudwatch_log_subscription_filter") if f.startswith("compute_")]
        return
    stream = streams["compute_logs_stream"]
    assert stream["server_side_encryption"] == {
        "enabled": True,
        "key_type": "CUSTOMER_MANAGED_CMK",
        "key_arn": ref(doc, "aws_kms_key", "foundation_keys_s3", "arn"),
    }
    s3 = stream["extended_s3_configuration"]
    assert s3["bucket_arn"] == ref(doc, "aws_s3_bucket", "foundation_storage_app_logs_bucket", "arn")
    assert (s3["prefix"], s3["compression_format"]) == ("health/", "GZIP")
    assert s3["kms_key_arn"] == ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")
    processors = s3["processing_configuration"]["processors"]
    assert [p["type"] for p in processors] == ["Decompression", "CloudWatchLogProcessing"]
    assert s3["cloudwatch_logging_options"]["enabled"] is True
    subscription = resources(doc, "aws_cloudwatch_log_subscription_filter")["compute_logs_subscription_health"]
    assert subscription["log_group_name"] == ref(doc, "aws_cloudwatch_log_group", "compute_logs_group", "name")
    assert subscription["destination_arn"] == ref(
        doc, "aws_kinesis_firehose_delivery_stream", "compute_logs_stream", "arn"
    )
    assert subscription["filter_pattern"] == ""
    roles = resources(doc, "aws_iam_role")
    trust = policy(roles["compute_logs_subscription_role"], "assume_role_policy")["Statement"][0]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    (put,) = policy(resources(doc, "aws_iam_role_policy")["compute_logs_subscription_role_policy"])["Statement"]
    assert put["Resource"] == ref(doc, "aws_kinesis_firehose_delivery_stream", "compute_logs_stream", "arn")
    delivery = policy(resources(doc, "aws_iam_role_policy")["compute_logs_delivery_role_policy"])["Statement"]
    (write,) = [s for s in delivery if s["Sid"] == "WriteItsPrefixes"]
    bucket = ref(doc, "aws_s3_bucket", "foundation_storage_app_logs_bucket", "arn")
    assert write["Resource"] == [f"{bucket}/health/*", f"{bucket}/errors/health/*"]
    # No transform: nothing to invoke.
    assert not [s for s in delivery if s["Sid"] == "InvokeTheTransform"]
