"""Checkov over every profile: zero failures beyond the baseline; the baseline only shrinks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PROFILE_NAMES, Synthesized
from tools.compliance import (
    DOMAIN_CONFIG,
    WITH_DOMAIN,
    BaselineEntry,
    Finding,
    Scan,
    apply_baseline,
    gate,
    load_baseline,
    parse_checkov,
    scannable,
)


def test_every_profile_passes_checkov_except_the_baseline(synthesized: Synthesized) -> None:
    files = {}
    for name in PROFILE_NAMES:
        result = synthesized.result(name)[0]
        files |= {str(result.output_file): name, str(result.baseline_file): name}
    for name in WITH_DOMAIN:
        result = synthesized.result(name, TAP_CONFIG=str(DOMAIN_CONFIG))[0]
        files |= {str(result.output_file): f"{name}+domain", str(result.baseline_file): f"{name}+domain"}
    outcome = gate(files, load_baseline())
    assert outcome.ok, outcome.report()
    assert outcome.passed > 2000 and outcome.parsing_errors == 0


def test_a_file_checkov_cannot_parse_fails_the_gate(tmp_path: Path) -> None:
    """Checkov reports an unparsable file as zero checks, not as a failure; the gate does not."""
    broken = tmp_path / "cdk.tf.json"
    broken.write_text(json.dumps({"resource": {"aws_s3_bucket": ["not", "a", "block"]}}))
    outcome = gate({str(broken): "full"}, [])
    assert outcome.parsing_errors == 1 and not outcome.ok
    assert "could not parse 1 file" in outcome.report()


def test_the_scanned_copy_keeps_resources_and_drops_only_terraform_settings() -> None:
    document = {
        "terraform": {"required_version": ">= 1.11.0", "backend": {"local": {}}},
        "resource": {"aws_s3_bucket": {"b": {}}},
    }
    assert scannable(document) == {"terraform": {"backend": {"local": {}}}, "resource": {"aws_s3_bucket": {"b": {}}}}


def test_checked_in_baseline_is_well_formed() -> None:
    entries = load_baseline()
    assert entries, "an empty baseline would still be valid; this guards against a missing file"
    assert all(e.check_id.startswith("CKV") and "." in e.resource for e in entries)


FAILURE = Finding("CKV_AWS_145", "aws_s3_bucket.logs", "full")
ENTRY = BaselineEntry("CKV_AWS_145", "aws_s3_bucket.logs", "a reason that is long enough to explain itself")


def test_baselined_failure_is_explained() -> None:
    assert apply_baseline([FAILURE], [ENTRY]) == ([], [])


def test_unlisted_failure_is_reported() -> None:
    other = Finding("CKV_AWS_145", "aws_s3_bucket.assets", "full")
    assert apply_baseline([FAILURE, other], [ENTRY]) == ([other], [])


def test_entry_that_no_longer_fails_is_stale() -> None:
    assert apply_baseline([], [ENTRY]) == ([], [ENTRY])


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"check_id": "CKV_X", "resource": "a.b", "reason": "too short"}], "reason too short"),
        ([ENTRY.__dict__, ENTRY.__dict__], "listed twice"),
    ],
)
def test_invalid_baselines_are_refused(tmp_path: Path, entries: list[dict[str, str]], message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"entries": entries}))
    with pytest.raises(ValueError, match=message):
        load_baseline(path)


def test_checkov_report_is_attributed_to_profiles() -> None:
    report = [
        {
            "summary": {"passed": 3},
            "results": {
                "failed_checks": [
                    {"check_id": "CKV_1", "resource": "aws_x.y", "check_name": "n", "file_abs_path": "/out/a.json"}
                ]
            },
        },
        {"summary": {"passed": 2}, "results": {"failed_checks": []}},
    ]
    assert parse_checkov(report, {"/out/a.json": "web-mysql"}) == Scan(
        [Finding("CKV_1", "aws_x.y", "web-mysql", "n")], passed=5, parsing_errors=0
    )
