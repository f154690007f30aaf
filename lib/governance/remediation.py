"""Remediation that runs: AWS's Automation documents where AWS publishes one, TAP's function elsewhere.

Config applies an SSM Automation document automatically to a resource its rule finds
non-compliant, for the rules in AUTOMATIONS (bucket versioning, bucket public access blocks and
TLS-only policies, DynamoDB point-in-time recovery, the account's public access block), as a role
allowed exactly those documents' changes in this account. For the rules AWS publishes no document
for (flow logs, encrypted volumes, encrypted RDS storage), EventBridge sends the compliance change
to `lib/lambda/config_remediation`, which fixes what can be fixed safely and reports the rest; see
its docstring. The function runs outside any VPC (the baseline has none) and may change only
resources of this account and region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.config_config_rule import ConfigConfigRule
from cdktn_provider_aws.config_remediation_configuration import (
    ConfigRemediationConfiguration,
    ConfigRemediationConfigurationParameter,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from lib.contracts import remediation as contract
from lib.core.alarms import dead_letter_alarms, function_alarms, metric_alarm, table_alarms
from lib.core.bucket import grant_log_delivery
from lib.core.context import BaselineContext
from lib.core.function import FunctionProps, PythonFunction
from lib.core.iam import service_role
from lib.core.kms import customer_managed_key, log_group_statement
from lib.core.policies import Statement, key_use
from lib.core.queue import SecureQueue
from lib.core.table import secure_table
from lib.governance.config_rules import RULES
from lib.governance.records import AuditRecords


@dataclass(frozen=True)
class Automation:
    """An AWS-owned Automation document, the parameter Config fills with the resource's id, and
    the changes it makes (what its role may do)."""

    document: str
    resource_parameter: str
    actions: tuple[str, ...]
    static_parameters: Mapping[str, str] = field(default_factory=dict)
    # Whether its resources are account-wide (run in the home region only).
    account_wide: bool = False


BUCKET_POLICY_ACTIONS = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
# Keyed by TAP's rule name (config_rules.py). Parameters and permissions: each document's page in
# the AWS Systems Manager Automation runbook reference.
AUTOMATIONS: dict[str, Automation] = {
    "s3-bucket-versioning-enabled": Automation(
        "AWS-ConfigureS3BucketVersioning",
        "BucketName",
        ("s3:GetBucketVersioning", "s3:PutBucketVersioning"),
        {"VersioningState": "Enabled"},
    ),
    "s3-bucket-level-public-access-prohibited": Automation(
        "AWSConfigRemediation-ConfigureS3BucketPublicAccessBlock",
        "BucketName",
        ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    ),
    "s3-bucket-ssl-requests-only": Automation(
        "AWSConfigRemediation-RestrictBucketSSLRequestsOnly",
        "BucketName",
        (*BUCKET_POLICY_ACTIONS, "s3:PutEncryptionConfiguration"),
    ),
    "dynamodb-pitr-enabled": Automation(
        "AWSConfigRemediation-EnablePITRForDynamoDbTable",
        "TableName",
        ("dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups"),
    ),
    "s3-account-level-public-access-blocks": Automation(
        "AWSConfigRemediation-ConfigureS3PublicAccessBlock",
        "AccountId",
        ("s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
        account_wide=True,
    ),
}
# The rules TAP's function remediates, and the contract setting that names each to the function.
FUNCTION_RULES: dict[str, str] = {
    "vpc-flow-logs-enabled": contract.RULE_SETTINGS[contract.CREATE_FLOW_LOGS],
    "encrypted-volumes": contract.RULE_SETTINGS[contract.SNAPSHOT_VOLUME],
    "rds-storage-encrypted": contract.RULE_SETTINGS[contract.REPORT_DATABASE],
}
FUNCTION_PURPOSE = "config-remediation"


@dataclass(frozen=True, kw_only=True)
class RemediationProps:
    records: AuditRecords
    alerts: SnsTopic
    alerts_key: KmsKey
    # Config's rules resource: remediations attach to rules that exist.
    rules: ConfigConfigRule


class Remediation(Construct):
    """`configurations` by rule name, `function` with its `rule` (EventBridge), and its `alarms`."""

    def __init__(self, scope: Construct, construct_id: str, context: BaselineContext, props: RemediationProps) -> None:
        super().__init__(scope, construct_id)
        config, names = context.config.remediation, context.names
        rule_names = {rule: names.make("config_rule", rule) for rule in RULES}
        self.configurations = self._automations(context, rule_names, props.rules)
        function_name = names.make("lambda_function", FUNCTION_PURPOSE)
        key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="remediation",
            description="TAP account baseline: remediation function, its records and the flow logs it creates",
            statements=self._key_statements(context, function_name),
        )
        flow_logs = props.records.bucket("flow_logs", key)
        grant_log_delivery(flow_logs, context)
        table = secure_table(
            self,
            "idempotency_table",
            name=names.make("dynamodb_table", "remediation-idempotency"),
            key=key,
            lifecycle=context.lifecycle,
            hash_key="id",
            attribute_types={"id": "S"},
            ttl_attribute="expiration",
        )
        dead_letters = SecureQueue(self, "dlq", name=names.make("sqs_queue", "remediation-dlq"), key=key)
        self.function = PythonFunction(
            self,
            "function",
            context,
            FunctionProps(
                purpose=FUNCTION_PURPOSE,
                description="Remediates AWS Config findings AWS publishes no Automation document for",
                handler="config_remediation.handler",
                source_dirs=["config_remediation"],
                contracts=["remediation"],
                statements=self._function_statements(
                    context, table.arn, props.alerts.arn, dead_letters.arn, [key.arn, props.alerts_key.arn]
                ),
                environment={
                    contract.DRY_RUN: "true" if config.dry_run else "false",
                    contract.NOTIFY_TOPIC_ARN: props.alerts.arn,
                    contract.FLOW_LOG_DESTINATION_ARN: flow_logs.arn,
                    contract.IDEMPOTENCY_TABLE: table.name,
                    **{setting: rule_names[rule] for rule, setting in FUNCTION_RULES.items()},
                },
                reserved_concurrency=2,
                timeout_seconds=60,
                memory_mb=256,
                dead_letter_queue_arn=dead_letters.arn,
                placement=None,
                environment_key=key,
                logs_key=key,
            ),
        )
        self.alarms = self._alarms(
            context, self.function.function.function_name, dead_letters, table.name, props.alerts
        )
        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=names.make("event_rule", "remediation"),
            description="Non-compliant results of the rules TAP's remediation function fixes",
            event_pattern=json.dumps(function_pattern([rule_names[rule] for rule in FUNCTION_RULES])),
        )
        CloudwatchEventTarget(self, "target", rule=self.rule.name, arn=self.function.function.arn)
        LambdaPermission(
            self,
            "invoked_by_rule",
            action="lambda:InvokeFunction",
            function_name=self.function.function.function_name,
            principal=context.principal("events"),
            source_arn=self.rule.arn,
        )

    def _alarms(
        self, context: BaselineContext, function_name: str, dead_letters: SecureQueue, table: str, alerts: SnsTopic
    ) -> dict[str, CloudwatchMetricAlarm]:
        """A remediation that failed for good (the DLQ), an invocation that failed or was throttled,
        and a throttled idempotency table are a page, not silence."""
        watched = {
            "dead_letters": dead_letter_alarms(dead_letters.queue.name)["messages"],
            **function_alarms(function_name),
            **{f"idempotency_{name}": alarm for name, alarm in table_alarms(table).items()},
        }
        return {
            name: metric_alarm(
                self,
                f"{name}_alarm",
                name=context.names.make("alarm", "remediation", name.replace("_", "-")),
                alarm=alarm,
                topic_arn=alerts.arn,
            )
            for name, alarm in watched.items()
        }

    def _automations(
        self, context: BaselineContext, rule_names: Mapping[str, str], rules: ConfigConfigRule
    ) -> dict[str, ConfigRemediationConfiguration]:
        automations = {
            rule: automation
            for rule, automation in AUTOMATIONS.items()
            if context.is_home_region or not automation.account_wide
        }
        this_account = {"aws:ResourceAccount": context.account_id}
        role = service_role(
            self,
            "automation_role",
            name=context.names.make("iam_role", "remediation-automation"),
            description="AWS Config runs AWS's remediation documents as this role",
            service=context.principal("ssm"),
            account_id=context.account_id,
            policy_name="remediate",
            statements=[
                {
                    "Sid": "RunTheDocuments",
                    "Effect": "Allow",
                    "Action": ["ssm:StartAutomationExecution", "ssm:GetAutomationExecution"],
                    "Resource": [
                        *(
                            context.arn("ssm", f"automation-definition/{a.document}:*", account=False)
                            for a in automations.values()
                        ),
                        context.arn("ssm", "automation-execution/*"),
                    ],
                },
                {
                    "Sid": "BucketsOfThisAccount",
                    "Effect": "Allow",
                    "Action": sorted(
                        {
                            a
                            for auto in automations.values()
                            if auto.resource_parameter == "BucketName"
                            for a in auto.actions
                        }
                    ),
                    "Resource": f"arn:{context.partition}:s3:::*",
                    "Condition": {"StringEquals": this_account},
                },
                {
                    "Sid": "TablesOfThisAccount",
                    "Effect": "Allow",
                    "Action": list(AUTOMATIONS["dynamodb-pitr-enabled"].actions),
                    "Resource": context.arn("dynamodb", "table/*"),
                },
                *(
                    [
                        {
                            # The account's public access block has no resource ARN; the calls act
                            # on the caller's own account only.
                            "Sid": "ThisAccountsPublicAccessBlock",
                            "Effect": "Allow",
                            "Action": list(AUTOMATIONS["s3-account-level-public-access-blocks"].actions),
                            "Resource": "*",
                        }
                    ]
                    if "s3-account-level-public-access-blocks" in automations
                    else []
                ),
            ],
        )
        return {
            rule: ConfigRemediationConfiguration(
                self,
                rule.replace("-", "_"),
                config_rule_name=rule_names[rule],
                target_type="SSM_DOCUMENT",
                target_id=automation.document,
                # A dry run leaves them attached, for "Remediate" by hand, and runs none.
                automatic=not context.config.remediation.dry_run,
                maximum_automatic_attempts=context.config.remediation.automatic_attempts,
                retry_attempt_seconds=60,
                parameter=[
                    ConfigRemediationConfigurationParameter(name="AutomationAssumeRole", static_value=role.arn),
                    ConfigRemediationConfigurationParameter(
                        name=automation.resource_parameter, resource_value="RESOURCE_ID"
                    ),
                    *(
                        ConfigRemediationConfigurationParameter(name=name, static_value=value)
                        for name, value in automation.static_parameters.items()
                    ),
                ],
                depends_on=[rules],
            )
            for rule, automation in automations.items()
            if context.config.remediation.enabled and RULES[rule].available_in(context.region_name)
        }

    @staticmethod
    def _key_statements(context: BaselineContext, function_name: str) -> list[Statement]:
        """CloudWatch Logs for the function's log group; log delivery for the flow logs it creates;
        the function's table, queue and environment through their services only."""
        return [
            log_group_statement(context, "CloudWatchLogsForTheFunctionsLogGroup", f"/aws/lambda/{function_name}"),
            {
                "Sid": "LogDeliveryWritesFlowLogs",
                "Effect": "Allow",
                "Principal": {"Service": context.principal("delivery.logs")},
                "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": context.account_id},
                    "ArnLike": {"aws:SourceArn": context.arn("logs", "*")},
                },
            },
            {
                "Sid": "UseOnlyThroughItsServices",
                "Effect": "Allow",
                "Principal": {"AWS": context.account_root},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                    "kms:CreateGrant",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": context.account_id,
                        "kms:ViaService": [context.region.service_host(s) for s in ("dynamodb", "sqs", "lambda")],
                    }
                },
            },
        ]

    @staticmethod
    def _function_statements(
        context: BaselineContext, table_arn: str, topic_arn: str, queue_arn: str, key_arns: list[str]
    ) -> list[Statement]:
        """Exactly the function's fixes, in this account and region."""
        return [
            {
                # Describe calls have no resource-level permissions: "*" is the only form AWS accepts.
                "Sid": "ReadState",
                "Effect": "Allow",
                "Action": ["ec2:DescribeFlowLogs", "ec2:DescribeVolumes", "ec2:DescribeSnapshots"],
                "Resource": "*",
            },
            {
                "Sid": "CreateFlowLogs",
                "Effect": "Allow",
                "Action": "ec2:CreateFlowLogs",
                "Resource": [context.arn("ec2", "vpc/*"), context.arn("ec2", "vpc-flow-log/*")],
            },
            {
                # Flow logs into S3 are delivered by CloudWatch Logs' vended delivery, which has no
                # resource-level permissions.
                "Sid": "FlowLogDelivery",
                "Effect": "Allow",
                "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery"],
                "Resource": "*",
            },
            {
                "Sid": "SnapshotVolumes",
                "Effect": "Allow",
                "Action": "ec2:CreateSnapshot",
                "Resource": [context.arn("ec2", "volume/*"), context.arn("ec2", "snapshot/*", account=False)],
            },
            {
                "Sid": "TagOnlyWhatItCreates",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": [context.arn("ec2", "snapshot/*", account=False), context.arn("ec2", "vpc-flow-log/*")],
                "Condition": {"StringEquals": {"ec2:CreateAction": ["CreateSnapshot", "CreateFlowLogs"]}},
            },
            {"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
            {
                "Sid": "IdempotencyRecords",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Resource": table_arn,
            },
            {"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
            key_use(
                "KeysThroughTheirServices",
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                key_arns,
                [context.region.service_host(s) for s in ("dynamodb", "sqs", "sns")],
            ),
        ]


def function_pattern(rule_names: list[str]) -> dict[str, object]:
    """Compliance changes to NON_COMPLIANT of the rules the function remediates."""
    return {
        "source": [contract.SOURCE],
        "detail-type": [contract.DETAIL_TYPE],
        "detail": {
            "messageType": ["ComplianceChangeNotification"],
            "configRuleName": rule_names,
            "newEvaluationResult": {"complianceType": [contract.NON_COMPLIANT]},
        },
    }
