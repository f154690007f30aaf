"""Checkov over every profile: zero failures beyond the baseline; the baseline only shrinks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.compliance import BaselineEntry, Finding, apply_baseline, gate, load_baseline, parse_checkov
from tests.conftest import PROFILE_NAMES, Synthesized


def test_every_profile_passes_checkov_except_the_baseline(synthesized: Synthesized) -> None:
    files = {str(synthesized.result(name)[0].output_file): name for name in PROFILE_NAMES}
    outcome = gate(files, load_baseline())
    assert outcome.ok, outcome.report()
    assert outcome.passed > 500


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
    assert parse_checkov(report, {"/out/a.json": "web-mysql"}) == ([Finding("CKV_1", "aws_x.y", "web-mysql", "n")], 5)
