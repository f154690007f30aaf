"""Remediation that runs: AWS's Automation documents attached to their rules, and TAP's function for
the rest, limited by IAM to its fixes in its own account and region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lib.contracts import remediation as contract
from lib.governance.remediation import AUTOMATIONS, FUNCTION_RULES
from tests.conftest import Document, Synthesized, iter_statements, policy, ref, resources

ACCOUNT = "${data.aws_caller_identity.current.account_id}"


def baseline_with(synthesized: Synthesized, tmp_path: Path, toml: str, **env: str) -> Document:
    config = tmp_path / "account.toml"
    config.write_text(toml)
    return synthesized.baseline("web-mysql", TAP_CONFIG=str(config), **env)


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_each_automation_runs_aws_document_on_the_noncompliant_resource(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    configurations = {
        c["config_rule_name"]: c for c in resources(baseline, "aws_config_remediation_configuration").values()
    }
    assert set(configurations) == {f"tap-baseline-{rule}-us-east-1" for rule in AUTOMATIONS}
    role = ref(baseline, "aws_iam_role", "governance_remediation_automation_role", "arn")
    (rules,) = resources(baseline, "aws_config_config_rule").values()
    for rule, automation in AUTOMATIONS.items():
        configuration = configurations[f"tap-baseline-{rule}-us-east-1"]
        assert configuration["target_type"] == "SSM_DOCUMENT" and configuration["target_id"] == automation.document
        assert configuration["automatic"] is True and configuration["maximum_automatic_attempts"] == 3
        parameters = {p["name"]: p for p in configuration["parameter"]}
        assert parameters["AutomationAssumeRole"] == {"name": "AutomationAssumeRole", "static_value": role}
        assert parameters[automation.resource_parameter]["resource_value"] == "RESOURCE_ID"
        assert configuration["depends_on"][0].startswith("aws_config_config_rule.")
        # The rule it attaches to is deployed.
        assert configuration["config_rule_name"] in {v["name"] for v in rules["for_each"].values()}


# AWS's Systems Manager Automation runbook reference, per document: the parameter Config fills with
# the resource's id, static parameters, and (where the page lists them) the permissions it needs.
PUBLISHED = {
    "s3-bucket-versioning-enabled": ("AWS-ConfigureS3BucketVersioning", "BucketName", {"VersioningState": "Enabled"}),
    "s3-bucket-level-public-access-prohibited": (
        "AWSConfigRemediation-ConfigureS3BucketPublicAccessBlock",
        "BucketName",
        {},
    ),
    "s3-bucket-ssl-requests-only": ("AWSConfigRemediation-RestrictBucketSSLRequestsOnly", "BucketName", {}),
    "dynamodb-pitr-enabled": ("AWSConfigRemediation-EnablePITRForDynamoDbTable", "TableName", {}),
    "s3-account-level-public-access-blocks": ("AWSConfigRemediation-ConfigureS3PublicAccessBlock", "AccountId", {}),
}


def test_the_documents_and_parameters_are_the_published_ones(synthesized: Synthesized) -> None:
    """Pinned from AWS's reference, not from TAP's own table: a typo there fails here."""
    baseline = synthesized.baseline("full")
    configurations = {
        c["config_rule_name"]: c for c in resources(baseline, "aws_config_remediation_configuration").values()
    }
    assert len(configurations) == len(PUBLISHED)
    for rule, (document, resource_parameter, static) in PUBLISHED.items():
        configuration = configurations[f"tap-baseline-{rule}-us-east-1"]
        parameters = {p["name"]: p for p in configuration["parameter"]}
        assert configuration["target_id"] == document
        assert parameters[resource_parameter] == {"name": resource_parameter, "resource_value": "RESOURCE_ID"}
        assert {
            n: p["static_value"] for n, p in parameters.items() if n not in ("AutomationAssumeRole", resource_parameter)
        } == static
    policy_actions = {
        a
        for s in iter_statements(
            policy(resources(baseline, "aws_iam_role_policy")["governance_remediation_automation_role_policy"])
        )
        for a in actions(s)
    }
    assert {
        "s3:DeleteBucketPolicy",
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:PutEncryptionConfiguration",
    } <= policy_actions
    assert {"dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups"} <= policy_actions
    assert {"s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"} <= policy_actions


def test_the_automation_role_may_make_exactly_the_documents_changes_in_this_account(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    role = resources(baseline, "aws_iam_role")["governance_remediation_automation_role"]
    (trust,) = policy(role, "assume_role_policy")["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    statements = list(
        iter_statements(
            policy(resources(baseline, "aws_iam_role_policy")["governance_remediation_automation_role_policy"])
        )
    )
    allowed = {a for s in statements for a in actions(s)}
    expected = {a for automation in AUTOMATIONS.values() for a in automation.actions}
    assert allowed == expected | {"ssm:StartAutomationExecution", "ssm:GetAutomationExecution"}
    assert not any("*" in a for a in allowed)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["BucketsOfThisAccount"]["Resource"] == "arn:aws:s3:::*"
    assert by_sid["BucketsOfThisAccount"]["Condition"] == {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
    # The account's public access block has no ARN; those calls act on the caller's own account.
    assert by_sid["ThisAccountsPublicAccessBlock"]["Resource"] == "*"


def test_the_account_wide_automation_runs_in_the_home_region_only(synthesized: Synthesized, tmp_path: Path) -> None:
    other = baseline_with(synthesized, tmp_path, '[baseline]\nhome_region = "eu-west-1"\n', AWS_REGION="us-east-2")
    names = {c["config_rule_name"] for c in resources(other, "aws_config_remediation_configuration").values()}
    assert "tap-baseline-s3-account-level-public-access-blocks-us-east-2" not in names
    assert "tap-baseline-s3-bucket-versioning-enabled-us-east-2" in names


def function_of(document: Document) -> dict[str, Any]:
    return resources(document, "aws_lambda_function")["governance_remediation_function"]


def test_the_function_gets_every_setting_its_handler_reads(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    function = function_of(baseline)
    variables = function["environment"]["variables"]
    assert set(contract.REQUIRED_SETTINGS) <= set(variables)
    assert variables[contract.DRY_RUN] == "false"
    for rule, setting in FUNCTION_RULES.items():
        assert variables[setting] == f"tap-baseline-{rule}-us-east-1"
    assert variables[contract.NOTIFY_TOPIC_ARN] == ref(
        baseline, "aws_sns_topic", "governance_alerts_security_alerts", "arn"
    )
    assert variables[contract.FLOW_LOG_DESTINATION_ARN] == ref(
        baseline, "aws_s3_bucket", "governance_records_flow_logs_bucket", "arn"
    )
    assert "vpc_config" not in function  # the baseline has no VPC
    assert function["dead_letter_config"]["target_arn"] == ref(
        baseline, "aws_sqs_queue", "governance_remediation_dlq_queue", "arn"
    )
    assert function["tracing_config"] == {"mode": "Active"}


def test_dry_run_is_a_config_flag_that_stops_the_documents_too(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline.remediation]\ndry_run = true\n")
    assert function_of(baseline)["environment"]["variables"][contract.DRY_RUN] == "true"
    # Attached for a manual "Remediate", never run by themselves.
    assert {c["automatic"] for c in resources(baseline, "aws_config_remediation_configuration").values()} == {False}


def test_a_failed_remediation_pages_the_security_topic(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    alarms = resources(baseline, "aws_cloudwatch_metric_alarm")
    topic = ref(baseline, "aws_sns_topic", "governance_alerts_security_alerts", "arn")
    dead_letters = alarms["governance_remediation_dead_letters_alarm"]
    assert dead_letters["dimensions"] == {
        "QueueName": ref(baseline, "aws_sqs_queue", "governance_remediation_dlq_queue", "name")
    }
    assert (dead_letters["metric_name"], dead_letters["threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    errors = alarms["governance_remediation_errors_alarm"]
    assert errors["dimensions"] == {
        "FunctionName": ref(baseline, "aws_lambda_function", "governance_remediation_function", "function_name")
    }
    # Its idempotency table's throttling too: a throttled table fails remediations until it recovers.
    table = ref(baseline, "aws_dynamodb_table", "governance_remediation_idempotency_table", "name")
    throttles = {
        a["metric_name"]
        for a in alarms.values()
        if a.get("dimensions") == {"TableName": table} and a["alarm_actions"] == [topic]
    }
    assert throttles == {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert "governance_remediation_throttles_alarm" in alarms
    for alarm in (dead_letters, errors):
        assert (
            alarm["alarm_actions"] == alarm["ok_actions"] == [topic] and alarm["treat_missing_data"] == "notBreaching"
        )


def test_remediation_can_be_turned_off(synthesized: Synthesized, tmp_path: Path) -> None:
    baseline = baseline_with(synthesized, tmp_path, "[baseline.remediation]\nenabled = false\n")
    assert resources(baseline, "aws_lambda_function") == {}
    assert resources(baseline, "aws_config_remediation_configuration") == {}


def test_the_function_may_only_make_its_fixes_in_this_account_and_region(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    statements = list(
        iter_statements(
            policy(resources(baseline, "aws_iam_role_policy")["governance_remediation_function_role_policy"])
        )
    )
    allowed = {a for s in statements for a in actions(s)}
    assert not any(a.endswith("*") or a == "*" for a in allowed)
    assert {"ec2:CreateFlowLogs", "ec2:CreateSnapshot", "ec2:CreateTags", "sns:Publish"} <= allowed
    assert not {a for a in allowed if a.startswith(("ec2:Delete", "ec2:Modify", "rds:", "s3:"))}
    by_sid = {s["Sid"]: s for s in statements}
    for sid in ("CreateFlowLogs", "SnapshotVolumes", "TagOnlyWhatItCreates"):
        for arn in by_sid[sid]["Resource"]:
            assert arn.startswith("arn:aws:ec2:us-east-1:"), arn
    assert by_sid["TagOnlyWhatItCreates"]["Condition"] == {
        "StringEquals": {"ec2:CreateAction": ["CreateSnapshot", "CreateFlowLogs"]}
    }
    # "*" only where AWS has no resource-level permission.
    assert {s["Sid"] for s in statements if s["Resource"] == "*"} == {"ReadState", "FlowLogDelivery", "WriteTraces"}


def test_only_noncompliant_results_of_the_functions_rules_invoke_it(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    rule = resources(baseline, "aws_cloudwatch_event_rule")["governance_remediation_rule"]
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail"]["newEvaluationResult"] == {"complianceType": ["NON_COMPLIANT"]}
    assert sorted(pattern["detail"]["configRuleName"]) == sorted(f"tap-baseline-{r}-us-east-1" for r in FUNCTION_RULES)
    (permission,) = resources(baseline, "aws_lambda_permission").values()
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == ref(baseline, "aws_cloudwatch_event_rule", "governance_remediation_rule", "arn")
    (target,) = [
        t
        for t in resources(baseline, "aws_cloudwatch_event_target").values()
        if t["rule"] == ref(baseline, "aws_cloudwatch_event_rule", "governance_remediation_rule", "name")
    ]
    assert target["arn"] == ref(baseline, "aws_lambda_function", "governance_remediation_function", "arn")


def test_the_flow_log_bucket_and_key_admit_log_delivery_from_this_account(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    bucket_policy = policy(resources(baseline, "aws_s3_bucket_policy")["governance_records_flow_logs_policy"])
    delivery = [
        s for s in iter_statements(bucket_policy) if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}
    ]
    assert delivery and all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT for s in delivery)
    (alias,) = [
        a
        for a in resources(baseline, "aws_kms_alias").values()
        if a["name"].startswith("alias/tap-baseline-remediation-")
    ]
    key = next(k for k in resources(baseline, "aws_kms_key").values() if "remediation function" in k["description"])
    grants = {s["Sid"]: s for s in iter_statements(policy(key))}
    assert grants["LogDeliveryWritesFlowLogs"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert grants["CloudWatchLogsForTheFunctionsLogGroup"]["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/tap-baseline-config-remediation-us-east-1"
    }
    assert alias["name"] == "alias/tap-baseline-remediation-us-east-1"
