"""The governance tier's account singletons in the baseline stack: GuardDuty, AWS Config, CloudTrail,
Security Hub, Access Analyzer and the account's S3 public access block."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from lib.governance import config_rules, guardduty
from lib.governance.config_rules import EXCLUDED, RULES
from lib.governance.guardduty import FEATURES
from lib.governance.trail import WATCHES
from tests.conftest import Document, Synthesized, address_name, iter_statements, policy, ref, resources

ROOT = Path(__file__).resolve().parents[2]
CROSSWALK = ROOT / "compliance" / "pci" / "config_rules_pci40.json"
DETECTOR_ID = "12abc34d567e8fa901bc2d34e56789f0"
ACCOUNT = "${data.aws_caller_identity.current.account_id}"
# Rule-name prefixes of the services TAP builds (AWS's rule names start with their service).
TAP_SERVICES = (
    "access-keys",
    "acm-",
    "api-gw",
    "aurora-",
    "autoscaling-",
    "backup-",
    "cloudfront-",
    "cloudtrail-",
    "cloudwatch-",
    "cw-",
    "db-",
    "dynamodb-",
    "ebs-",
    "ec2-",
    "efs-",
    "elasticache-",
    "elb-",
    "iam-",
    "internet-gateway-",
    "lambda-",
    "multi-region-cloudtrail",
    "nacl-",
    "rds-",
    "restricted-ssh",
    "s3-",
    "secretsmanager-",
    "security-account",
    "sns-",
    "vpc-",
    "wafv2-webacl",
)


def baseline_with(synthesized: Synthesized, tmp_path: Path, toml: str, **env: str) -> Document:
    config = tmp_path / "account.toml"
    config.write_text(toml)
    return synthesized.baseline("web-mysql", TAP_CONFIG=str(config), **env)


def one(document: Document, kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = resources(document, kind).items()
    return found


def key_of(document: Document, purpose: str) -> dict[str, Any]:
    """The baseline key whose alias names `purpose`."""
    (alias,) = [
        a
        for a in resources(document, "aws_kms_alias").values()
        if a["name"].startswith(f"alias/tap-baseline-{purpose}-")
    ]
    target = alias["target_key_id"]
    (key,) = [
        k
        for path, k in resources(document, "aws_kms_key").items()
        if target == ref(document, "aws_kms_key", path, "key_id")
    ]
    return key


def services_admitted(key: dict[str, Any]) -> set[str]:
    return {
        service
        for statement in iter_statements(policy(key))
        for service in (
            [statement["Principal"]["Service"]]
            if isinstance(statement["Principal"].get("Service"), str)
            else statement["Principal"].get("Service", [])
        )
    }


# --- GuardDuty -----------------------------------------------------------------------------------


def test_the_detector_publishes_every_six_hours_and_a_protected_baseline_never_destroys_it(
    synthesized: Synthesized,
) -> None:
    baseline = synthesized.baseline("full")
    _, detector = one(baseline, "aws_guardduty_detector")
    assert detector["enable"] is True and detector["finding_publishing_frequency"] == "SIX_HOURS"
    assert detector["lifecycle"] == {"prevent_destroy": True}
    assert "import" not in baseline  # the default creates the detector


def test_every_protection_plan_is_on(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    detector = ref(baseline, "aws_guardduty_detector", "governance_guardduty_detector")
    features = {f["name"]: f for f in resources(baseline, "aws_guardduty_detector_feature").values()}
    assert (
        set(features)
        == set(FEATURES)
        == {
            "S3_DATA_EVENTS",
            "RDS_LOGIN_EVENTS",
            "LAMBDA_NETWORK_LOGS",
            "RUNTIME_MONITORING",
            "EBS_MALWARE_PROTECTION",
        }
    )
    assert all(f["status"] == "ENABLED" and f["detector_id"] == detector for f in features.values())
    # Every agent setting GuardDuty reports is stated, so a plan finds none it did not expect.
    assert features["RUNTIME_MONITORING"]["additional_configuration"] == [
        {"name": "EC2_AGENT_MANAGEMENT", "status": "ENABLED"},
        {"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "DISABLED"},
        {"name": "EKS_ADDON_MANAGEMENT", "status": "DISABLED"},
    ]


def test_plans_and_rules_aws_does_not_offer_in_a_region_are_left_out(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not RULES["backup-recovery-point-manual-deletion-disabled"].available_in("ap-east-2")
    assert not RULES["ec2-launch-template-public-ip-disabled"].available_in("eu-central-2")
    assert RULES["ec2-launch-template-public-ip-disabled"].available_in("eu-west-1")
    # The synthesized baseline follows those lists (shown in a region the test makes unsupported;
    # ap-east-2 itself has no Powertools layer for the environment's functions).
    monkeypatch.setitem(guardduty.UNAVAILABLE, "RDS_LOGIN_EVENTS", frozenset({"ca-central-1"}))
    monkeypatch.setitem(config_rules.UNAVAILABLE, "EC2_IMDSV2_CHECK", frozenset({"ca-central-1"}))
    baseline = synthesized.baseline("full", AWS_REGION="ca-central-1")
    features = {f["name"] for f in resources(baseline, "aws_guardduty_detector_feature").values()}
    assert features == set(FEATURES) - {"RDS_LOGIN_EVENTS"}
    rules = rule_instances(baseline)
    assert "ec2-imdsv2-check" not in rules and "encrypted-volumes" in rules


def test_an_existing_detector_is_adopted_with_an_import_not_duplicated(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    baseline = baseline_with(synthesized, tmp_path, f'[baseline.guardduty]\nexisting_detector_id = "{DETECTOR_ID}"\n')
    assert len(resources(baseline, "aws_guardduty_detector")) == 1
    name = address_name(baseline, "aws_guardduty_detector", "governance_guardduty_detector")
    assert baseline["import"] == [{"to": f"aws_guardduty_detector.{name}", "id": DETECTOR_ID}]


def test_what_a_destroyable_baseline_adopted_is_never_destroyed(synthesized: Synthesized, tmp_path: Path) -> None:
    """A sandbox baseline may be torn down, but not the detector, recorder or hub it found there."""
    baseline = baseline_with(
        synthesized,
        tmp_path,
        "[baseline]\ndestroyable = true\n"
        f'[baseline.guardduty]\nexisting_detector_id = "{DETECTOR_ID}"\nexisting_publishing_destination_id = "a1b2"\n'
        '[baseline.aws_config]\nexisting_recorder_name = "default"\nexisting_delivery_channel_name = "default"\n'
        "[baseline.security_hub]\nexisting_subscription = true\n",
    )
    adopted = {entry["to"].split(".")[0]: entry["id"] for entry in baseline["import"]}
    assert adopted["aws_guardduty_publishing_destination"] == f"{DETECTOR_ID}:a1b2"
    for kind in adopted:
        (resource,) = resources(baseline, kind).values()
        assert resource["lifecycle"]["prevent_destroy"] is True, kind
    # What it created itself follows its lifecycle.
    assert resources(baseline, "aws_s3_bucket")["governance_records_trail_bucket"]["force_destroy"] is True


def test_a_created_detector_of_a_destroyable_baseline_may_go(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline]\ndestroyable = true\n")
    assert one(baseline, "aws_guardduty_detector")[1]["lifecycle"] == {"prevent_destroy": False}


def test_findings_are_exported_to_a_bucket_whose_key_and_policy_admit_only_this_detector(
    synthesized: Synthesized,
) -> None:
    baseline = synthesized.baseline("full")
    detector_id = ref(baseline, "aws_guardduty_detector", "governance_guardduty_detector")
    detector_arn = f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/{detector_id}"
    _, export = one(baseline, "aws_guardduty_publishing_destination")
    bucket_arn = ref(baseline, "aws_s3_bucket", "governance_records_findings_bucket", "arn")
    assert export["destination_arn"] == bucket_arn
    key = key_of(baseline, "findings")
    assert export["kms_key_arn"].endswith(".arn}") and services_admitted(key) == {"guardduty.amazonaws.com"}
    (grant,) = [s for s in iter_statements(policy(key)) if "Service" in s["Principal"]]
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": detector_arn}}
    bucket_policy = resources(baseline, "aws_s3_bucket_policy")["governance_records_findings_policy"]
    writes = [
        s
        for s in iter_statements(policy(bucket_policy))
        if s.get("Principal") == {"Service": "guardduty.amazonaws.com"}
    ]
    assert {s["Action"] for s in writes} == {"s3:GetBucketLocation", "s3:PutObject"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == detector_arn for s in writes)
    name = address_name(baseline, "aws_s3_bucket_policy", "governance_records_findings_policy")
    assert export["depends_on"] == [f"aws_s3_bucket_policy.{name}"]


def test_findings_are_kept_a_year_and_the_bucket_name_holds_the_account(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    bucket = resources(baseline, "aws_s3_bucket")["governance_records_findings_bucket"]
    assert bucket["bucket"] == f"tap-baseline-findings-{ACCOUNT}-us-east-1"
    lifecycle = resources(baseline, "aws_s3_bucket_lifecycle_configuration")["governance_records_findings_lifecycle"]
    (rule,) = lifecycle["rule"]
    # Document 002's 90 days at hand, then the archive until PCI 10.5.1's year.
    assert rule["transition"] == [{"days": 90, "storage_class": "GLACIER_IR"}]
    assert rule["expiration"] == [{"days": 365}]


def rule_pattern(document: Document, route: str) -> dict[str, Any]:
    return dict(
        json.loads(resources(document, "aws_cloudwatch_event_rule")[f"governance_alerts_{route}_rule"]["event_pattern"])
    )


def test_high_severity_findings_and_compliance_changes_reach_encrypted_topics(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    assert rule_pattern(baseline, "guardduty_findings")["detail"] == {"severity": [{"numeric": [">=", 7]}]}
    assert rule_pattern(baseline, "config_compliance")["detail-type"] == ["Config Rules Compliance Change"]
    targets = resources(baseline, "aws_cloudwatch_event_target")
    topic = {
        t: ref(baseline, "aws_sns_topic", f"governance_alerts_{t}", "arn") for t in ("security_alerts", "compliance")
    }
    assert targets["governance_alerts_guardduty_findings_target"]["arn"] == topic["security_alerts"]
    assert targets["governance_alerts_config_compliance_target"]["arn"] == topic["compliance"]
    alerts_key = key_of(baseline, "alerts")
    assert services_admitted(alerts_key) == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}
    for name in ("security_alerts", "compliance"):
        assert resources(baseline, "aws_sns_topic")[f"governance_alerts_{name}"]["kms_master_key_id"].startswith(
            "${aws_kms_key."
        )
    # Each topic admits exactly its own rule.
    security_policy = policy(resources(baseline, "aws_sns_topic_policy")["governance_alerts_security_alerts_policy"])
    (from_rules,) = [s for s in iter_statements(security_policy) if s["Sid"] == "EventBridgeRules"]
    assert from_rules["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        ref(baseline, "aws_cloudwatch_event_rule", "governance_alerts_guardduty_findings_rule", "arn")
    ]


def test_turning_guardduty_off_removes_the_detector_and_its_route(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline.guardduty]\nenabled = false\n")
    assert resources(baseline, "aws_guardduty_detector") == {}
    assert "governance_alerts_guardduty_findings_rule" not in resources(baseline, "aws_cloudwatch_event_rule")
    assert "governance_alerts_config_compliance_rule" in resources(baseline, "aws_cloudwatch_event_rule")


# --- AWS Config ----------------------------------------------------------------------------------


def test_config_records_everything_then_delivers_then_starts(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    recorder_name, recorder = one(baseline, "aws_config_configuration_recorder")
    assert recorder["recording_group"] == {"all_supported": True, "include_global_resource_types": True}
    channel_name, channel = one(baseline, "aws_config_delivery_channel")
    _, status = one(baseline, "aws_config_configuration_recorder_status")
    recorder_address = f"aws_config_configuration_recorder.{address_name(baseline, 'aws_config_configuration_recorder', recorder_name)}"
    channel_address = (
        f"aws_config_delivery_channel.{address_name(baseline, 'aws_config_delivery_channel', channel_name)}"
    )
    assert recorder_address in channel["depends_on"]
    assert status["depends_on"] == [channel_address] and status["is_enabled"] is True
    assert status["name"] == ref(baseline, "aws_config_configuration_recorder", recorder_name, "name")
    assert channel["s3_bucket_name"] == ref(baseline, "aws_s3_bucket", "governance_records_config_bucket", "bucket")
    assert channel["s3_kms_key_arn"].startswith("${aws_kms_key.")
    (rules,) = resources(baseline, "aws_config_config_rule").values()
    assert rules["depends_on"] == [recorder_address]
    attachments = resources(baseline, "aws_iam_role_policy_attachment")
    assert attachments["governance_config_role_managed_0"]["policy_arn"] == (
        "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    )
    versioning = resources(baseline, "aws_s3_bucket_versioning")["governance_records_config_versioning"]
    assert versioning["versioning_configuration"] == {"status": "Enabled"}


def test_global_resource_types_can_be_left_out(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline.aws_config]\nrecord_global_resources = false\n")
    _, recorder = one(baseline, "aws_config_configuration_recorder")
    assert recorder["recording_group"]["include_global_resource_types"] is False


def test_account_wide_parts_live_in_the_home_region_only(synthesized: Synthesized, tmp_path: Path) -> None:
    """One file for an account's baselines in every region: the trail, global types and the
    account's public access block are built once, in the home region."""
    toml = '[baseline]\nhome_region = "eu-west-1"\n'
    home = baseline_with(synthesized, tmp_path, toml, AWS_REGION="eu-west-1")
    other = baseline_with(synthesized, tmp_path, toml, AWS_REGION="us-east-2")
    assert len(resources(home, "aws_cloudtrail")) == 1 and resources(other, "aws_cloudtrail") == {}
    assert len(resources(home, "aws_s3_account_public_access_block")) == 1
    assert resources(other, "aws_s3_account_public_access_block") == {}
    assert one(home, "aws_config_configuration_recorder")[1]["recording_group"]["include_global_resource_types"]
    assert not one(other, "aws_config_configuration_recorder")[1]["recording_group"]["include_global_resource_types"]
    # Regional services stay in every region.
    for kind in ("aws_guardduty_detector", "aws_securityhub_account", "aws_accessanalyzer_analyzer"):
        assert len(resources(other, kind)) == 1, kind


