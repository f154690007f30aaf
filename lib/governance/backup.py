"""AWS Backup of the environment's stores of record: the Aurora cluster, the transactions table, EFS.

Aurora's own automated backups live and die with the cluster; AWS Backup's recovery points live
in a vault of their own, encrypted with the environment's
backup key, kept for the profile's documented retention. In a protected environment the vault is
locked (compliance mode after AWS's three-day grace period): nobody, the root user included, can
delete a recovery point early or shorten the retention. A destroyable one's vault may be emptied
and deleted with the environment.

Each store is tagged `Backup = <plan>` by the tier that owns it contributing it (`Tier.back_up`);
its selection names the store's ARN and requires that tag, so a store leaves the plan by
removing either, and Checkov and AWS Config see which plan protects it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktn_provider_aws.backup_plan import BackupPlan, BackupPlanRule, BackupPlanRuleLifecycle
from cdktn_provider_aws.backup_selection import (
    BackupSelection,
    BackupSelectionCondition,
    BackupSelectionConditionStringEquals,
)
from cdktn_provider_aws.backup_vault import BackupVault
from cdktn_provider_aws.backup_vault_lock_configuration import BackupVaultLockConfiguration
from constructs import Construct

from lib.core.context import StackContext
from lib.core.iam import service_role
from lib.core.kms import customer_managed_key
from lib.core.policies import key_via_services_statement, via_services
from lib.core.tags import BACKUP_TAG
from lib.core.tier import BackedUp

# AWS's minimum grace period before a vault lock becomes immutable (compliance mode).
VAULT_LOCK_GRACE_DAYS = 3


@dataclass(frozen=True, kw_only=True)
class EnvironmentBackupProps:
    # Every tier's contributed stores, by stable name.
    stores: Mapping[str, BackedUp]


class EnvironmentBackup(Construct):
    """`key`, `vault`, `lock` (None when destroyable), `role`, `plan`, and a selection per store."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, props: EnvironmentBackupProps
    ) -> None:
        super().__init__(scope, construct_id)
        config, names, lifecycle = context.config.governance.backup, context.names, context.lifecycle
        backup_host = context.region.service_host("backup")
        caller = {"kms:CallerAccount": context.account_id}
        self.key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="backup",
            description="AWS Backup recovery points of this environment's stores",
            statements=[
                key_via_services_statement(context.account_root, context.account_id, [backup_host]),
                {
                    # Backup hands the key to the service copying a store, through a grant.
                    "Sid": "BackupGrantsForAwsResourcesOnly",
                    "Effect": "Allow",
                    "Principal": {"AWS": context.account_root},
                    "Action": "kms:CreateGrant",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {**via_services([backup_host])["StringEquals"], **caller},
                        "Bool": {"kms:GrantIsForAWSResource": "true"},
                    },
                },
            ],
        )
        self.vault = BackupVault(
            self,
            "vault",
            name=names.make("backup_vault", "vault"),
            kms_key_arn=self.key.arn,
            force_destroy=lifecycle.force_destroy,
        )
        self.lock = (
            None
            if lifecycle.destroyable
            else BackupVaultLockConfiguration(
                self,
                "lock",
                backup_vault_name=self.vault.name,
                min_retention_days=config.retention_days,
                changeable_for_days=VAULT_LOCK_GRACE_DAYS,
            )
        )
        self.role = service_role(
            self,
            "role",
            name=names.make("iam_role", "backup"),
            description="AWS Backup copies this environment's stores",
            service=context.principal("backup"),
            account_id=context.account_id,
            # Backups only: a restore is an operator's decision, made with a role of their own.
            managed_policy_arns=[
                f"arn:{context.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
            ],
        )
        plan_name = names.make("backup_plan", "daily")
        self.plan = BackupPlan(
            self,
            "plan",
            name=plan_name,
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=config.schedule,
                    start_window=config.start_window_minutes,
                    completion_window=config.completion_window_minutes,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=config.retention_days),
                    recovery_point_tags={"Environment": context.config.environment_suffix, BACKUP_TAG: plan_name},
                )
            ],
        )
        self.selections: dict[str, BackupSelection] = {}
        for store_name, store in props.stores.items():
            store.resource.add_override(f"tags.{BACKUP_TAG}", plan_name)
            self.selections[store_name] = BackupSelection(
                self,
                f"{store_name}_selection",
                name=names.make("backup_plan", store_name.replace("_", "-")),
                plan_id=self.plan.id,
                iam_role_arn=self.role.arn,
                resources=[store.arn],
                condition=[
                    BackupSelectionCondition(
                        string_equals=[
                            BackupSelectionConditionStringEquals(key=f"aws:ResourceTag/{BACKUP_TAG}", value=plan_name)
                        ]
                    )
                ],
            )
