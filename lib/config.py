"""The typed description of one deployment: what a profile sets and the environment overrides.

Every section is a frozen, keyword-only dataclass whose defaults are the secure choice, so a
profile only states where its source document differs. Validation lives in `validation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from lib.regions import REGIONS

NatMode = Literal["none", "single", "per_az"]
FlowLogDestination = Literal["s3", "cloudwatch"]
KeyPurpose = Literal["database", "s3", "logs", "secrets", "parameters", "events", "efs", "cache", "dynamodb", "compute"]
GatewayService = Literal["s3", "dynamodb"]
InterfaceService = Literal[
    "secretsmanager", "ssm", "kms", "logs", "monitoring", "sqs", "events", "sts", "xray", "lambda"
]
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
    source, so subnets never move when AWS adds a zone to the region. None means the region's
    default zones (`regions.py`), which every account has.
    """

    cidr_block: str = "10.0.0.0/16"
    zone_letters: tuple[str, ...] | None = None
    public_offset: int = 0
    private_offset: int = 10
    # Document 004's isolated database tier: own route tables, no route to the internet.
    isolated_database_tier: bool = False
    database_offset: int = 20
    nat_mode: NatMode = "single"
    flow_log_destinations: tuple[FlowLogDestination, ...] = ("s3",)
    # Only used with the CloudWatch destination; below 365 days needs the S3 destination as archive.
    flow_log_cloudwatch_retention_days: int = PCI_LOG_RETENTION_DAYS


@dataclass(frozen=True, kw_only=True)
class BucketLifecycle:
    """Retention of one bucket's objects. Below 12 months, storage adds a replicated archive."""

    expire_after_days: int | None = None
    transition_after_days: int | None = None
    transition_storage_class: StorageClass = "GLACIER"
    noncurrent_expire_after_days: int = 90


# Logs kept for PCI-DSS 10.5.1's year: three months at hand, then Glacier Instant Retrieval.
PCI_LOG_LIFECYCLE = BucketLifecycle(
    expire_after_days=PCI_LOG_RETENTION_DAYS, transition_after_days=90, transition_storage_class="GLACIER_IR"
)


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    """Buckets keyed by stable purpose names, so ids do not shift when one is added or removed.

    `flow_logs` is the purpose name the network layer delivers VPC flow logs to.
    """

    buckets: Mapping[str, BucketLifecycle] = field(default_factory=dict)
    access_log_retention_days: int = PCI_LOG_RETENTION_DAYS

    def __post_init__(self) -> None:
        # Read-only, so a frozen config cannot be changed through its mapping either.
        object.__setattr__(self, "buckets", MappingProxyType(dict(self.buckets)))


@dataclass(frozen=True, kw_only=True)
class EndpointsConfig:
    """VPC endpoints so private subnets reach AWS APIs without NAT."""

    gateway_services: tuple[GatewayService, ...] = GATEWAY_SERVICES
    interface_services: tuple[InterfaceService, ...] = ("secretsmanager", "kms", "logs", "monitoring", "sts")


Engine = Literal["aurora-mysql", "aurora-postgresql"]
ENGINE_PORTS: dict[Engine, int] = {"aurora-mysql": 3306, "aurora-postgresql": 5432}


@dataclass(frozen=True, kw_only=True)
class AuroraConfig:
    """An Aurora cluster: one writer plus readers, Serverless v2 or provisioned.

    Master credentials are managed by RDS in Secrets Manager (no password anywhere in code or
    state); an application user secret is rotated by the rotation Lambda.
    """

    engine: Engine
    engine_version: str
    instance_count: int = 2
    # Serverless v2 when set; otherwise `instance_class` is a provisioned class.
    serverless_acu: tuple[float, float] | None = (0.5, 2.0)
    instance_class: str = "db.serverless"
    database_name: str = "payments"
    master_username: str = "tap_admin"
    app_username: str = "tap_app"
    backup_retention_days: int = 30
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:04:30-sun:05:30"
    # RDS rotates its managed master secret every 7 days unless a schedule is set.
    master_rotation_days: int = 30
    app_rotation_days: int = 30
    monitoring_interval_seconds: int = 60
    performance_insights_retention_days: int = 7
    # RDS Proxy in front (document 002); its clients use IAM auth over TLS.
    rds_proxy: bool = False
    # The double-entry ledger schema (PostgreSQL only), migrated at every deploy that changes it.
    ledger: bool = False

    @property
    def port(self) -> int:
        return ENGINE_PORTS[self.engine]


