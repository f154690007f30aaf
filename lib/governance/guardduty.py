"""GuardDuty (PCI 11.5.1): the region's detector, its protection plans, and where findings go.

A region has one detector, and deleting it deletes every finding. So the baseline creates the
detector only where none exists: `guardduty.existing_detector_id` adopts an existing one with a
Terraform import instead (document 002: never a second detector), and a protected baseline's
plan can never destroy it (`prevent_destroy`), nor can any plan destroy an adopted one. Findings are exported to a bucket whose key and
policy admit GuardDuty for this detector only, and high-severity ones are routed to the
security-alerts topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.guardduty_detector import GuarddutyDetector
from cdktn_provider_aws.guardduty_detector_feature import (
    GuarddutyDetectorFeature,
    GuarddutyDetectorFeatureAdditionalConfiguration,
)
from cdktn_provider_aws.guardduty_publishing_destination import GuarddutyPublishingDestination
from constructs import Construct

from lib.core.context import BaselineContext
from lib.core.kms import customer_managed_key
from lib.core.terraform import adopt
from lib.governance.alerts import Route
from lib.governance.records import AuditRecords

# Protection plans the issue asks for. Runtime Monitoring states each agent setting GuardDuty
# reports for it (EC2's on; TAP runs no ECS or EKS), so a plan never finds one it did not expect.
FEATURES: dict[str, dict[str, str]] = {
    "S3_DATA_EVENTS": {},
    "RDS_LOGIN_EVENTS": {},
    "LAMBDA_NETWORK_LOGS": {},
    "RUNTIME_MONITORING": {
        "EC2_AGENT_MANAGEMENT": "ENABLED",
        "ECS_FARGATE_AGENT_MANAGEMENT": "DISABLED",
        "EKS_ADDON_MANAGEMENT": "DISABLED",
    },
    "EBS_MALWARE_PROTECTION": {},
}
# Regions where GuardDuty does not offer a plan (its "Regions and endpoints" page).
UNAVAILABLE: dict[str, frozenset[str]] = {"RDS_LOGIN_EVENTS": frozenset({"ap-east-2"})}


def findings_route(min_severity: float) -> Route:
    """GuardDuty findings at or above `min_severity` (7.0 and above: HIGH and CRITICAL)."""
    return Route(
        topic="security-alerts",
        description=f"GuardDuty findings of severity {min_severity:g} or more",
        pattern={
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", min_severity]}]},
        },
    )


@dataclass(frozen=True, kw_only=True)
class ThreatDetectionProps:
    records: AuditRecords


class ThreatDetection(Construct):
    """`detector`, and `findings` (the bucket findings are exported to)."""

    def __init__(
        self, scope: Construct, construct_id: str, context: BaselineContext, props: ThreatDetectionProps
    ) -> None:
        super().__init__(scope, construct_id)
        config = context.config.guardduty
        self.detector = GuarddutyDetector(
            self,
            "detector",
            enable=True,
            finding_publishing_frequency=config.finding_publishing_frequency,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=not context.lifecycle.destroyable),
        )
        if config.existing_detector_id is not None:
            adopt(self.detector, config.existing_detector_id)
        for feature, additional in FEATURES.items():
            if context.region_name in UNAVAILABLE.get(feature, frozenset()):
                continue
            GuarddutyDetectorFeature(
                self,
                feature.lower(),
                detector_id=self.detector.id,
                name=feature,
                status="ENABLED",
                additional_configuration=[
                    GuarddutyDetectorFeatureAdditionalConfiguration(name=name, status=status)
                    for name, status in additional.items()
                ]
                or None,
            )
        detector_arn = context.arn("guardduty", f"detector/{self.detector.id}")
        this_detector = {"aws:SourceAccount": context.account_id, "aws:SourceArn": detector_arn}
        key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="findings",
            description="TAP account baseline: exported GuardDuty findings",
            statements=[
                {
                    "Sid": "GuardDutyEncryptsThisDetectorsFindings",
                    "Effect": "Allow",
                    "Principal": {"Service": context.principal("guardduty")},
                    "Action": "kms:GenerateDataKey",
                    "Resource": "*",
                    "Condition": {"StringEquals": this_detector},
                }
            ],
        )
        self.findings = props.records.bucket("findings", key)
        guardduty: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Service": context.principal("guardduty")},
            "Condition": {"StringEquals": this_detector},
        }
        self.findings.add_policy_statements(
            {
                **guardduty,
                "Sid": "GuardDutyLocatesBucket",
                "Action": "s3:GetBucketLocation",
                "Resource": self.findings.arn,
            },
            {
                **guardduty,
                "Sid": "GuardDutyExportsFindings",
                "Action": "s3:PutObject",
                "Resource": f"{self.findings.arn}/*",
            },
        )
        export = GuarddutyPublishingDestination(
            self,
            "export",
            detector_id=self.detector.id,
            destination_arn=self.findings.arn,
            kms_key_arn=key.arn,
            depends_on=[self.findings.policy_resource],
        )
        # A detector exports to one destination: an adopted detector's existing one is adopted too
        # (and then points at TAP's bucket and key).
        if config.existing_detector_id is not None and config.existing_publishing_destination_id is not None:
            adopt(export, f"{config.existing_detector_id}:{config.existing_publishing_destination_id}")
