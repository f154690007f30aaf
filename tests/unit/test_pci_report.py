"""The PCI DSS v4.0 evidence report (`tools/pci_report.py`): its mapping data, its content for a
real profile, a control flipped in a test-only copy turning its rows red (and `tap check` to 1),
and the HTML as headless Chromium renders it.

Checkov runs once for the module: `full`, `web-mysql`, and a broken copy of `full`.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from lib.profiles import load_config
from tests.conftest import SUFFIX, Synthesized, resources
from tools import cli, compliance, pci_report
from tools.compliance import Assessment, SynthesizedRun
from tools.pci_report import AWS, BASELINED, COMMUNITY, FAIL, NOT_APPLICABLE, PASS, Report
from tools.rules import RULES

BROKEN = "full+broken"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def broken_copy(environment: dict[str, Any], baseline: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`full` with two controls flipped: the trail's log-file validation off, one WAF rule counting."""
    environment, baseline = copy.deepcopy(environment), copy.deepcopy(baseline)
    flipped = 0
    for document in (environment, baseline):
        for trail in resources(document, "aws_cloudtrail").values():
            trail["enable_log_file_validation"] = False
            flipped += 1
        for acl in resources(document, "aws_wafv2_web_acl").values():
            rule = next(r for r in acl["rule"] if "override_action" in r)
            rule["override_action"] = {"count": {}}
            flipped += 1
            break
    assert flipped >= 2, "full has a trail and a web ACL"
    return environment, baseline


@pytest.fixture(scope="module")
def assessed(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Assessment, dict[str, SynthesizedRun]]:
    runs = {}
    for profile in ("full", "web-mysql"):
        result = synthesized.result(profile)[0]
        runs[profile] = SynthesizedRun(profile, result.output_file, result.baseline_file)
    root = tmp_path_factory.mktemp("broken")
    environment, baseline = broken_copy(synthesized("full"), synthesized.baseline("full"))
    (root / "environment.json").write_text(json.dumps(environment))
    (root / "baseline.json").write_text(json.dumps(baseline))
    runs[BROKEN] = SynthesizedRun(BROKEN, root / "environment.json", root / "baseline.json")
    return compliance.assess(list(runs.values()), compliance.load_baseline()), runs


def report_of(assessed: tuple[Assessment, dict[str, SynthesizedRun]], label: str) -> Report:
    assessment, runs = assessed
    run = runs[label]
    documents = {
        "environment": json.loads(run.environment_file.read_text()),
        "baseline": json.loads(run.baseline_file.read_text()),
    }
    config = load_config({"TAP_PROFILE": label.split("+", maxsplit=1)[0], "ENVIRONMENT_SUFFIX": SUFFIX})
    return pci_report.build_report(config, label, assessment, documents)


# The mapping data


def test_every_mapped_requirement_of_the_families_has_a_row_with_a_paraphrase_and_a_verification() -> None:
    families, requirements = pci_report.load_requirements()
    mapped = {m.requirement for m in (*pci_report.checkov_mappings(), *pci_report.rule_mappings())}
    in_families = {pci_report.row_id(r) for r in mapped if pci_report.family_of(r, families)}
    assert sorted(in_families - requirements.keys()) == []
    assert all(r.title and r.verify for r in requirements.values())
    assert [f.id for f in families] == ["1", "3", "4", "6", "7-8", "10", "11", "12"]
    assert {r.family for r in requirements.values()} == {f.id for f in families}


def test_a_requirement_outside_every_family_is_refused(tmp_path: Path) -> None:
    data = tomllib.loads(pci_report.REQUIREMENTS_FILE.read_text())
    data["requirement"]["2.2.1"] = {"title": "Configuration standards", "verify": "Standards exist."}
    broken = tmp_path / "requirements.toml"
    lines = [
        f'[[family]]\nid = "{f["id"]}"\ntitle = "{f["title"]}"\nprefixes = {json.dumps(f["prefixes"])}\n'
        for f in data["family"]
    ]
    lines += [
        f'[requirement."{k}"]\ntitle = "{v["title"]}"\nverify = "{v["verify"]}"\n'
        for k, v in data["requirement"].items()
    ]
    broken.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"requirement 2\.2\.1 is in no family"):
        pci_report.load_requirements(broken)