@dataclass(frozen=True, kw_only=True)
class RedisConfig:
    """ElastiCache Redis replication group (document 001)."""

    node_type: str = "cache.t4g.small"
    engine_version: str = "7.1"
    node_count: int = 3
    snapshot_retention_days: int = 5
    snapshot_window: str = "02:00-03:00"
    maintenance_window: str = "sun:05:00-sun:06:00"
    port: int = 6379


@dataclass(frozen=True, kw_only=True)
class FileSystemConfig:
    """EFS (document 001): IA after 30 days, one access point for the application."""

    transition_to_ia: str = "AFTER_30_DAYS"
    access_point_path: str = "/app"
    posix_uid: int = 1000
    posix_gid: int = 1000


@dataclass(frozen=True, kw_only=True)
class TransactionsTableConfig:
    """DynamoDB transactions table (document 004)."""

    # A name a source document fixes (`<name>-<suffix>`); None gives `<prefix>-transactions-<suffix>`.
    document_name: str | None = None
    ttl_attribute: str = "expires_at"


@dataclass(frozen=True, kw_only=True)
class ParametersConfig:
    """SSM parameters under /<root>/<suffix>/, all SecureString with the parameters key."""

    api_keys: tuple[str, ...] = ("payment-gateway",)
    # The path root; None means the profile's name prefix.
    root: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentRules:
    """What every entry point for payments shares: accepted requests, fraud thresholds, its HTTP API."""

    currencies: tuple[str, ...] = ("USD", "EUR", "GBP")
    # Minor units (cents): requests at or above the ceiling are refused.
    amount_ceiling: int = 10_000_000
    fraud_review_amount: int = 500_000
    fraud_decline_amount: int = 2_000_000
    # What the geography rule does when the merchant's or the card's country is missing:
    # "review" (the default: missing data is never a pass) or "ignore".
    missing_country: Literal["review", "ignore"] = "review"
    # At most this many payments per customer, and per card token, within the window.
    velocity_window_seconds: int = 3600
    velocity_limit: int = 10
    reserved_concurrency: int = 10
    # Browser origins allowed by CORS; empty means no CORS. Never "*" in a protected environment.
    cors_origins: tuple[str, ...] = ()
    throttle_rate_per_second: int = 100
    throttle_burst: int = 200


@dataclass(frozen=True, kw_only=True)
class PaymentsConfig(PaymentRules):
    """The payment application (documents 002, 004): functions, queues, events, alerts, API."""

    # Where payments are recorded: the DynamoDB table (document 004) or the Aurora PostgreSQL ledger
    # through RDS Proxy with IAM authentication (document 002).
    transaction_store: Literal["dynamodb", "ledger"] = "dynamodb"
    max_receive_count: int = 3
    batch_size: int = 10
    alert_emails: tuple[str, ...] = ()
    event_retry_attempts: int = 8
    event_max_age_seconds: int = 3600


@dataclass(frozen=True, kw_only=True)
class TransactionsApiConfig(PaymentRules):
    """Document 001's transactions API over the ledger, with balances cached in Redis."""

    # A name the document fixes (`<name>-<suffix>`); None gives `<prefix>-transactions-api-<suffix>`.
    document_name: str | None = None
    # Document 001's stage throttling: 10,000 requests per second, bursts of 5,000.
    throttle_rate_per_second: int = 10_000
    throttle_burst: int = 5_000
    # Sized for that rate: a warm request takes about 10 ms, so 10,000 rps needs about 100
    # concurrent executions. Each holds at most one ledger connection (`ReusedConnection`), so this
    # is also the API's connection budget at the cluster or the proxy; beyond it Lambda throttles
    # (a retryable error) rather than the database refusing connections.
    reserved_concurrency: int = 100
    # How long a cached balance may live; writes invalidate it sooner (this bounds staleness only
    # when Redis could not be told of a write).
    balance_cache_seconds: int = 60


