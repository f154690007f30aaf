"""Synthesis: validate, build both stacks, check generated names, then (and only then) write `cdktf.out/`."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktn import App

from lib import reachability
from lib.baseline_stack import BaselineStack
from lib.config import DeploymentConfig, FleetConfig
from lib.core.terraform import TARGET_VERSIONS
from lib.edge.certificate import site_domain
from lib.errors import ConfigError, Violation
from lib.foundation.storage import needs_archive
from lib.tap_stack import TapStack
from lib.validation import validate


@dataclass(frozen=True)
class SynthResult:
    config: DeploymentConfig
    stack_name: str
    output_file: Path
    baseline_stack_name: str
    baseline_file: Path
    # (kind, name) of every physical name the environment stack generated.
    names: tuple[tuple[str, str], ...]

    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.output_file.read_text())
        return parsed

    def baseline_document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.baseline_file.read_text())
        return parsed


def synthesize(config: DeploymentConfig, outdir: Path | str = "cdktf.out") -> SynthResult:
    """Raises ConfigError listing every violation; on error `outdir` is left as it was.

    Configuration is validated first (a broken config could not be built). Both stacks are then
    built and synthesized into a temporary sibling directory; generated names are checked
    before `synth()`, every caller's network path after it (`reachability.gaps`), and the result
    replaces `outdir` only when everything passed.
    """
    violations = validate(config)
    if violations:
        raise ConfigError(violations)
    target = Path(outdir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # No stack traces in construct metadata: they are only for debugging and cost ~0.2 s.
        app = App(outdir=str(staging), context={"targetVersions": TARGET_VERSIONS}, stack_traces=False)
        stack = TapStack(app, config.stack_name, config)
        baseline = BaselineStack(
            app,
            config.baseline_stack_name,
            region=config.region,
            backend=config.backend,
            config=config.baseline,
        )
        violations = stack.names.violations() + baseline.names.violations()
        if violations:
            raise ConfigError(violations)
        app.synth()
        unreachable = [
            Violation(gap.caller, gap.target, gap.reason, "reachability.path")
            for stack_name in (config.stack_name, config.baseline_stack_name)
            for gap in reachability.gaps(json.loads((staging / "stacks" / stack_name / "cdk.tf.json").read_text()))
        ]
        if unreachable:
            raise ConfigError(unreachable)
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stacks = Path(outdir) / "stacks"
    return SynthResult(
        config,
        config.stack_name,
        stacks / config.stack_name / "cdk.tf.json",
        config.baseline_stack_name,
        stacks / config.baseline_stack_name / "cdk.tf.json",
        tuple(stack.names.recorded),
    )


def bucket_count(config: DeploymentConfig) -> int:
    """The profile's buckets, the access-log bucket, the archives short retention brings, and
    signed code's artifacts bucket."""
    buckets = config.storage.buckets
    signed = 1 if config.lambdas.code_signing else 0
    return len(buckets) + 1 + sum(needs_archive(lifecycle) for lifecycle in buckets.values()) + signed


def built_tiers(config: DeploymentConfig) -> list[str]:
    """What the configuration builds, tier by tier, in words (the summary never claims more)."""
    network = config.network
    foundation = [
        f"{len(config.key_purposes)} KMS keys",
        f"{bucket_count(config)} buckets",
        f"VPC over {len(config.zones)} zones ({', '.join(config.zones)}), NAT {network.nat_mode}"
        + (", isolated database subnets" if network.isolated_database_tier else ""),
        f"flow logs to {' + '.join(network.flow_log_destinations)}",
        f"endpoints: {', '.join([*config.endpoints.gateway_services, *config.interface_endpoints])}",
    ]
    if config.lambdas.code_signing:
        foundation.append("signed Lambda code (enforced), with TAP's signed Powertools layer")
    lines = [f"foundation: {'; '.join(foundation)}"]
    data = []
    if config.database is not None:
        db = config.database
        capacity = (
            f"Serverless v2 {db.serverless_acu[0]}-{db.serverless_acu[1]} ACU"
            if db.serverless_acu
            else db.instance_class
        )
        data.append(f"Aurora {db.engine} {db.engine_version} x{db.instance_count} ({capacity})")
        data.append("RDS Proxy" if db.rds_proxy else "")
        data.append("credential rotation")
        data.append("ledger schema migrated at deploy" if db.ledger else "")
    data += ["Redis" if config.cache else "", "EFS" if config.file_system else ""]
    data.append("DynamoDB transactions table" if config.transactions_table else "")
    data.append("SSM parameters" if config.parameters else "")
    if any(data):
        lines.append(f"data: {', '.join(item for item in data if item)}")
    payments = []
    if config.payments is not None:
        store = {
            "ledger": "settling into the Aurora ledger through RDS Proxy (IAM auth)",
            "dynamodb": "recording in the DynamoDB table",
        }[config.payments.transaction_store]
        payments.append(
            f"validation, fraud and processing functions {store}; queues; event bus; alert topics; HTTP API"
        )
    if config.transactions_api is not None:
        proxied = config.database is not None and config.database.rds_proxy
        login = "through RDS Proxy (IAM auth)" if proxied else "with the rotated application secret"
        payments.append(f"transactions API (stage prod) over the ledger {login}, balances cached in Redis")
    if payments:
        lines.append(f"payments: {'; '.join(payments)}")
    lines += edge_and_compute(config)
    lines += governance_lines(config)
    lines.append(observability_line(config))
    return lines


