"""Resource names and AWS's rules for them.

Layers ask `Names` for every physical name, which records it. Before anything is written, the
recorded names are checked against the rule of their resource type, so a long prefix or suffix
fails at synth with every offending name listed, rather than at apply time one resource at a time.

Every physical name holds the profile's prefix (unique per profile, see `profiles.py`) and the
environment suffix, so two profiles deployed with one suffix never share a name
(`tests/unit/test_collisions.py`). A name a source document fixes keeps its form only where it
cannot collide: 004's `transactions-<suffix>` table (no other profile drops its prefix there)
and its `payment-validation-<suffix>` style function names (the prefix is not doubled).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lib.errors import Violation

# The one suffix limit for every profile: with the longest prefix, every generated name fits
# its type's rule (`test_every_profile_synthesizes_with_the_longest_suffix`).
MAX_SUFFIX_LENGTH = 12
NameRule = Callable[[str], str | None]
# What an account id looks like when a name holding one is checked (the id is a token at synth).
ACCOUNT_STAND_IN = "123456789012"


def _pattern_rule(pattern: str, max_len: int, description: str, min_len: int = 1) -> NameRule:
    compiled = re.compile(pattern)

    def check(name: str) -> str | None:
        if not min_len <= len(name) <= max_len:
            return f"{description}; {min_len}-{max_len} characters, got {len(name)}"
        if not compiled.fullmatch(name):
            return description
        return None

    return check


def s3_bucket_rule(name: str) -> str | None:
    """S3 general purpose bucket naming rules."""
    rule = "S3 bucket names are 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if not 3 <= len(name) <= 63:
        return f"{rule}; got {len(name)} characters"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return rule
    if ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return f"{rule}; no adjacent dots or IP-address form"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        return f"{rule}; reserved prefix or suffix"
    return None


def load_balancer_rule(name: str) -> str | None:
    """ALB / NLB / target group names: 32 characters, alphanumerics and inner hyphens."""
    base = _pattern_rule(
        r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?",
        32,
        "load balancer and target group names are at most 32 letters, digits and hyphens, not starting or ending with a hyphen",
    )(name)
    if base is None and name.startswith("internal-"):
        return "load balancer names must not start with 'internal-'"
    return base


def rds_identifier_rule(name: str) -> str | None:
    """RDS cluster / instance / subnet- and parameter-group identifiers."""
    base = _pattern_rule(
        r"[a-z][a-z0-9-]*",
        63,
        "RDS identifiers are at most 63 lowercase letters, digits and hyphens, starting with a letter",
    )(name)
    if base is None and ("--" in name or name.endswith("-")):
        return "RDS identifiers must not contain two consecutive hyphens or end with a hyphen"
    return base


def kms_alias_rule(name: str) -> str | None:
    if name.startswith("alias/aws/"):
        return "KMS alias names must not start with 'alias/aws/' (reserved for AWS managed keys)"
    return _pattern_rule(
        r"alias/[A-Za-z0-9/_-]+", 256, "KMS alias names are 'alias/' followed by letters, digits, '/', '_' and '-'"
    )(name)


NAME_RULES: dict[str, NameRule] = {
    "s3_bucket": s3_bucket_rule,
    "load_balancer": load_balancer_rule,
    "target_group": load_balancer_rule,
    "rds_identifier": rds_identifier_rule,
    "kms_alias": kms_alias_rule,
    "iam_role": _pattern_rule(
        r"[\w+=,.@-]+", 64, "IAM role names are at most 64 characters of letters, digits and +=,.@_-"
    ),
    "iam_policy": _pattern_rule(
        r"[\w+=,.@-]+", 128, "IAM policy names are at most 128 characters of letters, digits and +=,.@_-"
    ),
    "log_group": _pattern_rule(
        r"[.\-_/#A-Za-z0-9]+", 512, "log group names are at most 512 characters of letters, digits and ._-/#"
    ),
    "security_group": _pattern_rule(
        r"(?!sg-)[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+",
        255,
        "security group names are at most 255 ASCII characters, not starting with 'sg-'",
    ),
    "vpc_resource": _pattern_rule(r".+", 255, "EC2 Name tags are at most 255 characters"),
    "secret": _pattern_rule(
        r"[A-Za-z0-9/_+=.@-]+", 512, "Secrets Manager names are at most 512 characters of letters, digits and /_+=.@-"
    ),
    "lambda_function": _pattern_rule(
        r"[A-Za-z0-9_-]+", 64, "Lambda function names are at most 64 letters, digits, hyphens and underscores"
    ),
    "elasticache_id": _pattern_rule(
        r"[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]",
        40,
        "ElastiCache ids are at most 40 lowercase letters, digits and single hyphens, starting with a letter",
    ),
    "dynamodb_table": _pattern_rule(
        r"[A-Za-z0-9_.-]+", 255, "DynamoDB table names are 3-255 letters, digits and _.-", min_len=3
    ),
    "sqs_queue": _pattern_rule(
        r"[A-Za-z0-9_-]+", 80, "SQS queue names are at most 80 letters, digits, hyphens and underscores"
    ),
    "sns_topic": _pattern_rule(
        r"[A-Za-z0-9_-]+", 256, "SNS topic names are at most 256 letters, digits, hyphens and underscores"
    ),
    "event_bus": _pattern_rule(
        r"[/.\-_A-Za-z0-9]+", 256, "EventBridge bus names are at most 256 characters of letters, digits and /._-"
    ),
    "event_rule": _pattern_rule(
        r"[.\-_A-Za-z0-9]+", 64, "EventBridge rule names are at most 64 characters of letters, digits and ._-"
    ),
    "http_api": _pattern_rule(r".+", 128, "API Gateway API names are at most 128 characters"),
    "launch_template": _pattern_rule(
        r"[A-Za-z0-9().\-/_]+", 128, "launch template names are 3-128 letters, digits and ().-/_", min_len=3
    ),
    "autoscaling_group": _pattern_rule(r"[^:]+", 255, "Auto Scaling group names are at most 255 characters, no ':'"),
    "instance_profile": _pattern_rule(
        r"[\w+=,.@-]+", 128, "instance profile names are at most 128 characters of letters, digits and +=,.@_-"
    ),
    "alarm": _pattern_rule(r"[^\x00-\x1f]+", 255, "CloudWatch alarm names are at most 255 printable characters"),
    "waf": _pattern_rule(r"[\w-]+", 128, "WAF web ACL names are at most 128 letters, digits, hyphens and underscores"),
    "vpc_link": _pattern_rule(r".+", 128, "VPC link names are at most 128 characters"),
    # CloudFront policy and origin access control names share one rule.
    "cache_policy": _pattern_rule(r"[\w-]+", 128, "CloudFront policy names are at most 128 letters, digits, - and _"),
    "response_headers_policy": _pattern_rule(
        r"[\w-]+", 128, "CloudFront policy names are at most 128 letters, digits, - and _"
    ),
    "origin_access_control": _pattern_rule(r".+", 64, "origin access control names are at most 64 characters"),
    "key_signing_key": _pattern_rule(
        r"\w{3,}", 128, "DNSSEC key-signing key names are 3-128 letters, digits and underscores"
    ),
    "health_check": _pattern_rule(r".+", 255, "Route 53 health check Name tags are at most 255 characters"),
    "firehose": _pattern_rule(r"[\w.-]+", 64, "Firehose stream names are at most 64 letters, digits and _.-"),
    "log_resource_policy": _pattern_rule(r"\S+", 255, "log resource policy names are at most 255 characters"),
    "trail": _pattern_rule(
        r"[A-Za-z0-9][\w.-]*[A-Za-z0-9]", 128, "CloudTrail trail names are 3-128 letters, digits and _.-", min_len=3
    ),
    "config_recorder": _pattern_rule(r"\S+", 256, "AWS Config recorder and channel names are at most 256 characters"),
    "config_rule": _pattern_rule(r"[\w.-]+", 128, "AWS Config rule names are at most 128 letters, digits and _.-"),
    "access_analyzer": _pattern_rule(
        r"[A-Za-z][\w.-]*", 255, "Access Analyzer names are at most 255 letters, digits and _.-, starting with a letter"
    ),
    "query_definition": _pattern_rule(
        r"[^\x00-\x1f]+", 255, "Logs Insights query names are at most 255 printable characters"
    ),
    "metric_filter": _pattern_rule(r"[^:*]+", 512, "metric filter names are at most 512 characters, no ':' or '*'"),
    "backup_vault": _pattern_rule(
        r"[A-Za-z0-9_-]+", 50, "AWS Backup vault names are 2-50 letters, digits, hyphens and underscores", min_len=2
    ),
    # Plans and selections share one rule.
    "backup_plan": _pattern_rule(
        r"[A-Za-z0-9_.-]+", 50, "AWS Backup plan and selection names are 1-50 letters, digits and _.-"
    ),
    # AWS Signer profile names are letters, digits and underscores; TAP gives a prefix of at most
    # 38 (Terraform appends 26 characters to make the name unique).
    "signing_profile": _pattern_rule(
        r"[A-Za-z0-9_]+", 38, "AWS Signer profile name prefixes are at most 38 letters, digits and underscores"
    ),
    "lambda_layer": _pattern_rule(
        r"[A-Za-z0-9_-]+", 140, "Lambda layer names are at most 140 letters, digits, hyphens and underscores"
    ),
    "dashboard": _pattern_rule(
        r"[A-Za-z0-9_-]+", 255, "CloudWatch dashboard names are at most 255 letters, digits, hyphens and underscores"
    ),
    "ssm_parameter": _pattern_rule(
        r"/[A-Za-z0-9_.\-/]+", 1011, "SSM parameter names are paths of letters, digits and _.-/"
    ),
}


@dataclass
class Names:
    """Builds `<prefix>-<parts>-<suffix>` names and records each with its type for checking."""

    prefix: str
    suffix: str
    recorded: list[tuple[str, str]] = field(default_factory=list)

    def make(self, kind: str, *parts: str) -> str:
        """`<prefix>-<parts>-<suffix>`; a first part that already starts with the prefix is not prefixed again."""
        head = [] if parts and (parts[0] == self.prefix or parts[0].startswith(f"{self.prefix}-")) else [self.prefix]
        return self.record(kind, "-".join([*head, *parts, self.suffix]))

    def make_in_account(self, kind: str, *parts: str, account_id: str) -> str:
        """`<prefix>-<parts>-<account>-<suffix>`: for names unique across all of AWS (the account
        baseline's buckets). Checked with a 12-digit stand-in, since the account id is a token."""
        checked = self.make(kind, *parts, ACCOUNT_STAND_IN)
        return checked.replace(f"-{ACCOUNT_STAND_IN}-", f"-{account_id}-")

    def alias(self, purpose: str) -> str:
        """A KMS alias: `alias/<prefix>-<purpose>-<suffix>`."""
        return self.record("kms_alias", f"alias/{self.prefix}-{purpose}-{self.suffix}")

    def path(self, kind: str, *parts: str, root: str | None = None) -> str:
        """A path-style name, `/<root or prefix>/<suffix>/<parts>` (log groups, secrets, parameters)."""
        return self.record(kind, "/".join(["", root or self.prefix, self.suffix, *parts]))

    def record(self, kind: str, name: str) -> str:
        if kind not in NAME_RULES:
            raise KeyError(f"no naming rule for resource type {kind!r}; known: {sorted(NAME_RULES)}")
        self.recorded.append((kind, name))
        return name

    def violations(self) -> list[Violation]:
        """Broken names; one that only breaks because of the suffix is reported against the suffix."""
        found: list[Violation] = []
        too_long_for: list[str] = []
        for kind, name in self.recorded:
            problem = NAME_RULES[kind](name)
            if problem is None:
                continue
            shortened = name.replace(self.suffix, "x", 1) if self.suffix else name
            if self.suffix and self.suffix in name and NAME_RULES[kind](shortened) is None:
                too_long_for.append(f"{kind} {name}")
            else:
                found.append(Violation(f"{kind} name", name, problem, rule_id="name.rule"))
        if too_long_for:
            found.insert(
                0,
                Violation(
                    "ENVIRONMENT_SUFFIX",
                    self.suffix,
                    f"too long for generated names ({', '.join(too_long_for)}); "
                    f"use at most {MAX_SUFFIX_LENGTH} characters",
                    rule_id="name.suffix_length",
                ),
            )
        return found