@dataclass(frozen=True, kw_only=True)
class LambdaConfig:
    """Shared Lambda settings; Powertools comes from AWS's published layer."""

    runtime: str = "python3.13"
    architecture: str = "x86_64"
    # Signed code under an enforcing code signing config, with TAP's signed Powertools layer
    # (AWS's is unsigned); off: the zip as built, with AWS's published layer at this version.
    code_signing: bool = True
    powertools_layer_version: int = 27
    log_retention_days: int = PCI_LOG_RETENTION_DAYS
    rotation_reserved_concurrency: int = 2


@dataclass(frozen=True, kw_only=True)
class BlueGreenConfig:
    """Two target groups, blue and green, sharing the HTTPS listener by weight (document 004).

    The switch: shift weight to green, watch its alarms, then flip to 0/100 (README, "Blue/green").
    """

    blue_weight: int = 90
    green_weight: int = 10


@dataclass(frozen=True, kw_only=True)
class WafConfig:
    """The regional WAF on an internet-facing load balancer (document 002's rules, for every profile).

    PCI-DSS 6.4.2 asks for an automated solution in front of public-facing web applications.
    """

    # Requests per client IP per 5 minutes before it is blocked (document 002: 1000).
    rate_limit: int = 1000
    # Behind a CDN every request comes from the CDN: count the client's X-Forwarded-For address.
    rate_limit_on_forwarded_ip: bool = False
    # The anonymous-IP group's hosting-provider rule blocks too (merchants calling from cloud hosts would be refused).
    block_hosting_providers: bool = False
    # ISO 3166 alpha-2 country codes to block; empty turns the rule off.
    blocked_countries: tuple[str, ...] = ()
    # The payment paths' own constraints: these methods only, JSON bodies, at most this size.
    payments_path: str = "/payments"
    payments_methods: tuple[str, ...] = ("GET", "POST")
    payments_max_body_bytes: int = 8192


@dataclass(frozen=True, kw_only=True)
class LoadBalancerConfig:
    """The Application Load Balancer in front of the instances; the health service answers its checks."""

    # Internet-facing in the public subnets, or internal for the HTTP API's VPC link only (004).
    internal: bool = False
    blue_green: BlueGreenConfig | None = None
    # Document 000's target group health check: /health, 200, 2/2, every 30 s, 5 s timeout.
    health_check_path: str = "/health"
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    health_check_interval_seconds: int = 30
    health_check_timeout_seconds: int = 5
    idle_timeout_seconds: int = 60
    deregistration_delay_seconds: int = 30
    # ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 and 1.2 only, forward-secret ciphers.
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    # On internet-facing load balancers (an internal one is reached through the HTTP API only).
    waf: WafConfig = WafConfig()


# The bucket CloudFront's standard logs go to (named here: the s3 key's policy names it too).
CDN_LOG_BUCKET = "cdn-logs"
# Managed CloudFront policies (AWS-published ids, the same in every account).
CACHING_DISABLED_POLICY = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED_POLICY = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_ORIGIN_REQUEST_POLICY = "216adef6-5c7f-47e4-b989-5492eafa07d3"
# No inline scripts or styles, nothing framed, nothing from elsewhere; the portal serves its own assets.
RESTRICTIVE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "upgrade-insecure-requests"
)