def observability_line(config: DeploymentConfig) -> str:
    """What the alarms watch in this profile, whether "payments degraded" pages, and what else
    the observability tier builds."""
    apis = config.payments is not None or config.transactions_api is not None
    served = config.edge.load_balancer is not None and config.compute is not None
    public = served and config.edge.load_balancer is not None and not config.edge.load_balancer.internal
    edge = config.edge
    # Failover needs a zone: a given one, or a created one once a domain is set; its default
    # secondary is a maintenance page behind CloudFront.
    failover = (
        public
        and edge.failover is not None
        and edge.hosted_zone_id is not None
        and (edge.hosted_zone_id != "create" or edge.domain_name is not None)
    )
    watched = [
        ("the load balancer, its target groups, instance groups (CPU and memory) and health service", served),
        ("the WAFs" if public and (edge.cdn is not None or failover) else "the regional WAF", public),
        ("CloudFront", public and (edge.cdn is not None or failover)),
        ("Route 53 health checks", failover),
        ("the zone's signing", served and edge.hosted_zone_id == "create" and edge.domain_name is not None),
        ("the database", config.database is not None),
        ("the cache", config.cache is not None),
        ("the file system", config.file_system is not None),
        ("tables", config.payments is not None or config.transactions_table is not None),
        ("queues", config.payments is not None),
        ("functions", config.database is not None or apis),
        ("API stages", apis),
        ("the log delivery stream", served and "app_logs" in config.storage.buckets),
        ("the payment-log stream and its transform", config.observability.payment_log_stream),
    ]
    text = ", ".join(what for what, present in watched if present)
    queries = config.database is not None or apis or "cloudwatch" in config.network.flow_log_destinations
    return (
        f"observability: alarms on {text} to the alarms topic"
        + ("; 'payments degraded' to the page topic" if apis else "")
        + "; a dashboard with a row per tier"
        + ("; saved Logs Insights queries" if queries else "")
        + ("; payment logs streamed, re-masked, to S3" if config.observability.payment_log_stream else "")
    )


def governance_lines(config: DeploymentConfig) -> list[str]:
    """The governance tier's environment parts (the account singletons are the baseline's)."""
    governance, backup = config.governance, config.governance.backup
    parts = []
    if backup.enabled:
        lock = "locked" if not config.destroyable else "unlocked while destroyable"
        parts.append(f"AWS Backup daily, kept {backup.retention_days} days, vault {lock}")
    if governance.data_events:
        parts.append("CloudTrail data events on what holds or processes payment data")
    if governance.inspector:
        parts.append("Amazon Inspector required (enabled by the account baseline)")
    return [f"governance: {'; '.join(parts)}"] if parts else []


def edge_and_compute(config: DeploymentConfig) -> list[str]:
    """The edge and compute tiers in words (both are built together, or neither)."""
    lb, compute = config.edge.load_balancer, config.compute
    if lb is None or compute is None:
        return []
    domain = site_domain(config.edge, config.name_prefix, config.environment_suffix)
    certificate = "the configured certificate" if config.edge.certificate_arn else f"ACM certificate for {domain}"
    cdn = config.edge.cdn
    edge = [
        f"{'internal' if lb.internal else 'internet-facing'} ALB, HTTPS ({lb.ssl_policy}) with {certificate}"
        + (", CloudFront only" if cdn else "" if lb.internal else ", HTTP redirected"),
        "access logs bucket",
        f"blue/green target groups {lb.blue_green.blue_weight}/{lb.blue_green.green_weight}"
        if lb.blue_green
        else "one target group",
        "HTTP API VPC link (ANY /service/{proxy+})"
        if lb.internal
        else f"regional WAF (rate limit {lb.waf.rate_limit} per 5 min, AWS managed rules, payment-path rules)",
    ]
    if cdn is not None:
        edge.append(
            f"CloudFront ({cdn.price_class}, TLS 1.2+, assets bucket through OAC on {', '.join(cdn.static_paths)}"
            + (", the payment API under the site's name" if config.payments is not None else "")
            + ", HSTS and CSP, standard logs, us-east-1 WAF)"
        )
    zone = config.edge.hosted_zone_id is not None and config.edge.domain_name is not None
    if zone and config.edge.hosted_zone_id == "create":
        edge.append(f"hosted zone {domain} (DNSSEC, query logs)")
    failover = config.edge.failover
    if failover is not None and zone:
        secondary = failover.secondary_dns_name or "a maintenance page behind CloudFront"
        edge.append(f"Route 53 failover: the ALB, then {secondary}, both health-checked")
    fleets = ["blue", "green"] if lb.blue_green else ["web"]

    def fleet(name: str, spec: FleetConfig) -> str:
        hours = spec.business_hours
        floor = f", at least {hours.min_size} {hours.start}..{hours.end} {hours.time_zone}" if hours else ""
        return f"{name} {spec.min_size}-{spec.max_size} x {spec.instance_type}{floor}"

    groups = [fleet(name, compute.web) for name in fleets]
    if compute.batch is not None:
        groups.append(fleet("batch", compute.batch))
    return [
        f"edge: {'; '.join(edge)}",
        f"compute: health service on Amazon Linux 2023 in Auto Scaling groups {', '.join(groups)}; "
        f"CPU step scaling; release bucket",
    ]


