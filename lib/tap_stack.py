"""TapStack: one environment of one profile. It composes tiers and builds nothing itself.

Order: foundation (keys, storage, network, endpoints), data, payments, edge, compute, then governance,
which backs up and audits what the others contributed, and observability, which creates the
alarms every tier asked for. Each tier takes the
shared context and only its own inputs, and contributes its outputs and parameters, which
`contribute` turns into Terraform outputs and SSM parameters.
"""

from __future__ import annotations

from cdktn import TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from lib.compute import ComputeProps, ComputeTier
from lib.config import DeploymentConfig
from lib.core import terraform
from lib.core.context import StackContext
from lib.core.naming import Names
from lib.core.tier import Tier, contribute
from lib.data import DataProps, DataTier
from lib.edge import EdgeProps, EdgeTier
from lib.foundation import FoundationTier
from lib.governance import GovernanceProps, GovernanceTier
from lib.observability import ObservabilityProps, ObservabilityTier
from lib.payments import PaymentsProps, PaymentsTier


class TapStack(TerraformStack):
    """`context.names` holds every physical name, checked before anything is written."""

    def __init__(self, scope: Construct, construct_id: str, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        terraform.declare(
            self,
            region=config.region,
            tags=config.default_tags(),
            backend=config.backend,
            key=terraform.state_key(construct_id, config.environment_suffix, config.profile),
        )
        self.context = StackContext.of(config, account_id=DataAwsCallerIdentity(self, "current").account_id)
        context = self.context
        self.foundation = FoundationTier(self, "foundation", context)
        keys, placement = self.foundation.keys, self.foundation.placement
        self.tiers: list[Tier] = [self.foundation]
        self.data = DataTier(self, "data", context, DataProps(placement=placement, keys=keys))
        self.tiers.append(self.data)
        self.payments: PaymentsTier | None = None
        if config.payments is not None or config.transactions_api is not None:
            ledger = self.data.database if config.database is not None and config.database.ledger else None
            self.payments = PaymentsTier(
                self,
                "payments",
                context,
                PaymentsProps(
                    placement=placement,
                    keys=keys,
                    transactions_table=self.data.transactions,
                    ledger=ledger,
                    cache=self.data.cache,
                ),
            )
            self.tiers.append(self.payments)
        self.edge: EdgeTier | None = None
        self.compute: ComputeTier | None = None
        if config.compute is not None and self.data.database is not None:
            access_logs = self.foundation.storage.access_logs.bucket
            payment_api = self.payments.api if self.payments is not None else None
            self.edge = EdgeTier(
                self,
                "edge",
                context,
                EdgeProps(
                    placement=placement,
                    access_log_bucket=access_logs,
                    s3_key=keys("s3"),
                    logs_key=keys("logs"),
                    http_api=payment_api.api if payment_api is not None else None,
                    http_api_stage=payment_api.stage if payment_api is not None else None,
                    assets_bucket=self.foundation.storage.buckets.get("assets"),
                ),
            )
            self.compute = ComputeTier(
                self,
                "compute",
                context,
                ComputeProps(
                    placement=placement,
                    keys=keys,
                    access_log_bucket=access_logs,
                    database=self.data.database,
                    target_groups=self.edge.load_balancer.target_groups,
                    app_logs_bucket=self.foundation.storage.buckets.get("app_logs"),
                ),
            )
            self.tiers += [self.edge, self.compute]
        self.governance = GovernanceTier(
            self,
            "governance",
            context,
            GovernanceProps(tiers=list(self.tiers), access_log_bucket=self.foundation.storage.access_logs.bucket),
        )
        self.tiers.append(self.governance)
        self.observability = ObservabilityTier(
            self,
            "observability",
            context,
            ObservabilityProps(
                tiers=list(self.tiers),
                placement=placement,
                keys=keys,
                access_log_bucket=self.foundation.storage.access_logs.bucket,
            ),
        )
        self.tiers.append(self.observability)
        contribute(self, context, self.tiers, keys.get("parameters"))

    @property
    def names(self) -> Names:
        return self.context.names
