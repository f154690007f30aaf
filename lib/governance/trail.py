"""The account's CloudTrail (PCI 10.2): every region, every management event, tamper-evident.

Log files are validated (digest files), encrypted with a key that admits CloudTrail for this
trail only, and written to a bucket with Object Lock: COMPLIANCE mode (nobody can delete or
shorten a year's retention) unless the baseline is configured destroyable (GOVERNANCE). The trail
also delivers to an encrypted log group, where metric filters count the CIS/PCI monitoring set
(10.4.1) and alarm to the security-alerts topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from lib.core.bucket import ObjectLock
from lib.core.context import BaselineContext
from lib.core.trail import TrailProps, delivered_trail
from lib.governance.records import AuditRecords

METRIC_NAMESPACE = "TAP/CloudTrail"


@dataclass(frozen=True)
class Watch:
    """A metric filter on the trail's log group and the alarm on its count."""

    metric: str
    description: str
    pattern: str


def _any_event(*names: str) -> str:
    return " || ".join(f"($.eventName = {name})" for name in names)


# The governance issue's monitoring set, taken from the CIS AWS Foundations Benchmark's filters
# (Security Hub CloudWatch.1-5, 7 and 9-13), which PCI DSS 10.4.1 reviews. Keyed by stable names: adding one moves no other's address.
WATCHES: dict[str, Watch] = {
    "root_use": Watch(
        "RootAccountUse",
        "The root user was used",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    ),
    "unauthorized_calls": Watch(
        "UnauthorizedApiCalls",
        "API calls refused as unauthorized",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    ),
    "console_login_without_mfa": Watch(
        "ConsoleLoginWithoutMfa",
        "Console sign-in by an IAM user without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    ),
    "iam_policy_changes": Watch(
        "IamPolicyChanges",
        "IAM policies created, changed, attached or detached",
        "{ "
        + _any_event(
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
        )
        + " }",
    ),
    "cloudtrail_changes": Watch(
        "CloudTrailChanges",
        "A trail was created, changed, deleted, started or stopped",
        "{ " + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging") + " }",
    ),
    "config_changes": Watch(
        "ConfigChanges",
        "AWS Config recording or delivery was changed or stopped",
        "{ ($.eventSource = config.amazonaws.com) && ("
        + _any_event(
            "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"
        )
        + ") }",
    ),
    "kms_key_changes": Watch(
        "KmsKeyDisabledOrScheduledForDeletion",
        "A customer-managed key was disabled or scheduled for deletion",
        "{ ($.eventSource = kms.amazonaws.com) && (" + _any_event("DisableKey", "ScheduleKeyDeletion") + ") }",
    ),
    "security_group_changes": Watch(
        "SecurityGroupChanges",
        "Security groups or their rules were changed",
        "{ "
        + _any_event(
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        )
        + " }",
    ),
    "nacl_changes": Watch(
        "NetworkAclChanges",
        "Network ACLs or their entries were changed",
        "{ "
        + _any_event(
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        )
        + " }",
    ),
    "gateway_changes": Watch(
        "NetworkGatewayChanges",
        "Internet or customer gateways were changed",
        "{ "
        + _any_event(
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        )
        + " }",
    ),
    "route_table_changes": Watch(
        "RouteTableChanges",
        "Routes or route tables were changed",
        "{ ($.eventSource = ec2.amazonaws.com) && ("
        + _any_event(
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        )
        + ") }",
    ),
}


@dataclass(frozen=True, kw_only=True)
class AccountTrailProps:
    records: AuditRecords
    alerts: SnsTopic


class AccountTrail(Construct):
    """`trail`, its locked `bucket` and `log_group`, and an alarm per WATCHES entry."""

    def __init__(self, scope: Construct, construct_id: str, context: BaselineContext, props: AccountTrailProps) -> None:
        super().__init__(scope, construct_id)
        config, names = context.config.cloudtrail, context.names
        delivered = delivered_trail(
            self,
            context,
            TrailProps(
                name=names.make("trail", "account"),
                log_group_name=names.path("log_group", "cloudtrail", root="aws/tap-baseline"),
                log_group_retention_days=config.log_group_retention_days,
                key_description="TAP account baseline: CloudTrail log files and their log group",
                role_name=names.make("iam_role", "cloudtrail-logs"),
                role_description="CloudTrail delivers the account trail into its log group",
                bucket=lambda key: props.records.bucket(
                    "trail", key, ObjectLock(mode=context.lifecycle.object_lock_mode, days=config.retention_days)
                ),
            ),
        )
        self.trail, self.bucket, self.log_group = delivered.trail, delivered.bucket, delivered.log_group
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for watch_id, watch in WATCHES.items():
            CloudwatchLogMetricFilter(
                self,
                f"{watch_id}_filter",
                name=names.make("metric_filter", watch_id.replace("_", "-")),
                log_group_name=self.log_group.name,
                pattern=watch.pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=watch.metric, namespace=METRIC_NAMESPACE, value="1"
                ),
            )
            self.alarms[watch_id] = CloudwatchMetricAlarm(
                self,
                f"{watch_id}_alarm",
                alarm_name=names.make("alarm", watch_id.replace("_", "-")),
                alarm_description=watch.description,
                namespace=METRIC_NAMESPACE,
                metric_name=watch.metric,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                # No matching event in a period publishes no data point: that is the normal state.
                treat_missing_data="notBreaching",
                alarm_actions=[props.alerts.arn],
                ok_actions=[props.alerts.arn],
            )