@dataclass(frozen=True, kw_only=True)
class CdnConfig:
    """CloudFront in front of the internet-facing load balancer and the assets bucket (document 003).

    The load balancer then admits CloudFront's origin-facing addresses only, and answers 403 to any
    request without the distribution's origin header.
    """

    # Paths served from the assets bucket through origin access control, cached; everything else
    # goes to the load balancer uncached.
    static_paths: tuple[str, ...] = ("/static/*", "/assets/*")
    static_default_ttl_seconds: int = 86_400
    static_max_ttl_seconds: int = 31_536_000
    # Edge locations used: North America and Europe (the cheapest class; the portal's users).
    price_class: str = "PriceClass_100"
    # HSTS for two years with subdomains and preload (hstspreload.org's minimum is one year).
    hsts_max_age_seconds: int = 63_072_000
    content_security_policy: str = RESTRICTIVE_CSP
    # Countries CloudFront refuses (ISO 3166 alpha-2): by default the jurisdictions under
    # comprehensive US sanctions (OFAC), which a US payment processor may not serve. Empty: none.
    blocked_countries: tuple[str, ...] = ("CU", "IR", "KP", "SY")
    # An existing certificate in us-east-1 (CloudFront's region); None requests one through DNS.
    certificate_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class FailoverConfig:
    """Route 53 failover for the site's name (document 002): primary the load balancer, secondary a
    static maintenance page behind its own CloudFront distribution, or a configured second endpoint.
    """

    # A second endpoint Route 53 can alias (another region's load balancer, say): its DNS name,
    # the hosted zone id AWS publishes for it, and the path checked over HTTPS. None: the
    # maintenance page.
    secondary_dns_name: str | None = None
    secondary_zone_id: str | None = None
    secondary_health_check_path: str = "/"
    # Route 53's checks: every 30 s, failing after 3 misses (its defaults).
    request_interval_seconds: int = 30
    failure_threshold: int = 3

    @property
    def maintenance_page(self) -> bool:
        """The secondary is TAP's maintenance page (no second endpoint configured)."""
        return self.secondary_dns_name is None


@dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    """Inputs of the edge tier (load balancer, DNS, certificate), set per environment in its config file."""

    domain_name: str | None = None
    # An existing Route 53 hosted zone id, or "create" for a new zone (with DNSSEC signing and
    # query logging; for the placeholder name when there is no domain_name).
    hosted_zone_id: str | None = None
    # An existing ACM certificate; None means one is requested and validated through DNS.
    certificate_arn: str | None = None
    # None: the profile has no load balancer (and no edge tier).
    load_balancer: LoadBalancerConfig | None = None
    # CloudFront in front of the load balancer (which must then be internet-facing); None: none.
    cdn: CdnConfig | None = None
    # Route 53 failover records for the site's name; needs a hosted zone. None: a plain alias.
    failover: FailoverConfig | None = None


@dataclass(frozen=True, kw_only=True)
class BusinessHours:
    """A higher floor during business hours (document 003). Outside them the fleet's own sizes apply."""

    time_zone: str = "America/New_York"
    start: str = "0 8 * * MON-FRI"
    end: str = "0 18 * * MON-FRI"
    min_size: int = 3


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    """One Auto Scaling group of Amazon Linux 2023 instances running the health service."""

    # The AMI's architecture follows the type (Graviton families such as t4g take arm64).
    instance_type: str = "t3.small"
    min_size: int = 2
    max_size: int = 6
    desired_capacity: int = 2
    root_volume_gb: int = 20
    # CPU step scaling (document 003): out above 70 %, in below 30 %.
    scale_out_cpu_percent: int = 70
    scale_in_cpu_percent: int = 30
    business_hours: BusinessHours | None = None


@dataclass(frozen=True, kw_only=True)
class ComputeConfig:
    """Instances behind the load balancer (one fleet, or one per colour with blue/green)."""

    web: FleetConfig = FleetConfig()
    # Document 002's batch payment jobs: a fleet outside the load balancer, checked by EC2.
    batch: FleetConfig | None = None


GuardDutyFrequency = Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]
SnapshotFrequency = Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"]


