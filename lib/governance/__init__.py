"""The governance tier: account singletons in the account baseline, per-environment parts in the environment.

GuardDuty, AWS Config, CloudTrail, Security Hub, Inspector and the account guards exist once per
account and region, so they live in the baseline stack (see `baseline_stack.py`), each switchable
in the config file's `[baseline]` section and on by default (`AccountGovernance`). Their records
go to buckets of their own (`records.py`), their signals to the security-alerts and compliance
topics (`alerts.py`).

What names one environment's resources lives in that environment's stack (`GovernanceTier`):
AWS Backup of its stores of record, and the CloudTrail data events of what holds or processes
payment data. Both read what the other tiers contributed; the stack lists nothing by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.core.context import BaselineContext, StackContext
from lib.core.kms import customer_managed_key
from lib.core.policies import key_via_services_statement
from lib.core.signing import CodeSigning, CodeSigningProps
from lib.core.tier import Tier
from lib.governance.account import AccountGuards
from lib.governance.alerts import Route, SecurityAlerts, SecurityAlertsProps
from lib.governance.backup import EnvironmentBackup, EnvironmentBackupProps
from lib.governance.data_events import DataEventsTrail, DataEventsTrailProps
from lib.governance.guardduty import ThreatDetection, ThreatDetectionProps, findings_route
from lib.governance.recorder import ConfigurationRecording, ConfigurationRecordingProps, compliance_route
from lib.governance.records import AuditRecords
from lib.governance.remediation import Remediation, RemediationProps
from lib.governance.security_hub import SecurityHub
from lib.governance.trail import AccountTrail, AccountTrailProps


class AccountGovernance(Construct):
    """Each service's construct, or None where the config file turned it off."""

    def __init__(self, scope: Construct, construct_id: str, context: BaselineContext) -> None:
        super().__init__(scope, construct_id)
        config = context.config
        routes: dict[str, Route] = {}
        if config.guardduty.enabled:
            routes["guardduty-findings"] = findings_route(config.guardduty.alert_min_severity)
        if config.aws_config.enabled:
            routes["config-compliance"] = compliance_route()
        self.records = AuditRecords(self, "records", context)
        # The baseline's one function is the remediation function: its code is signed when it exists.
        remediating = config.aws_config.enabled and config.remediation.enabled
        self.code_signing = self._code_signing(context) if remediating and config.lambdas.code_signing else None
        self.alerts = SecurityAlerts(self, "alerts", context, SecurityAlertsProps(routes=routes))
        self.guardduty = (
            ThreatDetection(self, "guardduty", context, ThreatDetectionProps(records=self.records))
            if config.guardduty.enabled
            else None
        )
        self.recording = (
            ConfigurationRecording(self, "config", context, ConfigurationRecordingProps(records=self.records))
            if config.aws_config.enabled
            else None
        )
        self.trail = (
            AccountTrail(
                self,
                "cloudtrail",
                context,
                AccountTrailProps(records=self.records, alerts=self.alerts.topics["security-alerts"]),
            )
            if config.cloudtrail.enabled and context.is_home_region
            else None
        )
        self.remediation = (
            Remediation(
                self,
                "remediation",
                context,
                RemediationProps(
                    records=self.records,
                    alerts=self.alerts.topics["security-alerts"],
                    alerts_key=self.alerts.key,
                    rules=self.recording.rules,
                ),
            )
            if self.recording is not None and remediating
            else None
        )
        self.security_hub = SecurityHub(self, "security_hub", context) if config.security_hub.enabled else None
        self.guards = AccountGuards(self, "account", context)

    def _code_signing(self, context: BaselineContext) -> CodeSigning:
        """The baseline's signing profile and artifacts bucket, with a key of its own (S3's use only)."""
        key = customer_managed_key(
            self,
            "code_key",
            context=context,
            purpose="lambda-code",
            description="TAP account baseline: signed Lambda code artifacts",
            statements=[
                key_via_services_statement(
                    context.account_root, context.account_id, [context.region.service_host("s3")]
                )
            ],
        )
        return CodeSigning(
            self,
            "code_signing",
            context,
            CodeSigningProps(
                bucket_name=context.names.make_in_account("s3_bucket", "lambda-code", account_id=context.account_id),
                key=key,
                access_log_bucket=self.records.access_logs.bucket,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class GovernanceProps:
    # The tiers built before this one: what they contributed is backed up and audited.
    tiers: Sequence[Tier]
    access_log_bucket: S3Bucket


class GovernanceTier(Tier):
    """`backup` and `data_event_trail`, each None where the configuration turns it off."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: GovernanceProps) -> None:
        super().__init__(scope, construct_id, context)
        config = context.config.governance
        stores = {name: store for tier in props.tiers for name, store in tier.backups.items()}
        self.backup = (
            EnvironmentBackup(self, "backup", context, EnvironmentBackupProps(stores=stores))
            if config.backup.enabled and stores
            else None
        )
        self.data_event_trail = (
            DataEventsTrail(
                self,
                "data_events",
                context,
                DataEventsTrailProps(
                    resources={name: r for tier in props.tiers for name, r in tier.data_events.items()},
                    access_log_bucket=props.access_log_bucket,
                ),
            )
            if config.data_events
            else None
        )
        if self.backup is not None:
            self.export("backup_vault_name", self.backup.vault.name)
            self.export("backup_plan_id", self.backup.plan.id)
        if self.data_event_trail is not None:
            self.export("data_events_trail_arn", self.data_event_trail.trail.arn)
