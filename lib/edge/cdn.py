"""CloudFront in front of the load balancer and the assets bucket (document 003, and `full`).

- Dynamic paths go to the load balancer uncached (AWS's CachingDisabled policy), with every viewer
  header forwarded (AllViewer), Host included: CloudFront then checks the load balancer's
  certificate against the site's own name, so TLS to the origin is verified end to end.
- In `full`, the payment API's paths go to the HTTP API, uncached, through a regional custom
  domain of the site's own name (see `api_origin`: IAM's SigV4 signs the Host).
- Static paths come from the assets bucket through origin access control (SigV4-signed requests;
  the bucket admits this distribution only, and the s3 key lets CloudFront decrypt for it).
- TLS 1.2+ to viewers (TLSv1.2_2021, SNI) and to the origin (TLSv1.2, HTTPS only).
- Every response carries HSTS, a restrictive Content-Security-Policy, nosniff, DENY framing and
  a strict referrer policy.
- A web ACL of scope CLOUDFRONT (us-east-1, through the aliased provider) with the same rules as
  the regional one, counting clients by their real address.
- Countries refused at the edge (by default those under comprehensive US sanctions).
- Standard logs into a dedicated bucket (CloudFront writes them through an ACL grant).

Why the load balancer stays internet-facing rather than behind a CloudFront VPC origin: a VPC
origin needs CloudFront's service-managed security group admitted on the load balancer, and that
group exists only after CloudFront creates it, so one apply cannot both create the origin and
admit it. Instead the load balancer admits CloudFront's origin-facing prefix list only, and
forwards only requests carrying `x-origin-verify`, whose value only this distribution sends (so
another CloudFront distribution, from another account, cannot reach it either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktn import TerraformResource, TerraformResourceLifecycle
from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.apigatewayv2_api_mapping import Apigatewayv2ApiMapping
from cdktn_provider_aws.apigatewayv2_domain_name import Apigatewayv2DomainName
from cdktn_provider_aws.apigatewayv2_stage import Apigatewayv2Stage
from cdktn_provider_aws.cloudfront_cache_policy import CloudfrontCachePolicy
from cdktn_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
)
from cdktn_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktn_provider_aws.cloudfront_response_headers_policy import CloudfrontResponseHeadersPolicy
from cdktn_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.config import (
    ALL_VIEWER_ORIGIN_REQUEST_POLICY,
    CACHING_DISABLED_POLICY,
    CDN_LOG_BUCKET,
    PCI_LOG_LIFECYCLE,
    CdnConfig,
)
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import StackContext
from lib.core.terraform import US_EAST_1
from lib.edge.firewall import ORIGIN_HEADER
from lib.edge.load_balancer import OriginGuard

ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
LOAD_BALANCER_ORIGIN = "load_balancer"
ASSETS_ORIGIN = "assets"
API_ORIGIN = "payments_api"
LOG_PREFIX = "cloudfront/"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD"]
# Where CloudFront takes its certificates and web ACLs from.
CLOUDFRONT_REGION = US_EAST_1
# CloudFront's hosted zone id for alias records (the same for every distribution).
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"


def origin_guard(scope: Construct) -> OriginGuard:
    """CloudFront's origin-facing prefix list and the origin header's value.

    The value is a random UUID drawn once, at the first apply, by Terraform's built-in
    `terraform_data` (no extra provider); later plans keep it (`ignore_changes`). It is in the
    state, like any value CloudFront must send: the state bucket is KMS-encrypted and
    access-controlled. Rotate with `terraform apply -replace=<address>` (README, "CloudFront").
    """
    prefix_list = DataAwsEc2ManagedPrefixList(scope, "cloudfront_prefix_list", name=ORIGIN_FACING_PREFIX_LIST)
    value = TerraformResource(
        scope,
        "origin_header_value",
        terraform_resource_type="terraform_data",
        lifecycle=TerraformResourceLifecycle(ignore_changes=["input"]),
    )
    value.add_override("input", "${uuid()}")
    return OriginGuard(prefix_list_id=prefix_list.id, header_value=value.get_string_attribute("output"))


@dataclass(frozen=True, kw_only=True)
class ApiOrigin:
    """An HTTP API behind the distribution: the paths it serves and where CloudFront sends them."""

    path_patterns: tuple[str, ...]
    # The API custom domain's regional endpoint (d-....execute-api.<region>.amazonaws.com).
    target_domain_name: str


def api_origin(
    scope: Construct,
    *,
    domain_name: str,
    certificate_arn: str,
    api: Apigatewayv2Api,
    stage: Apigatewayv2Stage,
    path: str,
) -> ApiOrigin:
    """The HTTP API reached through CloudFront under the site's own name.

    Its routes are IAM-authorized and SigV4 signs the Host header: a client signs for the site's
    name, CloudFront forwards that Host (AllViewer), and a regional custom domain of the same name
    lets API Gateway route and verify the signature. The DNS name stays CloudFront's.
    """
    domain = Apigatewayv2DomainName(
        scope,
        "api_domain",
        domain_name=domain_name,
        domain_name_configuration={
            "certificate_arn": certificate_arn,
            "endpoint_type": "REGIONAL",
            "security_policy": "TLS_1_2",
        },
    )
    Apigatewayv2ApiMapping(scope, "api_mapping", api_id=api.id, domain_name=domain.id, stage=stage.id)
    return ApiOrigin(
        # The API's one route, POST /payments. (CloudFront drops Authorization from uncached GET
        # and HEAD requests, so a signed GET route would need a cache policy that keys on it.)
        path_patterns=(path,),
        target_domain_name=domain.domain_name_configuration.target_domain_name,
    )


@dataclass(frozen=True, kw_only=True)
class CdnProps:
    config: CdnConfig
    domain_name: str
    # In us-east-1.
    certificate_arn: str
    web_acl_arn: str
    load_balancer_dns_name: str
    origin_header_value: str
    assets_bucket: SecureBucket
    # The standard-log bucket the edge's distributions share (`cdn_log_bucket`).
    log_bucket: SecureBucket
    # The payment API, when CloudFront fronts it too (`full`).
    api: ApiOrigin | None = None


class Cdn(Construct):
    """`distribution` and the policies it applies; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: CdnProps) -> None:
        super().__init__(scope, construct_id)
        config, names = props.config, context.names
        self.static_cache_policy = CloudfrontCachePolicy(
            self,
            "static_cache_policy",
            name=names.make("cache_policy", "static"),
            comment="Static assets: cached, nothing of the viewer in the key",
            min_ttl=0,
            default_ttl=config.static_default_ttl_seconds,
            max_ttl=config.static_max_ttl_seconds,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "none"},
                "query_strings_config": {"query_string_behavior": "none"},
                "enable_accept_encoding_brotli": True,
                "enable_accept_encoding_gzip": True,
            },
        )
        self.headers_policy = security_headers(self, context, "security", config)
        access_control = origin_access_control(self, context, "assets")
        assets = props.assets_bucket
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"TAP {names.prefix} {names.suffix}",
            aliases=[props.domain_name],
            price_class=config.price_class,
            http_version="http2and3",
            is_ipv6_enabled=True,
            web_acl_id=props.web_acl_arn,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=LOAD_BALANCER_ORIGIN,
                    domain_name=props.load_balancer_dns_name,
                    custom_origin_config={
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "https-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                    },
                    custom_header=[
                        CloudfrontDistributionOriginCustomHeader(name=ORIGIN_HEADER, value=props.origin_header_value)
                    ],
                ),
                CloudfrontDistributionOrigin(
                    origin_id=ASSETS_ORIGIN,
                    domain_name=assets.bucket.bucket_regional_domain_name,
                    origin_access_control_id=access_control.id,
                ),
                *self._api_origins(props.api),
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                **self._behavior(LOAD_BALANCER_ORIGIN, ALL_METHODS, CACHING_DISABLED_POLICY),
                origin_request_policy_id=ALL_VIEWER_ORIGIN_REQUEST_POLICY,
            ),
            ordered_cache_behavior=[
                *(
                    CloudfrontDistributionOrderedCacheBehavior(
                        **self._behavior(API_ORIGIN, ALL_METHODS, CACHING_DISABLED_POLICY),
                        origin_request_policy_id=ALL_VIEWER_ORIGIN_REQUEST_POLICY,
                        path_pattern=path,
                    )
                    for path in (props.api.path_patterns if props.api else ())
                ),
                *(
                    CloudfrontDistributionOrderedCacheBehavior(
                        **self._behavior(ASSETS_ORIGIN, READ_METHODS, self.static_cache_policy.id), path_pattern=path
                    )
                    for path in config.static_paths
                ),
            ],
            viewer_certificate={
                "acm_certificate_arn": props.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
            restrictions=geo_restriction(config.blocked_countries),
            logging_config=standard_logging(props.log_bucket),
            depends_on=[props.log_bucket.policy_resource, props.log_bucket.ownership],
        )
        grant_distribution_read(assets, self.distribution.arn, context)

    @staticmethod
    def _api_origins(api: ApiOrigin | None) -> list[CloudfrontDistributionOrigin]:
        if api is None:
            return []
        return [
            CloudfrontDistributionOrigin(
                origin_id=API_ORIGIN,
                domain_name=api.target_domain_name,
                custom_origin_config={
                    "http_port": 80,
                    "https_port": 443,
                    "origin_protocol_policy": "https-only",
                    "origin_ssl_protocols": ["TLSv1.2"],
                },
            )
        ]

    def _behavior(self, origin: str, methods: Sequence[str], cache_policy: str) -> dict[str, Any]:
        return {
            "target_origin_id": origin,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": list(methods),
            "cached_methods": READ_METHODS,
            "cache_policy_id": cache_policy,
            "response_headers_policy_id": self.headers_policy.id,
            "compress": True,
        }