def test_an_existing_recorder_and_channel_are_adopted_by_name(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(
        synthesized,
        tmp_path,
        '[baseline.aws_config]\nexisting_recorder_name = "default"\nexisting_delivery_channel_name = "default"\n',
    )
    imports = {entry["to"].split(".")[0]: entry["id"] for entry in baseline["import"]}
    assert imports == {"aws_config_configuration_recorder": "default", "aws_config_delivery_channel": "default"}
    assert one(baseline, "aws_config_configuration_recorder")[1]["lifecycle"] == {"prevent_destroy": True}
    assert one(baseline, "aws_config_configuration_recorder")[1]["name"] == "default"
    assert one(baseline, "aws_config_delivery_channel")[1]["name"] == "default"


def rule_instances(document: Document) -> dict[str, dict[str, Any]]:
    (rules,) = resources(document, "aws_config_config_rule").values()
    return dict(rules["for_each"])


def test_the_issues_rules_and_the_pci_packs_rules_are_deployed(synthesized: Synthesized) -> None:
    deployed = rule_instances(synthesized.baseline("full"))
    identifiers = {rule["identifier"] for rule in deployed.values()}
    assert {"ENCRYPTED_VOLUMES", "RDS_STORAGE_ENCRYPTED", "VPC_FLOW_LOGS_ENABLED"} <= identifiers
    assert set(deployed) == set(RULES)  # us-east-1: CloudFront's rules included
    assert deployed["encrypted-volumes"]["name"] == "tap-baseline-encrypted-volumes-us-east-1"
    assert json.loads(deployed["cloudwatch-alarm-action-check"]["input_parameters"])["alarmActionRequired"] == "true"
    assert deployed["dynamodb-pitr-enabled"]["input_parameters"] == ""  # AWS's defaults (null in the plan)


def test_cloudfronts_rules_exist_only_where_aws_offers_them(synthesized: Synthesized) -> None:
    elsewhere = rule_instances(synthesized.baseline("full", AWS_REGION="eu-west-1"))
    assert not [name for name in elsewhere if name.startswith("cloudfront-")]
    assert set(RULES) - set(elsewhere) == {name for name in RULES if name.startswith("cloudfront-")}


def test_each_rule_names_exactly_the_requirement_ids_aws_publishes_for_it() -> None:
    crosswalk = {rule["config_rule_identifier"]: rule for rule in json.loads(CROSSWALK.read_text())["rules"]}
    for name, rule in RULES.items():
        # ENCRYPTED_VOLUMES is in neither AWS PCI pack: no published id, TAP's judgement only.
        published = crosswalk.get(rule.identifier, {"config_rule_name": name, "requirements": []})
        assert published["config_rule_name"] == name
        assert list(rule.requirements) == published["requirements"], name
        # Every deployed rule evidences something; TAP's own judgement only where AWS publishes nothing.
        assert bool(rule.requirements) != bool(rule.judged), name
    in_pack = {r["config_rule_name"] for r in crosswalk.values() if r["in_aws_pci40_pack"]}
    assert set(EXCLUDED) <= in_pack and not set(EXCLUDED) & set(RULES)
    # Every pack rule over a service TAP builds is either deployed or excluded with a reason.
    over_tap = {name for name in in_pack if name.startswith(TAP_SERVICES)}
    assert over_tap - set(RULES) - set(EXCLUDED) == set()


def test_the_crosswalk_check_sees_a_wrong_requirement_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above fails on a rule that claims an id AWS does not publish for it."""
    wrong = dataclasses.replace(RULES["dynamodb-pitr-enabled"], requirements=("3.5.1",))
    monkeypatch.setitem(RULES, "dynamodb-pitr-enabled", wrong)
    with pytest.raises(AssertionError, match="dynamodb-pitr-enabled"):
        test_each_rule_names_exactly_the_requirement_ids_aws_publishes_for_it()


# --- CloudTrail ----------------------------------------------------------------------------------


def test_the_trail_covers_every_region_with_validated_encrypted_logs(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    _, trail = one(baseline, "aws_cloudtrail")
    assert trail["is_multi_region_trail"] is True and trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True and trail["kms_key_id"].startswith("${aws_kms_key.")
    assert trail["s3_bucket_name"] == ref(baseline, "aws_s3_bucket", "governance_records_trail_bucket", "bucket")
    log_group = resources(baseline, "aws_cloudwatch_log_group")["governance_cloudtrail_log_group"]
    assert (
        trail["cloud_watch_logs_group_arn"]
        == ref(baseline, "aws_cloudwatch_log_group", "governance_cloudtrail_log_group", "arn") + ":*"
    )
    assert log_group["retention_in_days"] == 365 and log_group["kms_key_id"] == trail["kms_key_id"]


def test_the_trail_key_admits_cloudtrail_for_this_trail_and_logs_for_its_group(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    key = key_of(baseline, "trail")
    assert services_admitted(key) == {"cloudtrail.amazonaws.com", "logs.us-east-1.amazonaws.com"}
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/tap-baseline-account-us-east-1"
    for statement in iter_statements(policy(key)):
        if statement["Principal"].get("Service") == "cloudtrail.amazonaws.com":
            assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": trail_arn}


def test_cloudtrail_writes_only_this_accounts_logs_for_this_trail_and_its_role_trusts_only_it(
    synthesized: Synthesized,
) -> None:
    baseline = synthesized.baseline("full")
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/tap-baseline-account-us-east-1"
    bucket_policy = policy(resources(baseline, "aws_s3_bucket_policy")["governance_records_trail_policy"])
    by_sid = {s["Sid"]: s for s in iter_statements(bucket_policy)}
    bucket = ref(baseline, "aws_s3_bucket", "governance_records_trail_bucket", "arn")
    assert by_sid["CloudTrailChecksBucketAcl"]["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn}}
    assert by_sid["CloudTrailWritesThisAccountsLogs"]["Resource"] == f"{bucket}/AWSLogs/{ACCOUNT}/*"
    assert by_sid["CloudTrailWritesThisAccountsLogs"]["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    role = resources(baseline, "aws_iam_role")["governance_cloudtrail_delivery_role"]
    (trust,) = policy(role, "assume_role_policy")["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": trail_arn},
    }
    # The trail waits for the bucket policy and the role's permissions, which CloudTrail checks.
    _, trail = one(baseline, "aws_cloudtrail")
    assert len(trail["depends_on"]) == 2 and any(d.startswith("aws_iam_role_policy.") for d in trail["depends_on"])


def test_config_delivers_only_under_this_accounts_prefix(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    bucket = ref(baseline, "aws_s3_bucket", "governance_records_config_bucket", "arn")
    statements = {
        s["Sid"]: s
        for s in iter_statements(
            policy(resources(baseline, "aws_s3_bucket_policy")["governance_records_config_policy"])
        )
    }
    assert statements["ConfigDelivers"]["Resource"] == f"{bucket}/AWSLogs/{ACCOUNT}/Config/*"
    assert statements["ConfigDelivers"]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    role = resources(baseline, "aws_iam_role")["governance_config_role"]
    (trust,) = policy(role, "assume_role_policy")["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    inline = policy(resources(baseline, "aws_iam_role_policy")["governance_config_role_policy"])
    assert {"s3:PutObject", "s3:PutObjectAcl"} <= {
        a for s in iter_statements(inline) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    _, channel = one(baseline, "aws_config_delivery_channel")
    assert any(d.startswith("aws_iam_role_policy.") for d in channel["depends_on"])


@pytest.mark.parametrize(("toml", "mode"), [("", "COMPLIANCE"), ("[baseline]\ndestroyable = true\n", "GOVERNANCE")])
def test_trail_logs_are_write_once_for_a_year(synthesized: Synthesized, tmp_path: Path, toml: str, mode: str) -> None:
    baseline = baseline_with(synthesized, tmp_path, toml)
    bucket = resources(baseline, "aws_s3_bucket")["governance_records_trail_bucket"]
    assert bucket["object_lock_enabled"] is True
    (lock,) = resources(baseline, "aws_s3_bucket_object_lock_configuration").values()
    assert lock["rule"]["default_retention"] == {"mode": mode, "days": 365}
    assert lock["bucket"] == ref(baseline, "aws_s3_bucket", "governance_records_trail_bucket")
    # Only the trail's bucket is locked.
    assert [path for path, b in resources(baseline, "aws_s3_bucket").items() if b.get("object_lock_enabled")] == [
        "governance_records_trail_bucket"
    ]


def test_every_watched_change_alarms_to_the_security_topic(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    filters = resources(baseline, "aws_cloudwatch_log_metric_filter")
    alarms = resources(baseline, "aws_cloudwatch_metric_alarm")
    topic = ref(baseline, "aws_sns_topic", "governance_alerts_security_alerts", "arn")
    assert set(WATCHES) >= {
        "root_use",
        "unauthorized_calls",
        "console_login_without_mfa",
        "iam_policy_changes",
        "cloudtrail_changes",
        "config_changes",
        "kms_key_changes",
        "security_group_changes",
        "nacl_changes",
        "route_table_changes",
        "gateway_changes",
    }
    for watch_id, watch in WATCHES.items():
        metric_filter = filters[f"governance_cloudtrail_{watch_id}_filter"]
        assert metric_filter["log_group_name"] == ref(
            baseline, "aws_cloudwatch_log_group", "governance_cloudtrail_log_group", "name"
        )
        assert metric_filter["metric_transformation"]["name"] == watch.metric
        alarm = alarms[f"governance_cloudtrail_{watch_id}_alarm"]
        assert (alarm["metric_name"], alarm["namespace"]) == (
            watch.metric,
            metric_filter["metric_transformation"]["namespace"],
        )
        assert alarm["alarm_actions"] == [topic] and alarm["treat_missing_data"] == "notBreaching"


# --- Security Hub and account guards -------------------------------------------------------------


def test_security_hub_subscribes_to_pci_dss_and_foundational_best_practices_only(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full", AWS_REGION="eu-west-1")
    _, account = one(baseline, "aws_securityhub_account")
    assert account["enable_default_standards"] is False
    standards = {s["standards_arn"] for s in resources(baseline, "aws_securityhub_standards_subscription").values()}
    assert standards == {
        "arn:aws:securityhub:eu-west-1::standards/pci-dss/v/4.0.1",
        "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
    }


def test_an_existing_security_hub_subscription_is_adopted(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline.security_hub]\nexisting_subscription = true\n")
    name = address_name(baseline, "aws_securityhub_account", "governance_security_hub_account")
    assert baseline["import"] == [{"to": f"aws_securityhub_account.{name}", "id": ACCOUNT}]


def test_access_analyzer_and_the_account_public_access_block(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    assert one(baseline, "aws_accessanalyzer_analyzer")[1]["type"] == "ACCOUNT"
    _, block = one(baseline, "aws_s3_account_public_access_block")
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_each_service_key_admits_exactly_its_service(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    expected = {
        "findings": {"guardduty.amazonaws.com"},
        "config": {"config.amazonaws.com"},
        "trail": {"cloudtrail.amazonaws.com", "logs.us-east-1.amazonaws.com"},
        "alerts": {"events.amazonaws.com", "cloudwatch.amazonaws.com"},
        "traces": set(),
    }
    assert {purpose: services_admitted(key_of(baseline, purpose)) for purpose in expected} == expected
    config_grant = [s for s in iter_statements(policy(key_of(baseline, "config"))) if "Service" in s["Principal"]]
    assert config_grant[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:config:us-east-1:{ACCOUNT}:*"},
    }
