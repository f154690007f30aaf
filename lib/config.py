"""The typed description of one deployment: what a profile sets and the environment overrides.

Every section is a frozen, keyword-only dataclass whose defaults are the secure choice, so a
profile only states where its source document differs. Validation lives in `validation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

NatMode = Literal["none", "single", "per_az"]
FlowLogDestination = Literal["s3", "cloudwatch"]
KeyPurpose = Literal["database", "s3", "logs", "secrets", "parameters", "events", "efs", "cache", "dynamodb"]
GatewayService = Literal["s3", "dynamodb"]
InterfaceService = Literal["secretsmanager", "ssm", "kms", "logs", "monitoring", "sqs", "events", "sts", "xray"]
StorageClass = Literal["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]

KEY_PURPOSES: tuple[KeyPurpose, ...] = get_args(KeyPurpose)
INTERFACE_SERVICES: tuple[InterfaceService, ...] = get_args(InterfaceService)
GATEWAY_SERVICES: tuple[GatewayService, ...] = get_args(GatewayService)

# PCI-DSS v4.0 requirement 10.5.1: audit log history is kept for at least 12 months.
PCI_LOG_RETENTION_DAYS = 365


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """VPC layout. Tier subnets are /24s numbered `<tier>_offset + az_index` inside `cidr_block`.

    Zones are named explicitly (letters appended to the region) rather than taken from a data
    source, so subnets never move when AWS adds a zone to the region.
    """

    cidr_block: str = "10.0.0.0/16"
    zone_letters: tuple[str, ...] = ("a", "b", "c")
    public_offset: int = 0
    private_offset: int = 10
    # Document 004's isolated database tier: own route tables, no route to the internet.
    isolated_database_tier: bool = False
    database_offset: int = 20
    nat_mode: NatMode = "single"
    flow_log_destinations: tuple[FlowLogDestination, ...] = ("s3",)
    # Only used with the CloudWatch destination; below 365 days needs the S3 destination as archive.
    flow_log_cloudwatch_retention_days: int = PCI_LOG_RETENTION_DAYS

    @property
    def az_count(self) -> int:
        return len(self.zone_letters)


@dataclass(frozen=True, kw_only=True)
class BucketLifecycle:
    """Retention of one bucket's objects. Below 12 months, storage adds a replicated archive."""

    expire_after_days: int | None = None
    transition_after_days: int | None = None
    transition_storage_class: StorageClass = "GLACIER"
    noncurrent_expire_after_days: int = 90


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    """Buckets keyed by stable purpose names, so ids do not shift when one is added or removed.

    `flow_logs` is the purpose name the network layer delivers VPC flow logs to.
    """

    buckets: Mapping[str, BucketLifecycle] = field(default_factory=dict)
    access_log_retention_days: int = PCI_LOG_RETENTION_DAYS


@dataclass(frozen=True, kw_only=True)
class EndpointsConfig:
    """VPC endpoints so private subnets reach AWS APIs without NAT."""

    gateway_services: tuple[GatewayService, ...] = GATEWAY_SERVICES
    interface_services: tuple[InterfaceService, ...] = ("secretsmanager", "kms", "logs", "monitoring", "sts")


@dataclass(frozen=True, kw_only=True)
class BackendConfig:
    """Terraform state: local unless a state bucket is given."""

    state_bucket: str | None = None
    state_bucket_region: str = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class TagsConfig:
    """Provider default tags; Environment comes from the suffix."""

    application: str = "tap"
    project: str = "PaymentProcessing"
    cost_center: str = "Finance"
    repository: str | None = None
    author: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeploymentConfig:
    """One deployment of one profile into one environment."""

    profile: str
    description: str
    environment_suffix: str = "dev"
    region: str = "us-east-1"
    name_prefix: str = "tap"
    # Non-production environments must tear down cleanly; production ones are protected.
    destroyable: bool = True
    tags: TagsConfig = TagsConfig()
    network: NetworkConfig = NetworkConfig()
    key_purposes: tuple[KeyPurpose, ...] = ("s3", "logs")
    storage: StorageConfig = StorageConfig()
    endpoints: EndpointsConfig = EndpointsConfig()
    backend: BackendConfig = BackendConfig()

    @property
    def stack_name(self) -> str:
        return f"TapStack{self.environment_suffix}"

    def default_tags(self) -> dict[str, str]:
        tags = {
            "Environment": self.environment_suffix,
            "Application": self.tags.application,
            "Project": self.tags.project,
            "CostCenter": self.tags.cost_center,
            "Profile": self.profile,
            "ManagedBy": "cdktn",
        }
        if self.tags.repository:
            tags["Repository"] = self.tags.repository
        if self.tags.author:
            tags["Author"] = self.tags.author
        return tags
