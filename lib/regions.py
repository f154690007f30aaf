"""What TAP knows about AWS partitions and regions, so synthesis never has to ask AWS.

Sources (vendored facts, checked by hand; update here when AWS adds a region):
- Partitions and DNS suffixes: the AWS SDKs' partition metadata (`partitions.json` in botocore).
- Zones: each region's `describe-availability-zones` letters as published in AWS's Regions and
  Availability Zones documentation. In the oldest regions (us-east-1, us-west-1, ap-northeast-1,
  ...) letters are mapped per account, so the defaults below are zones every account has; a
  config file can name others, and validation refuses letters the region does not have at all.
- Powertools layer accounts: Powertools for AWS Lambda (Python) documentation, "Lambda Layer"
  (`docs/getting-started/install.md`, v3.24): one publishing account per partition (two in
  GovCloud), and the regions where the layer is published.
- Load balancer log delivery: Elastic Load Balancing's "Enable access logs for your Application
  Load Balancer" (bucket policy step): regions available before August 2022 deliver as a regional
  ELB account (`ELB_LOG_ACCOUNTS`, the same table as the AWS provider's `aws_elb_service_account`
  and the CDK's region facts); later regions as the `logdelivery.elasticloadbalancing` principal.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMERCIAL_POWERTOOLS_ACCOUNT = "017000801446"
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}


@dataclass(frozen=True, kw_only=True)
class Partition:
    name: str
    dns_suffix: str


PARTITIONS = {
    "aws": Partition(name="aws", dns_suffix="amazonaws.com"),
    "aws-cn": Partition(name="aws-cn", dns_suffix="amazonaws.com.cn"),
    "aws-us-gov": Partition(name="aws-us-gov", dns_suffix="amazonaws.com"),
}


@dataclass(frozen=True, kw_only=True)
class Region:
    """A region TAP can deploy to: its partition, its zone letters and where Powertools comes from."""

    name: str
    partition: Partition
    zones: tuple[str, ...]
    # Zones every account has, used when the configuration names none.
    default_zones: tuple[str, ...]
    # None where AWS publishes no Powertools layer: validation refuses payment functions there.
    powertools_account: str | None

    @property
    def dns_suffix(self) -> str:
        return self.partition.dns_suffix

    def service_host(self, service: str) -> str:
        """A regional service endpoint host, e.g. secretsmanager.cn-north-1.amazonaws.com.cn."""
        return f"{service}.{self.name}.{self.dns_suffix}"

    def service_principal(self, service: str) -> str:
        """A service principal; China uses its own DNS suffix only for a few services (EC2, S3)."""
        china_suffix = self.partition.name == "aws-cn" and service.split(".", maxsplit=1)[0] in ("ec2", "s3")
        return f"{service}.{self.dns_suffix if china_suffix else 'amazonaws.com'}"

    def elb_log_delivery_principal(self) -> dict[str, str]:
        """Who writes this region's load balancer access logs (see the module docstring)."""
        account = ELB_LOG_ACCOUNTS.get(self.name)
        if account is not None:
            return {"AWS": f"arn:{self.partition.name}:iam::{account}:root"}
        return {"Service": self.service_principal("logdelivery.elasticloadbalancing")}

    def endpoint_service_name(self, service: str) -> str:
        """The VPC endpoint service name (China prefixes its interface endpoints with `cn.`)."""
        prefix = "cn." if self.partition.name == "aws-cn" and service not in ("s3", "dynamodb") else ""
        return f"{prefix}com.amazonaws.{self.name}.{service}"


def _region(
    name: str, zones: str, default: str = "abc", powertools: str | None = COMMERCIAL_POWERTOOLS_ACCOUNT
) -> Region:
    partition = "aws-cn" if name.startswith("cn-") else "aws-us-gov" if name.startswith("us-gov-") else "aws"
    return Region(
        name=name,
        partition=PARTITIONS[partition],
        zones=tuple(zones),
        default_zones=tuple(default),
        powertools_account=powertools,
    )


_TABLE = [
    _region("us-east-1", "abcdef"),
    _region("us-east-2", "abc"),
    # Two zones only; which letters an account sees varies, a and c are the common pair.
    _region("us-west-1", "abc", default="ac"),
    _region("us-west-2", "abcd"),
    _region("ca-central-1", "abd", default="abd"),
    _region("ca-west-1", "abc"),
    _region("sa-east-1", "abc"),
    _region("mx-central-1", "abc"),
    _region("eu-west-1", "abc"),
    _region("eu-west-2", "abc"),
    _region("eu-west-3", "abc"),
    _region("eu-central-1", "abc"),
    _region("eu-central-2", "abc"),
    _region("eu-north-1", "abc"),
    _region("eu-south-1", "abc"),
    _region("eu-south-2", "abc"),
    _region("ap-south-1", "abc"),
    _region("ap-south-2", "abc"),
    _region("ap-southeast-1", "abc"),
    _region("ap-southeast-2", "abc"),
    _region("ap-southeast-3", "abc"),
    _region("ap-southeast-4", "abc"),
    _region("ap-southeast-5", "abc"),
    _region("ap-southeast-6", "abc", powertools=None),
    _region("ap-southeast-7", "abc"),
    _region("ap-northeast-1", "acd", default="acd"),
    _region("ap-northeast-2", "abcd"),
    _region("ap-northeast-3", "abc"),
    _region("ap-east-1", "abc"),
    _region("ap-east-2", "abc", powertools=None),
    _region("me-south-1", "abc"),
    _region("me-central-1", "abc"),
    _region("il-central-1", "abc"),
    _region("af-south-1", "abc"),
    _region("cn-north-1", "abd", default="abd", powertools="498634801083"),
    # The layer is published in cn-north-1 only.
    _region("cn-northwest-1", "abc", powertools=None),
    _region("us-gov-east-1", "abc", powertools="165087284144"),
    _region("us-gov-west-1", "abc", powertools="165093116878"),
]
REGIONS: dict[str, Region] = {region.name: region for region in _TABLE}


def region(name: str) -> Region:
    """The region's facts; validation has already refused names not in the table."""
    try:
        return REGIONS[name]
    except KeyError:
        raise KeyError(f"unknown AWS region {name!r}; known: {sorted(REGIONS)}") from None
