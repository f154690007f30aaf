"""Route 53: a zone TAP creates, and failover for the site's name (document 002).

A created zone is signed (DNSSEC, with a key-signing key on an asymmetric KMS key in us-east-1,
where Route 53 requires it, and alarms on signing failures there) and logs its queries to an encrypted log group in us-east-1 (Route 53
writes query logs there only), kept the PCI year.

Failover: the primary record aliases the load balancer and is healthy while any of its target
groups has a healthy instance: per group, a CloudWatch alarm on HealthyHostCount and a health
check following it, combined by a calculated check (so the check follows the deep `/health`
without exposing it to Route 53's checkers). The secondary is a configured endpoint, or a static maintenance
page served by its own CloudFront distribution from a private bucket (HTTPS with the site's
certificate, so HSTS holds during maintenance); Route 53 checks it over HTTPS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktn import TerraformProvider
from cdktn_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionCustomErrorResponse,
    CloudfrontDistributionOrigin,
)
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.route53_health_check import Route53HealthCheck
from cdktn_provider_aws.route53_hosted_zone_dnssec import Route53HostedZoneDnssec
from cdktn_provider_aws.route53_key_signing_key import Route53KeySigningKey
from cdktn_provider_aws.route53_query_log import Route53QueryLog
from cdktn_provider_aws.route53_record import Route53Record
from cdktn_provider_aws.route53_zone import Route53Zone
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_object import S3Object
from constructs import Construct

from lib.config import CACHING_OPTIMIZED_POLICY, PCI_LOG_RETENTION_DAYS, BucketLifecycle, CdnConfig, FailoverConfig
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.policies import key_root_statement
from lib.edge.cdn import (
    CLOUDFRONT_ZONE_ID,
    READ_METHODS,
    geo_restriction,
    grant_distribution_read,
    origin_access_control,
    security_headers,
    standard_logging,
)
from lib.edge.load_balancer import LoadBalancer

QUERY_LOG_REGION = "us-east-1"
MAINTENANCE_PAGE = Path(__file__).with_name("static") / "maintenance.html"
MAINTENANCE_KEY = "maintenance.html"
# Deliberately short: the page should stop being served soon after the primary is back.
MAINTENANCE_CACHE_SECONDS = 60


@dataclass(frozen=True, kw_only=True)
class AliasTarget:
    """An endpoint Route 53 aliases: its DNS name, its hosted zone id, and where it is checked."""

    dns_name: str
    zone_id: str
    health_check_path: str = "/"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class HostedZone(Construct):
    """`zone_id` of a new public zone, signed with DNSSEC and logging its queries."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, *, domain: str, provider: TerraformProvider
    ) -> None:
        super().__init__(scope, construct_id)
        names, account = context.names, context.account_id
        self.zone = Route53Zone(self, "zone", name=domain, comment=f"TAP {names.suffix}")
        self.zone_id = self.zone.zone_id
        zone_arn = context.arn("route53", "hostedzone/*", region=False, account=False)
        dnssec_service = {"Service": "dnssec-route53.amazonaws.com"}
        from_this_account = {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": zone_arn}}
        self.signing_key = KmsKey(
            self,
            "signing_key",
            provider=provider,
            description=f"DNSSEC key-signing key of {domain}",
            customer_master_key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
            deletion_window_in_days=context.lifecycle.key_deletion_days,
            policy=_policy(
                key_root_statement(context.account_root),
                {
                    "Sid": "Route53DnssecSigns",
                    "Effect": "Allow",
                    "Principal": dnssec_service,
                    "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                    "Resource": "*",
                    "Condition": from_this_account,
                },
                {
                    "Sid": "Route53DnssecGrants",
                    "Effect": "Allow",
                    "Principal": dnssec_service,
                    "Action": "kms:CreateGrant",
                    "Resource": "*",
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}, **from_this_account},
                },
            ),
        )
        KmsAlias(
            self,
            "signing_key_alias",
            provider=provider,
            name=names.alias("dnssec"),
            target_key_id=self.signing_key.key_id,
        )
        signing = Route53KeySigningKey(
            self,
            "key_signing_key",
            hosted_zone_id=self.zone.id,
            key_management_service_arn=self.signing_key.arn,
            # Letters, digits and underscores only; unique within the zone, which is this environment's.
            name=names.record("key_signing_key", f"{names.prefix}_ksk_{names.suffix}".replace("-", "_")),
            status="ACTIVE",
        )
        Route53HostedZoneDnssec(self, "dnssec", hosted_zone_id=signing.hosted_zone_id, depends_on=[signing])
        self._query_logging(context, domain, provider)

    def _query_logging(self, context: StackContext, domain: str, provider: TerraformProvider) -> None:
        names = context.names
        # Route 53 needs the /aws/route53/ prefix; the environment's name keeps two zones apart.
        log_group_name = names.record("log_group", f"/aws/route53/{names.prefix}-{names.suffix}/{domain}")
        log_group_arn = context.arn("logs", f"log-group:{log_group_name}", region=QUERY_LOG_REGION)
        key = KmsKey(
            self,
            "query_log_key",
            provider=provider,
            description=f"Route 53 query logs of {domain}",
            enable_key_rotation=True,
            deletion_window_in_days=context.lifecycle.key_deletion_days,
            policy=_policy(
                key_root_statement(context.account_root),
                {
                    "Sid": "CloudWatchLogsUseForTheQueryLogGroup",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{QUERY_LOG_REGION}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
                },
            ),
        )
        KmsAlias(
            self, "query_log_key_alias", provider=provider, name=names.alias("query-logs"), target_key_id=key.key_id
        )
        group = CloudwatchLogGroup(
            self,
            "query_log_group",
            provider=provider,
            name=log_group_name,
            retention_in_days=PCI_LOG_RETENTION_DAYS,
            kms_key_id=key.arn,
        )
        policy = CloudwatchLogResourcePolicy(
            self,
            "query_log_policy",
            provider=provider,
            policy_name=names.make("log_resource_policy", "route53-query-logs"),
            policy_document=_policy(
                {
                    "Sid": "Route53WritesQueryLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "route53.amazonaws.com"},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:*",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": context.account_id},
                        "ArnLike": {
                            "aws:SourceArn": context.arn("route53", "hostedzone/*", region=False, account=False)
                        },
                    },
                }
            ),
        )
        Route53QueryLog(
            self, "query_log", zone_id=self.zone.zone_id, cloudwatch_log_group_arn=group.arn, depends_on=[policy]
        )


