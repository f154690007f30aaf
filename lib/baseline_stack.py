"""The account baseline: singletons that exist once per account and region, whatever is deployed.

Settings such as X-Ray's encryption are account-wide: two environments that each set them would
overwrite or destroy each other's. They live here, in their own stack and state, applied once per
account and region before any environment. Nothing here depends on the profile, so applying the
baseline from any profile's checkout gives the same plan; it is configured only by the config
file's `[baseline]` section, whose defaults are on. It is always protected: destroying an
environment never touches it.
"""

from __future__ import annotations

import json

from cdktn import TerraformOutput, TerraformStack
from cdktn_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.xray_encryption_config import XrayEncryptionConfig
from constructs import Construct

from lib.config import BackendConfig, BaselineConfig, TagsConfig
from lib.core import terraform
from lib.core.context import BaselineContext, Lifecycle
from lib.core.kms import customer_managed_key
from lib.core.log_group import WAF_LOG_PREFIX
from lib.core.naming import Names
from lib.core.policies import key_via_services_statement, policy_document
from lib.governance import AccountGovernance
from lib.regions import region as region_facts

BASELINE_PREFIX = "tap-baseline"


def baseline_tags() -> dict[str, str]:
    """TAP's tags without anything that depends on the profile, the environment or who synthesizes
    (no Repository or Author: two people applying the baseline must plan the same thing)."""
    defaults = TagsConfig()
    return {
        "Application": defaults.application,
        "Project": defaults.project,
        "CostCenter": defaults.cost_center,
        "Scope": "account-baseline",
        "ManagedBy": "cdktn",
    }


class BaselineStack(TerraformStack):
    """`names` holds the baseline's physical names (suffix: the region)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: str,
        backend: BackendConfig,
        config: BaselineConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        terraform.declare(
            self,
            region=region,
            tags=baseline_tags(),
            backend=backend,
            key=terraform.state_key(construct_id, "baseline", region),
        )
        account_id = DataAwsCallerIdentity(self, "current").account_id
        self.context = context = BaselineContext(
            config=config,
            names=Names(prefix=BASELINE_PREFIX, suffix=region),
            account_id=account_id,
            region=region_facts(region),
            lifecycle=Lifecycle.of(destroyable=config.destroyable),
        )
        if config.xray_encryption:
            key = customer_managed_key(
                self,
                "traces_key",
                context=context,
                purpose="traces",
                description="TAP account baseline: X-Ray trace encryption",
                statements=[
                    key_via_services_statement(context.account_root, account_id, [context.region.service_host("xray")])
                ],
            )
            # Account-wide: one per account and region, which is why it lives here.
            XrayEncryptionConfig(self, "trace_encryption", type="KMS", key_id=key.arn)
            TerraformOutput(self, "trace_key_arn", value=key.arn)
        waf_log_delivery(self, context)
        self.governance = AccountGovernance(self, "governance", context)

    @property
    def names(self) -> Names:
        return self.context.names


def waf_log_delivery(scope: Construct, context: BaselineContext) -> CloudwatchLogResourcePolicy:
    """WAF's delivery into every `aws-waf-logs-*` log group of this account and region, declared
    once. Left to itself, WAF writes a policy per log group into one it names AWSWAF-LOGS, which
    outgrows CloudWatch Logs' 5,120-character limit as environments come and go (and a region
    holds at most 10 resource policies): an account singleton, so it lives here."""
    account = context.account_id
    return CloudwatchLogResourcePolicy(
        scope,
        "waf_log_delivery",
        policy_name=context.names.make("log_resource_policy", "waf-log-delivery"),
        policy_document=json.dumps(
            policy_document(
                [
                    {
                        "Sid": "WafLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": context.principal("delivery.logs")},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": context.arn("logs", f"log-group:{WAF_LOG_PREFIX}*:log-stream:*"),
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {"aws:SourceArn": context.arn("logs", "*")},
                        },
                    }
                ]
            )
        ),
    )