@dataclass(frozen=True, kw_only=True)
class GuardDutyConfig:
    """Threat detection (PCI 11.5). Document 002: never a second detector where one exists."""

    enabled: bool = True
    # An existing detector's id (`make discover` finds it): adopted with a Terraform import
    # instead of created, since a region has one detector and deleting it deletes every finding.
    existing_detector_id: str | None = None
    # Document 002's value.
    finding_publishing_frequency: GuardDutyFrequency = "SIX_HOURS"
    # Findings at or above this severity go to the security-alerts topic (7.0: HIGH and above).
    alert_min_severity: float = 7.0
    # An adopted detector's existing S3 export (a detector has one): adopted too, not duplicated.
    existing_publishing_destination_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConfigRecorderConfig:
    """AWS Config: the recorder, its delivery channel and TAP's managed rules (PCI 10.4, 11.5)."""

    enabled: bool = True
    # IAM and other global types: record them in one region only, or every region counts them.
    record_global_resources: bool = True
    # A region has one recorder and one delivery channel: adopt existing ones by name.
    existing_recorder_name: str | None = None
    existing_delivery_channel_name: str | None = None
    snapshot_frequency: SnapshotFrequency = "TwentyFour_Hours"


@dataclass(frozen=True, kw_only=True)
class RemediationConfig:
    """Automatic fixes of non-compliant resources: AWS's Automation documents, or TAP's function."""

    enabled: bool = True
    # The function reports what it would do and changes nothing.
    dry_run: bool = False
    # Attempts of each Automation document before Config gives up on a resource.
    automatic_attempts: int = 3


@dataclass(frozen=True, kw_only=True)
class SecurityHubConfig:
    """Security Hub with the PCI DSS v4.0.1 and AWS Foundational Security Best Practices standards."""

    enabled: bool = True
    # The account already has Security Hub: adopt the subscription with an import.
    existing_subscription: bool = False


@dataclass(frozen=True, kw_only=True)
class TrailConfig:
    """The account's multi-region CloudTrail (PCI 10.2) and its monitoring set (10.4.1)."""

    enabled: bool = True
    # Object Lock retention of the log files; PCI 10.5.1 asks for a year.
    retention_days: int = PCI_LOG_RETENTION_DAYS
    log_group_retention_days: int = PCI_LOG_RETENTION_DAYS


@dataclass(frozen=True, kw_only=True)
class BaselineConfig:
    """The account baseline (one per account and region). Never set by a profile: see `baseline_stack.py`."""

    # A sandbox account's baseline may be torn down (7-day key windows, governance-mode Object
    # Lock); by default it is protected like production. What it adopted is never destroyed.
    destroyable: bool = False
    # Where the account-wide parts live when the baseline is applied in several regions: the
    # multi-region trail, global resource types in Config, the account's S3 public access block.
    # None: every region the baseline is applied in is its own home (one region per account).
    home_region: str | None = None
    # Encrypt X-Ray traces with a customer-managed key (account-wide setting).
    xray_encryption: bool = True
    # Who receives the security-alerts topic (GuardDuty, Config, CloudTrail alarms) by e-mail.
    security_alert_emails: tuple[str, ...] = ()
    guardduty: GuardDutyConfig = GuardDutyConfig()
    aws_config: ConfigRecorderConfig = ConfigRecorderConfig()
    remediation: RemediationConfig = RemediationConfig()
    security_hub: SecurityHubConfig = SecurityHubConfig()
    cloudtrail: TrailConfig = TrailConfig()
    # IAM Access Analyzer for the account (external access to TAP's resources, PCI 7.2).
    access_analyzer: bool = True
    # S3's account-level public access block (PCI 1.4.4): no bucket can be made public.
    account_public_access_block: bool = True
    # Amazon Inspector scans the account's EC2 instances and Lambda functions for vulnerabilities
    # (PCI 6.3.3, 11.3.1). Enabling it is an account setting, so it lives here; an environment's
    # `[governance] inspector` requires it.
    inspector: bool = True
    # The baseline's own function (Config remediation): runtime and Powertools layer.
    lambdas: LambdaConfig = LambdaConfig()


