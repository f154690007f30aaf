"""The account baseline stack: account singletons, the same whatever profile synthesizes it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import PROFILE_NAMES, Synthesized, ref, resources

REGION = "us-east-1"


def test_the_baseline_is_the_same_from_every_profile(synthesized: Synthesized) -> None:
    """Applying it from any profile's checkout must plan no change to what another profile applied."""
    documents = {profile: synthesized.baseline(profile, AWS_REGION=REGION) for profile in PROFILE_NAMES}
    canonical = {profile: json.dumps(document, sort_keys=True) for profile, document in documents.items()}
    assert len(set(canonical.values())) == 1, sorted(canonical)


def test_the_comparison_sees_a_changed_baseline(synthesized: Synthesized, tmp_path: Path) -> None:
    """The check above can fail: a baseline configured differently does not compare equal."""
    config = tmp_path / "account.toml"
    config.write_text("[baseline]\nxray_encryption = false\n")
    changed = synthesized.baseline("full", AWS_REGION=REGION, TAP_CONFIG=str(config))
    assert json.dumps(changed, sort_keys=True) != json.dumps(
        synthesized.baseline("full", AWS_REGION=REGION), sort_keys=True
    )
    assert resources(changed, "aws_xray_encryption_config") == {}


def test_xray_traces_are_encrypted_with_a_protected_rotating_key(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")  # a destroyable environment; the baseline stays protected
    (encryption,) = resources(baseline, "aws_xray_encryption_config").values()
    assert encryption["type"] == "KMS" and encryption["key_id"] == ref(baseline, "aws_kms_key", "traces_key", "arn")
    keys = resources(baseline, "aws_kms_key")
    key = keys["traces_key"]
    # Every baseline key is rotated and keeps the protected 30-day window.
    assert {(k["enable_key_rotation"], k["deletion_window_in_days"]) for k in keys.values()} == {(True, 30)}
    assert resources(baseline, "aws_kms_alias")["traces_key_alias"]["name"] == f"alias/tap-baseline-traces-{REGION}"
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    via = statements["UseOnlyThroughItsServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == f"xray.{REGION}.amazonaws.com"


def test_the_baseline_has_its_own_state_per_region(synthesized: Synthesized) -> None:
    local = synthesized.baseline("full")["terraform"]["backend"]
    assert local == {"local": {"path": f"../../../terraform.baseline.{REGION}.TapBaseline-{REGION}.tfstate"}}
    s3 = synthesized.baseline("web-mysql", TERRAFORM_STATE_BUCKET="tap-tf-states")["terraform"]["backend"]["s3"]
    assert s3["key"] == f"baseline/{REGION}/TapBaseline-{REGION}.tfstate"
    assert synthesized.baseline("full")["terraform"]["required_version"] == ">= 1.11.0"


def test_the_baseline_is_tagged_without_profile_environment_or_author(synthesized: Synthesized) -> None:
    """Whoever synthesizes it, from whichever checkout, plans the same baseline."""
    (provider,) = synthesized.baseline("web-mysql", REPOSITORY="org/tap", COMMIT_AUTHOR="ana")["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert tags["Scope"] == "account-baseline"
    assert not {"Profile", "Environment", "Repository", "Author"} & set(tags)
