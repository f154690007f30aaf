"""The WAF in front of an internet-facing load balancer and of CloudFront (document 002's rules for
the one, 003's for the other, and PCI-DSS 6.4.2 for both).

Rules, in order, every one blocking:
1. blocked countries, when configured;
2. a rate limit per client IP per 5 minutes, on the forwarded IP when behind a CDN;
3. AWS managed groups: IP reputation, anonymous IPs (hosting providers only counted unless
   configured, see `counted_rules`), known bad inputs (Log4j included), common exploits (XSS and
   the OWASP set), SQL injection;
4. the payment paths: only the configured methods, JSON bodies, bodies up to a size.

Blocked requests only are logged, with the Authorization header, cookies and the distribution's
origin header redacted, into destinations whose names start with `aws-waf-logs-` (WAF's
requirement). The regional web ACL logs into an encrypted log group kept the PCI year, which the
saved "WAF blocks by rule and client" query reads (document 002's security analysis), and a
Firehose stream copies its lines into document 002's WAF log bucket (encrypted with the s3 key,
kept the PCI year) under `regional/`. CloudFront's web ACL lives in us-east-1 and logs straight
into that bucket (WAF delivers across regions to S3, under the web ACL's own path).

The rules are written as Terraform JSON (`rule` blocks through an override): the generated
bindings expose the web ACL's statements only as `rule_json`, which Checkov cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktn import TerraformProvider
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kinesis_firehose_delivery_stream import KinesisFirehoseDeliveryStream
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.wafv2_web_acl import Wafv2WebAcl
from cdktn_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktn_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from constructs import Construct

from lib.config import PCI_LOG_LIFECYCLE, WafConfig
from lib.core.bucket import SecureBucket, SecureBucketProps, grant_log_delivery
from lib.core.context import StackContext
from lib.core.log_delivery import ERROR_TYPE, LogDeliveryProps, deliver_logs, unwrap_cloudwatch_envelope
from lib.core.log_group import WAF_LOG_PREFIX, encrypted_log_group
from lib.core.queries import Query, lines

Rule = dict[str, Any]
DATE_PREFIX = "!{timestamp:yyyy/MM/dd}"
MANAGED_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
# The origin header is CloudFront's shared value with the load balancer: never in a log.
ORIGIN_HEADER = "x-origin-verify"
REDACTED_HEADERS = ("authorization", "cookie", ORIGIN_HEADER)


def visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _rule(name: str, priority: int, statement: dict[str, Any]) -> Rule:
    return {
        "name": name,
        "priority": priority,
        "action": {"block": {}},
        "statement": statement,
        "visibility_config": visibility(name),
    }


def _managed(name: str, priority: int, counted: tuple[str, ...] = ()) -> Rule:
    statement: dict[str, Any] = {"name": name, "vendor_name": "AWS"}
    if counted:
        statement["rule_action_override"] = [{"name": rule, "action_to_use": {"count": {}}} for rule in counted]
    return {
        "name": name,
        "priority": priority,
        # "none" keeps each group's own block actions; "count" would only watch.
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": visibility(name),
    }


def _on_payment_paths(config: WafConfig, condition: dict[str, Any]) -> dict[str, Any]:
    # Decoded, normalized and lower-cased first, so /%70ayments, //payments and /Payments match too.
    starts = {
        "byte_match_statement": {
            "search_string": config.payments_path.lower(),
            "positional_constraint": "STARTS_WITH",
            "field_to_match": {"uri_path": {}},
            "text_transformation": [
                {"priority": priority, "type": kind}
                for priority, kind in enumerate(("URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"))
            ],
        }
    }
    return {"and_statement": {"statement": [starts, condition]}}


def _method_is(method: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "search_string": method,
            "positional_constraint": "EXACTLY",
            "field_to_match": {"method": {}},
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }
    }


def counted_rules(config: WafConfig, group: str) -> tuple[str, ...]:
    """Rules of a managed group that only count: hosting providers' addresses unless configured to block.

    Merchants' servers call payment APIs from cloud hosts, so blocking every hosting provider would
    refuse legitimate traffic; anonymizers (Tor, VPNs) in the same group are blocked.
    """
    if group == "AWSManagedRulesAnonymousIpList" and not config.block_hosting_providers:
        return ("HostingProviderIPList",)
    return ()


def rules(config: WafConfig) -> list[Rule]:
    """The web ACL's rules, in evaluation order (see the module docstring)."""
    found: list[Rule] = []
    if config.blocked_countries:
        found.append(
            _rule("blocked-countries", 0, {"geo_match_statement": {"country_codes": list(config.blocked_countries)}})
        )
    rate: dict[str, Any] = {"limit": config.rate_limit, "evaluation_window_sec": 300, "aggregate_key_type": "IP"}
    if config.rate_limit_on_forwarded_ip:
        rate["aggregate_key_type"] = "FORWARDED_IP"
        rate["forwarded_ip_config"] = {"header_name": "X-Forwarded-For", "fallback_behavior": "MATCH"}
    found.append(_rule("rate-limit", 1, {"rate_based_statement": rate}))
    found += [
        _managed(name, 10 + index, counted=counted_rules(config, name)) for index, name in enumerate(MANAGED_GROUPS)
    ]
    methods = [_method_is(method) for method in config.payments_methods]
    allowed = methods[0] if len(methods) == 1 else {"or_statement": {"statement": methods}}
    found.append(_rule("payments-methods", 20, _on_payment_paths(config, {"not_statement": {"statement": allowed}})))
    too_large = {
        "size_constraint_statement": {
            "comparison_operator": "GT",
            "size": config.payments_max_body_bytes,
            "field_to_match": {"body": {"oversize_handling": "MATCH"}},
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }
    }
    found.append(_rule("payments-body-size", 21, _on_payment_paths(config, too_large)))
    json_body = {
        "byte_match_statement": {
            "search_string": "application/json",
            "positional_constraint": "STARTS_WITH",
            "field_to_match": {"single_header": {"name": "content-type"}},
            "text_transformation": [{"priority": 0, "type": "LOWERCASE"}],
        }
    }
    not_json_post = {"and_statement": {"statement": [_method_is("POST"), {"not_statement": {"statement": json_body}}]}}
    found.append(_rule("payments-content-type", 22, _on_payment_paths(config, not_json_post)))
    return found


