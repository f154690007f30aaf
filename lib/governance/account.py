"""Account-wide guards: IAM Access Analyzer (PCI 7.2.1), S3's account public access block (1.4.4) and
Amazon Inspector's scanning of instances and functions (6.3.3, 11.3.1).

Each is a setting of the account in a region, so it lives in the baseline; a second environment
configuring it would fight the first over one setting, and destroying that environment would
turn it off for all of them.
"""

from __future__ import annotations

from cdktn_provider_aws.accessanalyzer_analyzer import AccessanalyzerAnalyzer
from cdktn_provider_aws.inspector2_enabler import Inspector2Enabler
from cdktn_provider_aws.s3_account_public_access_block import S3AccountPublicAccessBlock
from constructs import Construct

from lib.core.context import BaselineContext


class AccountGuards(Construct):
    """`analyzer`, `public_access_block` and `inspector`, each None when configured off."""

    def __init__(self, scope: Construct, construct_id: str, context: BaselineContext) -> None:
        super().__init__(scope, construct_id)
        config = context.config
        self.analyzer = (
            AccessanalyzerAnalyzer(
                self, "analyzer", analyzer_name=context.names.make("access_analyzer", "account"), type="ACCOUNT"
            )
            if config.access_analyzer
            else None
        )
        self.public_access_block = (
            S3AccountPublicAccessBlock(
                self,
                "public_access_block",
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            )
            # Account-wide, not regional: one region's baseline owns it.
            if config.account_public_access_block and context.is_home_region
            else None
        )
        # Vulnerability scanning of every EC2 instance (through SSM, agentless where it cannot) and
        # every Lambda function's packages: what environments with `[governance] inspector` need.
        self.inspector = (
            Inspector2Enabler(self, "inspector", account_ids=[context.account_id], resource_types=["EC2", "LAMBDA"])
            if config.inspector
            else None
        )
