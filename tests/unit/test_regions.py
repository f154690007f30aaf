"""Region awareness: partition in every ARN, the partition's DNS suffix, zones and the Powertools account."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lib.regions import REGIONS, region
from tests.conftest import Synthesized, resources


def test_china_uses_its_partition_dns_suffix_endpoints_and_zones(synthesized: Synthesized) -> None:
    doc = synthesized("full", AWS_REGION="cn-north-1")
    text = json.dumps(doc)
    assert set(re.findall(r"arn:aws[a-z-]*:", text)) == {"arn:aws-cn:"}
    assert "secretsmanager.cn-north-1.amazonaws.com.cn" in text  # the rotation function's endpoint
    services = {e["service_name"] for e in resources(doc, "aws_vpc_endpoint").values()}
    assert "cn.com.amazonaws.cn-north-1.sqs" in services and "com.amazonaws.cn-north-1.s3" in services
    roles = resources(doc, "aws_iam_role")
    trust = json.loads(roles["foundation_storage_app_logs_replication_role"]["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com.cn"}
    assert {s["availability_zone"] for s in resources(doc, "aws_subnet").values()} == {
        "cn-north-1a",
        "cn-north-1b",
        "cn-north-1d",
    }


def test_unsigned_functions_in_china_use_aws_layer_from_the_partitions_account(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    config = tmp_path / "unsigned.toml"
    config.write_text("[lambdas]\ncode_signing = false\n")
    doc = synthesized("web-mysql", AWS_REGION="cn-north-1", TAP_CONFIG=str(config))
    layers = {f["layers"][0] for f in resources(doc, "aws_lambda_function").values()}
    assert {layer.split(":layer:")[0] for layer in layers} == {"arn:aws-cn:lambda:cn-north-1:498634801083"}


def test_govcloud_and_commercial_layer_accounts() -> None:
    assert region("us-gov-west-1").powertools_account == "165093116878"
    assert region("us-gov-west-1").partition.name == "aws-us-gov"
    assert region("eu-west-1").powertools_account == "017000801446"


@pytest.mark.parametrize(("name", "zones"), [("us-west-1", ("a", "c")), ("ca-central-1", ("a", "b", "d"))])
def test_default_zones_are_ones_the_region_has(name: str, zones: tuple[str, ...]) -> None:
    assert region(name).default_zones == zones


def test_every_region_defaults_to_zones_it_has() -> None:
    for known in REGIONS.values():
        assert len(known.default_zones) >= 2 and set(known.default_zones) <= set(known.zones), known.name
