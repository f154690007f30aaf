"""The one context a stack's layers share: configuration, names, where, and what destroy means.

Built once per stack and frozen: `StackContext` for an environment, `BaselineContext` for the
account baseline, both an `AccountContext`, which is all the building blocks of `lib/core` ask for. Layers take `(scope, id, context, props)`: the context carries
the plumbing every layer needs (names, account, partition, region, lifecycle), so props hold
only a layer's own inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lib.config import BaselineConfig, DeploymentConfig
from lib.core.naming import Names
from lib.regions import Region, region


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """Every consequence of destroyable (non-production) versus protected (production), in one place.

    Destroyable environments must tear down cleanly and be re-creatable with the same suffix
    straight away; protected ones keep data whatever a plan says.
    """

    destroyable: bool

    @classmethod
    def of(cls, *, destroyable: bool) -> Lifecycle:
        return cls(destroyable=destroyable)

    @property
    def key_deletion_days(self) -> int:
        """KMS allows 7-30 days: the minimum to tear down, the maximum to keep."""
        return 7 if self.destroyable else 30

    @property
    def secret_recovery_days(self) -> int:
        """0 deletes at once, so a re-created environment can take the same secret names."""
        return 0 if self.destroyable else 30

    @property
    def force_destroy(self) -> bool:
        """Buckets with objects may be deleted."""
        return self.destroyable

    @property
    def deletion_protection(self) -> bool:
        return not self.destroyable

    @property
    def skip_final_snapshot(self) -> bool:
        return self.destroyable

    @property
    def object_lock_mode(self) -> Literal["GOVERNANCE", "COMPLIANCE"]:
        """Locked audit trails: removable with a bypass permission only where teardown must work."""
        return "GOVERNANCE" if self.destroyable else "COMPLIANCE"

    @property
    def apply_immediately(self) -> bool:
        """Production changes wait for the maintenance window."""
        return self.destroyable


@dataclass(frozen=True, kw_only=True)
class AccountContext:
    """Where a stack lives and what destroy means: what the building blocks need, whatever the stack.

    `account_id` is a token resolved at apply time.
    """

    names: Names
    account_id: str
    region: Region
    lifecycle: Lifecycle

    @property
    def partition(self) -> str:
        return self.region.partition.name

    @property
    def region_name(self) -> str:
        return self.region.name

    def arn(self, service: str, resource: str, *, region: bool | str = True, account: bool = True) -> str:
        """An ARN in this partition, region and account (either left empty when the service has none;
        `region` may name another region, or "*")."""
        in_region = region if isinstance(region, str) else self.region.name if region else ""
        return ":".join(
            [
                "arn",
                self.partition,
                service,
                in_region,
                self.account_id if account else "",
                resource,
            ]
        )

    def principal(self, service: str) -> str:
        """A service principal in this partition (`lambda` -> lambda.amazonaws.com)."""
        return self.region.service_principal(service)

    @property
    def account_root(self) -> str:
        return self.arn("iam", "root", region=False)


@dataclass(frozen=True, kw_only=True)
class StackContext(AccountContext):
    """The context of one environment: the account's plumbing plus the deployment's configuration."""

    config: DeploymentConfig

    @classmethod
    def of(cls, config: DeploymentConfig, *, account_id: str) -> StackContext:
        """The context of an environment stack for `config` (validated: its region is known)."""
        return cls(
            config=config,
            names=Names(prefix=config.name_prefix, suffix=config.environment_suffix),
            account_id=account_id,
            region=region(config.region),
            lifecycle=Lifecycle.of(destroyable=config.destroyable),
        )


@dataclass(frozen=True, kw_only=True)
class BaselineContext(AccountContext):
    """The context of the account baseline: configured only by the config file's `[baseline]`."""

    config: BaselineConfig

    @property
    def is_home_region(self) -> bool:
        """Account-wide parts (the multi-region trail, global types, the account's public access
        block) are built in the home region only, so regional baselines never duplicate them."""
        return self.config.home_region in (None, self.region.name)
