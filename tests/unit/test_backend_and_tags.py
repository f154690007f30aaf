"""State backend, provider default tags, and the suffix in every name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lib.core.terraform import TARGET_VERSIONS
from lib.profiles import load_config
from lib.synth import synthesize
from tests.conftest import SUFFIX, Document, Synthesized, resources

# Attributes that carry a physical name, per resource type (tags.Name for EC2 resources).
NAME_ATTRIBUTES = {
    "aws_s3_bucket": "bucket",
    "aws_kms_alias": "name",
    "aws_iam_role": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_security_group": "name",
}


def test_local_backend_by_default_with_profile_and_suffix_in_the_file_name(doc: Document, profile: str) -> None:
    assert doc["terraform"]["backend"] == {
        "local": {"path": f"../../../terraform.{SUFFIX}.{profile}.TapStack{SUFFIX}.tfstate"}  # outside cdktf.out
    }


def test_the_json_declares_the_terraform_version_it_needs(doc: Document) -> None:
    """Write-only attributes (secrets kept out of state) need Terraform/OpenTofu 1.11."""
    assert doc["terraform"]["required_version"] == ">= 1.11.0"


def test_s3_backend_with_native_locking_when_a_state_bucket_is_set(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql", TERRAFORM_STATE_BUCKET="tap-tf-states", TERRAFORM_STATE_BUCKET_REGION="eu-west-1")
    assert doc["terraform"]["backend"] == {
        "s3": {
            "bucket": "tap-tf-states",
            "key": f"{SUFFIX}/web-mysql/TapStack{SUFFIX}.tfstate",  # two profiles, one suffix: two states
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }


def test_cdktf_json_declares_the_same_target_versions_and_the_venv_app() -> None:
    config = json.loads((Path(__file__).resolve().parents[2] / "cdktf.json").read_text())
    assert config["targetVersions"] == TARGET_VERSIONS
    assert config["app"] == ".venv/bin/python tap.py"
    assert config["terraformProviders"] == ["hashicorp/aws@~> 6.69"]


def test_aws_provider_pinned_and_region_from_profile(synthesized: Synthesized) -> None:
    doc = synthesized("transactions-pg")
    assert doc["terraform"]["required_providers"]["aws"]["source"] == "hashicorp/aws"
    assert doc["provider"]["aws"][0]["region"] == "ap-southeast-1"
    assert synthesized("transactions-pg", AWS_REGION="eu-central-1")["provider"]["aws"][0]["region"] == "eu-central-1"


def test_default_tags_on_every_resource(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql", REPOSITORY="org/tap", COMMIT_AUTHOR="ana")
    (provider,) = doc["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert tags == {
        "Environment": SUFFIX,
        "Application": "payment-web",
        "Project": "PaymentProcessing",
        "CostCenter": "Finance",
        "Profile": "web-mysql",
        "ManagedBy": "cdktn",
        "Repository": "org/tap",
        "Author": "ana",
    }


def test_every_name_contains_the_suffix(doc: Document) -> None:
    checked = 0
    for kind, items in doc["resource"].items():
        for name, resource in items.items():
            value: Any = (
                resource.get(NAME_ATTRIBUTES[kind]) if kind in NAME_ATTRIBUTES else resource.get("tags", {}).get("Name")
            )
            if value is not None:
                assert SUFFIX in value, f"{kind}.{name}: {value}"
                checked += 1
    assert checked >= 30


def test_every_ec2_resource_has_a_name_tag(doc: Document) -> None:
    for kind in (
        "aws_vpc",
        "aws_subnet",
        "aws_route_table",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_eip",
        "aws_vpc_endpoint",
        "aws_flow_log",
    ):
        for name, resource in resources(doc, kind).items():
            assert resource["tags"]["Name"].endswith(f"-{SUFFIX}"), f"{kind}.{name}"


def test_local_state_survives_the_next_synthesis(tmp_path: Path) -> None:
    """Every synthesis replaces cdktf.out/; state applied from there must not go with it."""
    config = load_config({"TAP_PROFILE": "web-mysql"})
    result = synthesize(config, tmp_path / "project" / "cdktf.out")
    stack_dir = result.output_file.parent
    state = (stack_dir / result.document()["terraform"]["backend"]["local"]["path"]).resolve()
    assert state.parent == (tmp_path / "project").resolve()  # the project root, next to cdktf.out
    state.write_text("{}")
    synthesize(config, tmp_path / "project" / "cdktf.out")
    assert state.read_text() == "{}"