@dataclass(frozen=True, kw_only=True)
class FailoverProps:
    config: FailoverConfig
    zone_id: str
    domain_name: str
    load_balancer: LoadBalancer
    # In us-east-1, for the maintenance distribution (None with a configured secondary).
    certificate_arn: str | None
    web_acl_arn: str | None
    s3_key: KmsKey
    access_log_bucket: S3Bucket
    # The standard-log bucket the edge's distributions share (None with a configured secondary).
    log_bucket: SecureBucket | None


class Failover(Construct):
    """`records` (primary, secondary) and their `health_checks`; `maintenance` when it is the secondary."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: FailoverProps) -> None:
        super().__init__(scope, construct_id)
        config, balancer = props.config, props.load_balancer.load_balancer
        self.maintenance: MaintenanceSite | None = None
        secondary = (
            AliasTarget(
                dns_name=config.secondary_dns_name,
                zone_id=config.secondary_zone_id,
                health_check_path=config.secondary_health_check_path,
            )
            if not config.maintenance_page and config.secondary_dns_name and config.secondary_zone_id
            else None
        )
        if secondary is None:
            if props.certificate_arn is None or props.log_bucket is None or props.web_acl_arn is None:
                raise ValueError("the maintenance page needs a us-east-1 certificate and web ACL, and the log bucket")
            self.maintenance = MaintenanceSite(
                self,
                "maintenance",
                context,
                domain_name=props.domain_name,
                certificate_arn=props.certificate_arn,
                web_acl_arn=props.web_acl_arn,
                s3_key=props.s3_key,
                access_log_bucket=props.access_log_bucket,
                log_bucket=props.log_bucket,
            )
            secondary = AliasTarget(
                dns_name=self.maintenance.distribution.domain_name,
                zone_id=CLOUDFRONT_ZONE_ID,
                health_check_path=f"/{MAINTENANCE_KEY}",
            )
        self.primary_checks = self._target_group_checks(context, props.load_balancer)
        self.health_checks = {
            # Healthy while any target group has a healthy instance.
            "primary": Route53HealthCheck(
                self,
                "primary_health",
                type="CALCULATED",
                child_healthchecks=[check.id for check in self.primary_checks.values()],
                child_health_threshold=1,
                tags={"Name": context.names.make("health_check", "primary")},
            ),
            "secondary": Route53HealthCheck(
                self,
                "secondary_health",
                type="HTTPS",
                fqdn=secondary.dns_name,
                port=443,
                resource_path=secondary.health_check_path,
                enable_sni=True,
                request_interval=config.request_interval_seconds,
                failure_threshold=config.failure_threshold,
                tags={"Name": context.names.make("health_check", "secondary")},
            ),
        }
        targets = {
            "primary": AliasTarget(dns_name=balancer.dns_name, zone_id=balancer.zone_id),
            "secondary": secondary,
        }
        self.records = {
            role: Route53Record(
                self,
                role,
                zone_id=props.zone_id,
                name=props.domain_name,
                type="A",
                set_identifier=role,
                failover_routing_policy={"type": role.upper()},
                health_check_id=self.health_checks[role].id,
                alias={"name": target.dns_name, "zone_id": target.zone_id, "evaluate_target_health": False},
            )
            for role, target in targets.items()
        }

    def _target_group_checks(self, context: StackContext, load_balancer: LoadBalancer) -> dict[str, Route53HealthCheck]:
        """Per target group, an alarm on its healthy instances and a health check that follows it.

        Route 53 follows only alarms on one metric (no metric math), hence one pair per group,
        combined by the calculated primary check.
        """
        checks = {}
        for colour, group in load_balancer.target_groups.items():
            alarm = CloudwatchMetricAlarm(
                self,
                f"healthy_hosts_{colour}",
                alarm_name=context.names.make("alarm", colour, "no-healthy-instances"),
                alarm_description=f"No {colour} instance passes /health: Route 53 counts this group out",
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                dimensions={"LoadBalancer": load_balancer.load_balancer.arn_suffix, "TargetGroup": group.arn_suffix},
                statistic="Minimum",
                period=60,
                evaluation_periods=2,
                comparison_operator="LessThanThreshold",
                threshold=1,
                # No data means no instance reported: as unhealthy as it gets.
                treat_missing_data="breaching",
            )
            checks[colour] = Route53HealthCheck(
                self,
                f"{colour}_health",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=alarm.alarm_name,
                cloudwatch_alarm_region=context.region_name,
                insufficient_data_health_status="LastKnownStatus",
                tags={"Name": context.names.make("health_check", colour)},
            )
        return checks


class MaintenanceSite(Construct):
    """A static page in a private bucket behind its own distribution, with the site's certificate and
    the CloudFront web ACL (its rate limit keeps the page from being abused while it is up)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        context: StackContext,
        *,
        domain_name: str,
        certificate_arn: str,
        web_acl_arn: str,
        s3_key: KmsKey,
        access_log_bucket: S3Bucket,
        log_bucket: SecureBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        names = context.names
        # The maintenance page follows CloudFront's secure defaults (HSTS, CSP, sanctioned countries).
        defaults = CdnConfig()
        self.bucket = SecureBucket(
            self,
            "bucket",
            context.lifecycle,
            SecureBucketProps(
                name=names.make("s3_bucket", "maintenance"),
                lifecycle=BucketLifecycle(noncurrent_expire_after_days=30),
                kms_key=s3_key,
                access_log_bucket=access_log_bucket,
            ),
        )
        page = S3Object(
            self,
            "page",
            bucket=self.bucket.name,
            key=MAINTENANCE_KEY,
            content=MAINTENANCE_PAGE.read_text(),
            content_type="text/html; charset=utf-8",
            cache_control=f"max-age={MAINTENANCE_CACHE_SECONDS}",
            server_side_encryption="aws:kms",
            kms_key_id=s3_key.arn,
        )
        headers = security_headers(self, context, "maintenance", defaults)
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"TAP {names.prefix} {names.suffix} maintenance page",
            aliases=[domain_name],
            price_class=defaults.price_class,
            http_version="http2and3",
            is_ipv6_enabled=True,
            default_root_object=MAINTENANCE_KEY,
            web_acl_id=web_acl_arn,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id="maintenance",
                    domain_name=self.bucket.bucket.bucket_regional_domain_name,
                    origin_access_control_id=origin_access_control(self, context, "maintenance").id,
                )
            ],
            default_cache_behavior={
                "target_origin_id": "maintenance",
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": READ_METHODS,
                "cached_methods": READ_METHODS,
                "cache_policy_id": CACHING_OPTIMIZED_POLICY,
                "response_headers_policy_id": headers.id,
                "compress": True,
            },
            # Every path shows the page, as 503 so that clients and crawlers know it is temporary.
            custom_error_response=[
                CloudfrontDistributionCustomErrorResponse(
                    error_code=code,
                    response_code=503,
                    response_page_path=f"/{MAINTENANCE_KEY}",
                    error_caching_min_ttl=MAINTENANCE_CACHE_SECONDS,
                )
                for code in (403, 404)
            ],
            viewer_certificate={
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
            restrictions=geo_restriction(defaults.blocked_countries),
            logging_config=standard_logging(log_bucket),
            depends_on=[log_bucket.policy_resource, log_bucket.ownership, page],
        )
        grant_distribution_read(self.bucket, self.distribution.arn, context)