def warnings(config: DeploymentConfig) -> list[str]:
    """What will not work until the configuration says more."""
    found = []
    if config.edge.load_balancer is not None and config.edge.domain_name is None and not config.edge.certificate_arn:
        domain = site_domain(config.edge, config.name_prefix, config.environment_suffix)
        found.append(
            f"no edge.domain_name: the certificate is requested for the placeholder {domain}, which cannot "
            "validate, so the HTTPS listener waits at apply; set [edge] domain_name (and hosted_zone_id) "
            "in the environment's TAP_CONFIG file"
        )
    edge = config.edge
    if edge.load_balancer is not None and edge.hosted_zone_id == "create" and edge.domain_name is None:
        found.append(
            "hosted_zone_id = 'create' without edge.domain_name: no zone"
            + (", DNSSEC or failover records" if edge.failover is not None else "")
            + " until [edge] domain_name is set (Route 53 refuses zones under example.com)"
        )
    elif edge.load_balancer is not None and edge.hosted_zone_id == "create":
        found.append(
            f"a new hosted zone for {edge.domain_name}: delegate it to its name servers (output "
            "hosted_zone_name_servers) while the first apply waits up to 75 minutes for certificate validation, "
            "or apply the zone first with -target"
        )
    return found


def settings_lines(config: DeploymentConfig) -> list[str]:
    """Every value that differs from TAP's secure default, and where it came from."""
    defaults = DeploymentConfig(profile=config.profile, description=config.description)
    return [
        f"  {path} = {value!r}  [{config.source_of(path) or f'profile {config.profile}'}]"
        for path, value in _differences(config, defaults)
        if path != "sources"
    ]


def _differences(value: Any, default: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every leaf where `value` differs from `default`; a section turned on reads `on`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found: list[tuple[str, Any]] = []
        if default is None:
            found.append((path, "on"))
            default = type(value)(**_required(value))
        for field in dataclasses.fields(value):
            child = f"{path}.{field.name}" if path else field.name
            found += _differences(getattr(value, field.name), getattr(default, field.name), child)
        return found
    if isinstance(value, Mapping) and all(dataclasses.is_dataclass(item) for item in value.values()):
        # Keyed sections (storage buckets): one line per changed leaf, `path['key'].field`.
        return [
            difference
            for key, item in value.items()
            for difference in _differences(item, default.get(key), f"{path}[{key!r}]")
        ]
    return [] if _plain(value) == _plain(default) else [(path, _plain(value))]


def _required(value: Any) -> dict[str, Any]:
    """The fields a section has no default for (e.g. an Aurora engine), from the value itself."""
    return {
        f.name: getattr(value, f.name)
        for f in dataclasses.fields(value)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "items") and not dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _stack_lines(name: str, document: dict[str, Any], output_file: Path) -> list[str]:
    backend = document.get("terraform", {}).get("backend", {})
    backend_text = ", ".join(f"{kind} ({json.dumps(settings, sort_keys=True)})" for kind, settings in backend.items())
    # A resource over a `for_each` map is one resource per key once applied (the Config rules).
    counts = Counter(
        {
            kind: sum(len(item.get("for_each") or {}) or 1 for item in items.values())
            for kind, items in document.get("resource", {}).items()
        }
    )
    return [
        f"stack:    {name}",
        f"backend:  {backend_text}",
        f"resources: {sum(counts.values())}",
        *(f"  {count:4d}  {kind}" for kind, count in sorted(counts.items())),
        f"output:   {output_file}",
    ]


def summary(result: SynthResult) -> str:
    """What `make synth` prints: what was built, from which settings, and where the output is."""
    config = result.config
    settings = settings_lines(config)
    lines = [
        f"profile:  {config.profile} ({config.description})",
        f"region:   {config.region}",
        f"mode:     {'destroyable (non-production)' if config.destroyable else 'protected (production)'}",
        "tiers:",
        *(f"  {line}" for line in built_tiers(config)),
        *(f"WARNING: {line}" for line in warnings(config)),
        "settings (differing from TAP's defaults):" if settings else "settings: TAP's defaults",
        *settings,
        "",
        "account baseline (apply once per account and region, before environments):",
        *_stack_lines(result.baseline_stack_name, result.baseline_document(), result.baseline_file),
        "",
        "environment:",
        *_stack_lines(result.stack_name, result.document(), result.output_file),
    ]
    return "\n".join(lines)
