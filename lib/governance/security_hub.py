"""Security Hub (PCI 10.4.1, 11.5): findings of every service in one place, checked against PCI DSS.

AWS's default standards are not enabled; the account subscribes to exactly the PCI DSS v4.0.1
standard and AWS Foundational Security Best Practices. An account that already has Security
Hub adopts its subscription with a Terraform import (`security_hub.existing_subscription`).
"""

from __future__ import annotations

from cdktn_provider_aws.securityhub_account import SecurityhubAccount
from cdktn_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from constructs import Construct

from lib.core.context import BaselineContext
from lib.core.terraform import adopt

# Standard ARNs are regional and have no account: arn:<partition>:securityhub:<region>::standards/<path>.
STANDARDS: dict[str, str] = {
    "pci_dss": "pci-dss/v/4.0.1",
    "foundational_best_practices": "aws-foundational-security-best-practices/v/1.0.0",
}


class SecurityHub(Construct):
    """`account` and `subscriptions` (by the keys of STANDARDS)."""

    def __init__(self, scope: Construct, construct_id: str, context: BaselineContext) -> None:
        super().__init__(scope, construct_id)
        self.account = SecurityhubAccount(
            self,
            "account",
            enable_default_standards=False,
            # One finding per control across standards, rather than one per standard.
            control_finding_generator="SECURITY_CONTROL",
            auto_enable_controls=True,
        )
        if context.config.security_hub.existing_subscription:
            # Security Hub's import id is the account id, known at plan time from the caller identity.
            adopt(self.account, context.account_id)
        self.subscriptions = {
            key: SecurityhubStandardsSubscription(
                self,
                key,
                standards_arn=context.arn("securityhub", f"standards/{path}", account=False),
                depends_on=[self.account],
            )
            for key, path in STANDARDS.items()
        }
