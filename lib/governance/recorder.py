"""AWS Config (PCI 10.4, 11.5.2): what the account's resources look like, and TAP's rules over them.

Order matters to Config: the recorder exists, then its delivery channel, then recording starts;
rules need the recorder. A region has one recorder and one channel, so existing ones are adopted
by name with Terraform imports (`aws_config.existing_recorder_name` / `existing_delivery_channel_name`)
rather than duplicated. Global resource types (IAM) are recorded in one region only, configurable.
Snapshots and history go to a versioned bucket encrypted with a key that admits Config from this
account only; compliance changes are routed to the compliance topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import Fn, Op, TerraformIterator, Token
from cdktn_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleSource
from cdktn_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
)
from cdktn_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktn_provider_aws.config_delivery_channel import (
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
)
from constructs import Construct

from lib.core.context import BaselineContext
from lib.core.iam import inline_policy, service_role
from lib.core.kms import customer_managed_key
from lib.core.terraform import adopt
from lib.governance.alerts import Route
from lib.governance.config_rules import RULES
from lib.governance.records import AuditRecords


def compliance_route() -> Route:
    """Every compliance change of every rule (to NON_COMPLIANT and back)."""
    return Route(
        topic="compliance",
        description="AWS Config rule compliance changes",
        pattern={
            "source": ["aws.config"],
            "detail-type": ["Config Rules Compliance Change"],
            "detail": {"messageType": ["ComplianceChangeNotification"]},
        },
    )


@dataclass(frozen=True, kw_only=True)
class ConfigurationRecordingProps:
    records: AuditRecords


class ConfigurationRecording(Construct):
    """`recorder`, `channel`, `status`, and `rules` (one resource, an instance per rule name)."""

    def __init__(
        self, scope: Construct, construct_id: str, context: BaselineContext, props: ConfigurationRecordingProps
    ) -> None:
        super().__init__(scope, construct_id)
        config, names = context.config.aws_config, context.names
        config_service = context.principal("config")
        this_account = {"aws:SourceAccount": context.account_id}
        key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="config",
            description="TAP account baseline: AWS Config snapshots and history",
            statements=[
                {
                    "Sid": "ConfigDeliversForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": config_service},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": this_account,
                        "ArnLike": {"aws:SourceArn": context.arn("config", "*")},
                    },
                }
            ],
        )
        self.bucket = props.records.bucket("config", key)
        prefix = f"{self.bucket.arn}/AWSLogs/{context.account_id}/Config/*"
        delivery = {"Effect": "Allow", "Principal": {"Service": config_service}}
        self.bucket.add_policy_statements(
            {
                **delivery,
                "Sid": "ConfigChecksBucket",
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": self.bucket.arn,
                "Condition": {"StringEquals": this_account},
            },
            {
                **delivery,
                "Sid": "ConfigDelivers",
                "Action": "s3:PutObject",
                "Resource": prefix,
                "Condition": {"StringEquals": {**this_account, "s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        )
        role = service_role(
            self,
            "role",
            name=names.make("iam_role", "config"),
            description="AWS Config records this account's resources and delivers to its bucket",
            service=config_service,
            account_id=context.account_id,
            policy_name="deliver-to-bucket",
            managed_policy_arns=[f"arn:{context.partition}:iam::aws:policy/service-role/AWS_ConfigRole"],
            statements=[
                {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": self.bucket.arn},
                # AWS's documented delivery policy for a Config role.
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": prefix},
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key.arn},
            ],
        )
        # The channel is checked against the role's policy when it is created.
        self.role_policy = inline_policy(self, "role")
        self.recorder = ConfigConfigurationRecorder(
            self,
            "recorder",
            name=config.existing_recorder_name or names.make("config_recorder", "recorder"),
            role_arn=role.arn,
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=True,
                include_global_resource_types=config.record_global_resources and context.is_home_region,
            ),
        )
        if config.existing_recorder_name is not None:
            adopt(self.recorder, config.existing_recorder_name)
        self.channel = ConfigDeliveryChannel(
            self,
            "channel",
            name=config.existing_delivery_channel_name or names.make("config_recorder", "channel"),
            s3_bucket_name=self.bucket.name,
            s3_kms_key_arn=key.arn,
            snapshot_delivery_properties=ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency=config.snapshot_frequency
            ),
            depends_on=[self.recorder, self.bucket.policy_resource, self.role_policy],
        )
        if config.existing_delivery_channel_name is not None:
            adopt(self.channel, config.existing_delivery_channel_name)
        self.status = ConfigConfigurationRecorderStatus(
            self, "status", name=self.recorder.name, is_enabled=True, depends_on=[self.channel]
        )
        # One resource over the catalogue, keyed by rule name: an address per rule that adding or
        # removing another never shifts, for one construct instead of fifty.
        catalogue = TerraformIterator.from_map(
            {
                rule_name: {
                    "name": names.make("config_rule", rule_name),
                    "identifier": rule.identifier,
                    "description": rule.description(),
                    # Every entry has every key (Terraform's for_each needs one type): "" for none.
                    "input_parameters": rule.input_parameters() or "",
                }
                for rule_name, rule in RULES.items()
                if rule.available_in(context.region_name)
            }
        )
        self.rules = ConfigConfigRule(
            self,
            "rules",
            for_each=catalogue,
            name=catalogue.get_string("name"),
            description=catalogue.get_string("description"),
            source=ConfigConfigRuleSource(owner="AWS", source_identifier=catalogue.get_string("identifier")),
            input_parameters=Token.as_string(
                Fn.conditional(
                    Op.eq(catalogue.get_string("input_parameters"), ""),
                    Token.null_value(),
                    catalogue.get_string("input_parameters"),
                )
            ),
            depends_on=[self.recorder],
        )
