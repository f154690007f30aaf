"""The governance tier's account singletons, composed into the account baseline.

GuardDuty, AWS Config, CloudTrail, Security Hub and the account guards exist once per account and
region, so they live in the baseline stack (see `baseline_stack.py`), each switchable in the
config file's `[baseline]` section and on by default. Their records go to buckets of their own
(`records.py`), their signals to the security-alerts and compliance topics (`alerts.py`).
"""

from __future__ import annotations

from constructs import Construct

from lib.core.context import BaselineContext
from lib.governance.account import AccountGuards
from lib.governance.alerts import Route, SecurityAlerts, SecurityAlertsProps
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
            if self.recording is not None and config.remediation.enabled
            else None
        )
        self.security_hub = SecurityHub(self, "security_hub", context) if config.security_hub.enabled else None
        self.guards = AccountGuards(self, "account", context)
