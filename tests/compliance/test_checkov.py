"""Checkov and TAP's rules over every profile: zero failures beyond the baseline; the baseline only shrinks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PROFILE_NAMES, Synthesized
from tools import CouldNotRun
from tools.compliance import (
    DOMAIN_CONFIG,
    WITH_DOMAIN,
    BaselineEntry,
    CheckResult,
    Finding,
    GateResult,
    Scan,
    ScannedFile,
    SynthesizedRun,
    apply_baseline,
    assess,
    default_runs,
    load_baseline,
    parse_checkov,
    run_checkov,
    scannable,
)
from tools.rules import RULES


def test_every_profile_passes_checkov_and_the_rules_except_the_baseline(synthesized: Synthesized) -> None:
    runs = []
    for name in PROFILE_NAMES:
        result = synthesized.result(name)[0]
        runs.append(SynthesizedRun(name, result.output_file, result.baseline_file))
    for name in WITH_DOMAIN:
        result = synthesized.result(name, TAP_CONFIG=str(DOMAIN_CONFIG))[0]
        runs.append(SynthesizedRun(f"{name}+domain", result.output_file, result.baseline_file))
    assert sorted(run.label for run in runs) == sorted(label for label, _ in default_runs())
    steps: list[str] = []
    assessment = assess(runs, load_baseline(), steps.append)
    assert assessment.gate.ok, assessment.report()
    assert assessment.gate.passed > 2000 and assessment.gate.parsing_errors == 0
    assert [step.split(":")[0] for step in steps] == ["checkov", "TAP rules"]
    # Every per-resource result is kept, of both stacks of every run, passed and failed, Checkov's and the rules'.
    results = assessment.results
    assert {(r.profile, r.stack) for r in results} == {
        (run.label, s) for run in runs for s in ("environment", "baseline")
    }
    assert {r.passed for r in results if r.check_id.startswith("CKV")} == {True, False}
    assert {r.check_id for r in results} >= set(RULES)
    assert set(assessment.outcomes) == {run.label for run in runs}
    failed = {(r.check_id, r.resource, r.profile) for r in results if not r.passed}
    assert assessment.baselined and all((f.check_id, f.resource, f.profile) in failed for f, _ in assessment.baselined)


def test_a_file_checkov_cannot_parse_fails_the_gate(tmp_path: Path) -> None:
    """Checkov reports an unparsable file as zero checks, not as a failure; the gate does not."""
    broken = tmp_path / "cdk.tf.json"
    broken.write_text(json.dumps({"resource": {"aws_s3_bucket": ["not", "a", "block"]}}))
    scan = run_checkov({str(broken): ScannedFile("full", "environment")})
    outcome = GateResult([], [], scan.passed, scan.parsing_errors)
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
    assert all((e.check_id.startswith("CKV") or e.check_id in RULES) and "." in e.resource for e in entries)


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
    with pytest.raises(CouldNotRun, match=message):
        load_baseline(path)


def test_checkov_report_is_attributed_to_runs_and_stacks() -> None:
    def check(check_id: str, file: str) -> dict[str, str]:
        return {"check_id": check_id, "resource": "aws_x.y", "check_name": "n", "file_abs_path": file}

    report = [
        {
            "summary": {"passed": 3},
            "results": {
                "passed_checks": [check("CKV_2", "/out/b.json")],
                "failed_checks": [check("CKV_1", "/out/a.json")],
            },
        },
        {"summary": {"passed": 2}, "results": {"failed_checks": []}},
    ]
    files = {
        "/out/a.json": ScannedFile("web-mysql", "environment"),
        "/out/b.json": ScannedFile("web-mysql", "baseline"),
    }
    assert parse_checkov(report, files) == Scan(
        [Finding("CKV_1", "aws_x.y", "web-mysql", "n")],
        passed=5,
        parsing_errors=0,
        results=[
            CheckResult("CKV_1", "aws_x.y", "web-mysql", "environment", False, "n"),
            CheckResult("CKV_2", "aws_x.y", "web-mysql", "baseline", True, "n"),
        ],
    )