@dataclass(frozen=True, kw_only=True)
class BackupConfig:
    """AWS Backup of the environment's stores of record: the Aurora cluster, the transactions table, EFS."""

    enabled: bool = True
    # Daily recovery points kept this many days (each profile states its document's value).
    retention_days: int = 30
    # Daily at 05:00 UTC, after the stores' own backup windows; AWS Backup's cron syntax.
    schedule: str = "cron(0 5 * * ? *)"
    start_window_minutes: int = 60
    completion_window_minutes: int = 360


@dataclass(frozen=True, kw_only=True)
class GovernanceConfig:
    """The governance tier's environment parts (the account singletons are in `BaselineConfig`)."""

    backup: BackupConfig = BackupConfig()
    # CloudTrail data events (PCI 10.2.1) on what holds or processes payment data: a trail of the
    # environment's own, since the account trail cannot name another state's resources.
    data_events: bool = False
    # The environment's instances and functions must be scanned by Amazon Inspector: checked
    # against the account baseline, which enables it (validation rule governance.inspector).
    inspector: bool = False


@dataclass(frozen=True, kw_only=True)
class ObservabilityConfig:
    """Who is told: every alarm and recovery goes to the alarms topic (a team channel); "payments
    degraded" alone goes to the page topic (whoever is on call). Each address confirms once."""

    alarm_emails: tuple[str, ...] = ()
    page_emails: tuple[str, ...] = ()
    # Document 002: the payment functions' logs streamed by Firehose into a bucket of their own,
    # re-masked on the way (validation rule observability.payment_log_stream).
    payment_log_stream: bool = False


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
    # A `Compliance` tag on every data resource (document 001: "PCI-DSS"); None adds none.
    compliance: str | None = None


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
    # Data tier: a section that is None is off for the profile.
    database: AuroraConfig | None = None
    cache: RedisConfig | None = None
    file_system: FileSystemConfig | None = None
    transactions_table: TransactionsTableConfig | None = None
    parameters: ParametersConfig | None = None
    payments: PaymentsConfig | None = None
    transactions_api: TransactionsApiConfig | None = None
    lambdas: LambdaConfig = LambdaConfig()
    edge: EdgeConfig = EdgeConfig()
    compute: ComputeConfig | None = None
    governance: GovernanceConfig = GovernanceConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    baseline: BaselineConfig = BaselineConfig()
    # Where each non-profile value came from: (key path, "file.toml: key" or "ENV_VAR").
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def stack_name(self) -> str:
        return f"TapStack{self.environment_suffix}"

    @property
    def baseline_stack_name(self) -> str:
        return f"TapBaseline-{self.region}"

    @property
    def guardduty_agent(self) -> bool:
        """Instances run GuardDuty's Runtime Monitoring agent (the baseline manages it through SSM)."""
        return self.compute is not None and self.baseline.guardduty.enabled

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """The configured interface endpoints, plus GuardDuty's agent endpoint where instances run
        the agent. Created with the network, before any instance, so GuardDuty's automated agent
        configuration uses it rather than creating its own."""
        agent = ("guardduty-data",) if self.guardduty_agent else ()
        return (*self.endpoints.interface_services, *agent)

    @property
    def zone_letters(self) -> tuple[str, ...]:
        """The configured zones, or the region's default ones."""
        if self.network.zone_letters is not None:
            return self.network.zone_letters
        known = REGIONS.get(self.region)
        return known.default_zones if known is not None else ("a", "b", "c")

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(f"{self.region}{letter}" for letter in self.zone_letters)

    def source_of(self, path: str) -> str | None:
        """Where the value at `path` (or a parent section) was set, if not by the profile."""
        found = dict(self.sources)
        while path:
            if path in found:
                return found[path]
            path = path.rpartition(".")[0]
        return None

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