def test_aws_published_and_community_mappings_are_kept_apart() -> None:
    mappings = {(m.check_id, m.requirement): m for m in pci_report.checkov_mappings()}
    # CKV_AWS_36 (log-file validation): Security Hub maps it to 10.3.2; only the community to 10.3.4.
    assert mappings[("CKV_AWS_36", "10.3.2")].source == AWS
    assert mappings[("CKV_AWS_36", "10.3.4")].source == COMMUNITY
    assert "cdk-nag PR #2166" in mappings[("CKV_AWS_36", "10.3.4")].basis
    # The same id published and community-mapped counts once, as published.
    assert mappings[("CKV_AWS_7", "3.7.4")].source == AWS and ("CKV_AWS_7", "3.6.1") in mappings
    rules = pci_report.rule_mappings()
    assert {m.check_id for m in rules} == set(RULES)
    assert all(m.source in (AWS, pci_report.JUDGEMENT) for m in rules)


def test_attribute_values_are_read_back_at_checkovs_key_paths() -> None:
    document = {"resource": {"aws_kms_key": {"k": {"enable_key_rotation": True, "x": [{"y": {"z": 365}}]}}}}
    assert pci_report.attribute_value(document, "aws_kms_key.k", "enable_key_rotation") == "true"
    assert pci_report.attribute_value(document, "aws_kms_key.k", "x/[0]/y/z") == "365"
    assert pci_report.attribute_value(document, "aws_kms_key.k", "x/[3]/y") is None
    assert pci_report.attribute_value(document, "aws_kms_key.missing", "x") is None


# The report of a real profile


def test_the_report_for_full_covers_every_family_and_no_row_is_empty(
    assessed: tuple[Assessment, dict[str, SynthesizedRun]],
) -> None:
    report = report_of(assessed, "full")
    assert [f["id"] for f in report.families] == ["1", "3", "4", "6", "7-8", "10", "11", "12"]
    for family in report.families:
        assert family[PASS] + family[BASELINED] >= 1, f"family {family['id']} has no evidenced requirement"
        assert family[FAIL] == 0, family
    for row in report.rows:
        if row.status == NOT_APPLICABLE:
            assert row.not_applicable, row.id
        else:
            assert row.checks and row.evidence, row.id
            # Terraform addresses (Checkov's `resource.<name>` resolved), or a provider's default tags.
            assert all(e.resource.startswith(("aws_", "provider.aws")) for e in row.evidence), row.id
    # TAP's rules evidence attribute values, e.g. the trail's multi-region setting.
    trail_rows = [row for row in report.rows if row.id == "10.2.1"]
    assert any(e.check_id.startswith("TAP-") and e.value for row in trail_rows for e in row.evidence)


def test_a_flipped_control_turns_its_rows_red(assessed: tuple[Assessment, dict[str, SynthesizedRun]]) -> None:
    good, broken = report_of(assessed, "full"), report_of(assessed, BROKEN)
    red = {row.id for row in broken.rows if row.status == FAIL}
    assert {"10.3.2", "6.4.2"} <= red  # log-file validation (CKV_AWS_36, Security Hub) and the counting WAF rule
    assert not {row.id for row in good.rows if row.status == FAIL}
    failing = {check.check_id for row in broken.rows for check in row.checks if check.status == FAIL}
    assert "CKV_AWS_36" in failing and any(check.startswith("TAP-") for check in failing)