def waf_log_bucket(
    scope: Construct, context: StackContext, s3_key: KmsKey, access_log_bucket: S3Bucket
) -> SecureBucket:
    """The bucket every web ACL of the stack logs its blocked requests into."""
    names = context.names
    bucket = SecureBucket(
        scope,
        "logs",
        context.lifecycle,
        SecureBucketProps(
            # WAF delivers only into buckets named aws-waf-logs-*.
            name=names.record("s3_bucket", f"{WAF_LOG_PREFIX}{names.prefix}-{names.suffix}"),
            lifecycle=PCI_LOG_LIFECYCLE,
            kms_key=s3_key,
            access_log_bucket=access_log_bucket,
        ),
    )
    grant_log_delivery(bucket, context)
    return bucket


@dataclass(frozen=True, kw_only=True)
class FirewallProps:
    config: WafConfig
    # The regional resource (a load balancer) the web ACL is associated with; None for a web ACL
    # of scope CLOUDFRONT, which the distribution names instead.
    resource_arn: str | None
    # The bucket another web ACL already logs into; None: this one creates it (encrypted with
    # `s3_key`, its access logged into `access_log_bucket`).
    log_bucket: SecureBucket | None = None
    s3_key: KmsKey | None = None
    access_log_bucket: S3Bucket | None = None
    # CloudFront's web ACL is created in us-east-1 through this aliased provider.
    provider: TerraformProvider | None = None
    # The regional web ACL logs into a log group encrypted with it (Logs Insights reads it), and a
    # stream copies the lines into the bucket; None: straight into the bucket (CloudFront's, which
    # lives in us-east-1 and delivers across regions).
    logs_key: KmsKey | None = None