def cdn_log_bucket(
    scope: Construct, context: StackContext, s3_key: KmsKey, access_log_bucket: S3Bucket
) -> SecureBucket:
    """The bucket every distribution of the stack writes standard logs into (through an ACL grant)."""
    return SecureBucket(
        scope,
        "cdn_logs",
        context.lifecycle,
        SecureBucketProps(
            name=context.names.make("s3_bucket", CDN_LOG_BUCKET),
            lifecycle=PCI_LOG_LIFECYCLE,
            kms_key=s3_key,
            access_log_bucket=access_log_bucket,
            object_ownership="BucketOwnerPreferred",
        ),
    )


def standard_logging(bucket: SecureBucket) -> dict[str, Any]:
    return {"bucket": bucket.bucket.bucket_domain_name, "prefix": LOG_PREFIX, "include_cookies": False}


def geo_restriction(blocked_countries: Sequence[str]) -> dict[str, Any]:
    if not blocked_countries:
        return {"geo_restriction": {"restriction_type": "none"}}
    return {"geo_restriction": {"restriction_type": "blacklist", "locations": list(blocked_countries)}}


def security_headers(
    scope: Construct, context: StackContext, purpose: str, config: CdnConfig
) -> CloudfrontResponseHeadersPolicy:
    """HSTS, the Content-Security-Policy and the other security headers, on every response."""
    return CloudfrontResponseHeadersPolicy(
        scope,
        "security_headers",
        name=context.names.make("response_headers_policy", purpose),
        comment="HSTS, CSP and the other security headers on every response",
        security_headers_config={
            "strict_transport_security": {
                "access_control_max_age_sec": config.hsts_max_age_seconds,
                "include_subdomains": True,
                "preload": True,
                "override": True,
            },
            "content_security_policy": {"content_security_policy": config.content_security_policy, "override": True},
            "content_type_options": {"override": True},
            "frame_options": {"frame_option": "DENY", "override": True},
            "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
        },
    )


def origin_access_control(scope: Construct, context: StackContext, purpose: str) -> CloudfrontOriginAccessControl:
    return CloudfrontOriginAccessControl(
        scope,
        f"{purpose}_access",
        name=context.names.make("origin_access_control", purpose),
        description=f"Signed requests from the distribution to the {purpose} bucket",
        origin_access_control_origin_type="s3",
        signing_behavior="always",
        signing_protocol="sigv4",
    )


def grant_distribution_read(bucket: SecureBucket, distribution_arn: str, context: StackContext) -> None:
    """The bucket admits reads signed by this one distribution (origin access control)."""
    bucket.add_policy_statements(
        {
            "Sid": "CloudFrontReadsThroughOriginAccessControl",
            "Effect": "Allow",
            "Principal": {"Service": context.principal("cloudfront")},
            "Action": "s3:GetObject",
            "Resource": f"{bucket.arn}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }
    )