def test_tap_check_exits_1_on_the_flipped_control(
    assessed: tuple[Assessment, dict[str, SynthesizedRun]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command end to end (Checkov and the rules run), on the broken copy instead of a synthesis."""
    _, runs = assessed
    monkeypatch.setattr(compliance, "synthesize_runs", lambda *_: [runs[BROKEN]])
    assert cli.main(["check", "--profile", "full"]) == cli.FINDINGS == 1
    printed = capsys.readouterr().out
    assert re.search(r"^FAILED CKV_AWS_36: .*\n    \S*cloudtrail\S* \[full\+broken\]$", printed, re.MULTILINE)
    assert re.search(r"^FAILED TAP-WAF-1: .*\n    \S+/rule/\S+ \[full\+broken\]$", printed, re.MULTILINE)
    # Only some profiles were scanned: entries for the others are not called stale.
    assert "STALE" not in printed and "stale baseline entries not checked: only some profiles were scanned" in printed
    assert "TAP rule failures:" in printed and "only counts requests" in printed  # what each rule failure means


# The files


def test_json_and_html_carry_every_row_and_the_html_is_self_contained(
    assessed: tuple[Assessment, dict[str, SynthesizedRun]],
) -> None:
    report = report_of(assessed, "full")
    data = pci_report.report_json(report)
    assert data["standard"] == "PCI DSS v4.0" and len(data["rows"]) == len(report.rows)
    page = pci_report.render_html(report)
    assert page.count('<tr class="req ') == len(report.rows)
    assert not re.search(r"<script|<link|<img|@import|url\(|(?:src|href)=\"(?!#)", page)


def test_hostile_text_is_escaped() -> None:
    report = Report("p<b>", "d&", "s", "b", "r", [], [], {"x": "<script>alert(1)</script>"})
    page = pci_report.render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page and "p&lt;b&gt;" in page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/ensure-test-servers.sh installs it)")
def test_the_html_renders_in_headless_chromium_with_every_row(
    assessed: tuple[Assessment, dict[str, SynthesizedRun]], tmp_path: Path
) -> None:
    report = report_of(assessed, BROKEN)
    page = tmp_path / "pci-dss-v4.html"
    page.write_text(pci_report.render_html(report))
    browser = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert len(re.findall(r'<tr class="req ', dom)) == len(report.rows)
    assert len(re.findall(r'<tr class="req fail"', dom)) == sum(row.status == FAIL for row in report.rows) >= 2
    screenshot = tmp_path / "pci-dss-v4.png"
    subprocess.run(
        [*browser, f"--screenshot={screenshot}", "--window-size=1400,2200", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and int.from_bytes(png[16:20], "big") == 1400


def test_write_reports_writes_each_profile_and_an_index(
    assessed: tuple[Assessment, dict[str, SynthesizedRun]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assessment, _ = assessed
    monkeypatch.setattr(pci_report, "assess", lambda *_, **__: assessment)
    configs = [load_config({"TAP_PROFILE": p, "ENVIRONMENT_SUFFIX": SUFFIX}) for p in ("full", "web-mysql")]
    lines: list[str] = []
    written = pci_report.write_reports(configs, tmp_path, lines.append, index=True)
    stack = tmp_path / f"TapStack{SUFFIX}"
    assert sorted(p.relative_to(stack).as_posix() for p in written) == [
        "full/pci-dss-v4.html",
        "full/pci-dss-v4.json",
        "index.html",
        "web-mysql/pci-dss-v4.html",
        "web-mysql/pci-dss-v4.json",
    ]
    index = (stack / "index.html").read_text()
    assert 'href="full/pci-dss-v4.html"' in index and 'href="web-mysql/pci-dss-v4.html"' in index
    assert any(line.startswith("synthesized full in ") for line in lines)
    single = pci_report.write_reports(configs[1:], tmp_path / "one", lines.append, index=False)
    assert [p.relative_to(tmp_path / "one").as_posix() for p in single] == [
        f"TapStack{SUFFIX}/pci-dss-v4.html",
        f"TapStack{SUFFIX}/pci-dss-v4.json",
    ]