class Firewall(Construct):
    """`web_acl` (associated with the load balancer, or named by the distribution); `log_bucket`."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: FirewallProps) -> None:
        super().__init__(scope, construct_id)
        regional = props.resource_arn is not None
        name = context.names.make("waf", "regional" if regional else "cdn")
        self.web_acl = Wafv2WebAcl(
            self,
            "web_acl",
            provider=props.provider,
            name=name,
            description="TAP firewall: rate limit, AWS managed rules, payment path constraints",
            scope="REGIONAL" if regional else "CLOUDFRONT",
            default_action={"allow": {}},
            visibility_config=visibility(name),
        )
        self.rules = rules(props.config)
        self.web_acl.add_override("rule", self.rules)
        if props.resource_arn is not None:
            Wafv2WebAclAssociation(self, "association", resource_arn=props.resource_arn, web_acl_arn=self.web_acl.arn)
        if props.log_bucket is not None:
            self.log_bucket = props.log_bucket
        elif props.s3_key is not None and props.access_log_bucket is not None:
            self.log_bucket = waf_log_bucket(self, context, props.s3_key, props.access_log_bucket)
        else:
            raise ValueError("a firewall needs a log bucket, or the key and access-log bucket to create one")
        # The regional web ACL's log group (None: it logs straight into the bucket).
        self.log_group: CloudwatchLogGroup | None = None
        self.log_stream: KinesisFirehoseDeliveryStream | None = None
        if props.logs_key is not None and props.s3_key is not None:
            self.log_group = encrypted_log_group(
                self,
                "log_group",
                # WAF delivers only into log groups named aws-waf-logs-*; the account baseline's
                # resource policy admits its delivery to them.
                name=context.names.record("log_group", f"{WAF_LOG_PREFIX}{name}"),
                key=props.logs_key,
            )
            self.log_stream = deliver_logs(
                self,
                context,
                LogDeliveryProps(
                    purpose="waf-logs",
                    description="Firehose copies the regional web ACL's log lines into the WAF log bucket",
                    sources={"web_acl": self.log_group},
                    bucket=self.log_bucket,
                    s3_key=props.s3_key,
                    logs_key=props.logs_key,
                    prefix=f"regional/{DATE_PREFIX}/",
                    error_prefix=f"errors/regional/{ERROR_TYPE}/{DATE_PREFIX}/",
                    processors=unwrap_cloudwatch_envelope(),
                ),
            )
        destination = self.log_group.arn if self.log_group is not None else self.log_bucket.arn
        logging = Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            provider=props.provider,
            resource_arn=self.web_acl.arn,
            log_destination_configs=[destination],
            depends_on=[self.log_bucket.policy_resource],
        )
        logging.add_override(
            "logging_filter",
            {
                "default_behavior": "DROP",
                "filter": [
                    {
                        "behavior": "KEEP",
                        "requirement": "MEETS_ANY",
                        "condition": [{"action_condition": {"action": "BLOCK"}}],
                    }
                ],
            },
        )
        logging.add_override("redacted_fields", [{"single_header": {"name": header}} for header in REDACTED_HEADERS])


def waf_blocks_query(log_group: str) -> Query:
    """002: requests the regional WAF blocked, by the rule that blocked them and the client."""
    return Query(
        title="WAF blocks by rule and client",
        log_groups=[log_group],
        text=lines(
            "fields @timestamp, terminatingRuleId, httpRequest.clientIp, httpRequest.country",
            'filter action = "BLOCK"',
            "stats count(*) as blocked by terminatingRuleId, httpRequest.clientIp",
            "sort blocked desc",
            "limit 50",
        ),
    )
