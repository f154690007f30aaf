"""TAP's rules in the compliance gate: on every real profile, and under the same baseline as Checkov."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.compliance.rules.documents import stacks
from tests.conftest import PROFILE_NAMES, Document, Synthesized, address_name
from tools import CouldNotRun
from tools.compliance import (
    DOMAIN_CONFIG,
    WITH_DOMAIN,
    BaselineEntry,
    CheckResult,
    Finding,
    Scan,
    judge,
    load_baseline,
)
from tools.rules import RULES, Stacks

NO_CHECKOV = Scan([], passed=0, parsing_errors=0)
REASON = "a reason that is long enough to explain itself to an assessor"
ENTRY_FIELDS = {"check_id": "TAP-WAF-1", "resource": "aws_wafv2_web_acl.acl/rule/rate-limit", "reason": REASON}


@pytest.fixture(scope="module")
def real_runs(synthesized: Synthesized) -> dict[str, Stacks]:
    """Every run the gate assesses: each profile, and the domain runs."""
    runs = {name: Stacks(synthesized(name), synthesized.baseline(name)) for name in PROFILE_NAMES}
    for name in WITH_DOMAIN:
        domain = {"TAP_CONFIG": str(DOMAIN_CONFIG)}
        runs[f"{name}+domain"] = Stacks(synthesized(name, **domain), synthesized.baseline(name, **domain))
    return runs


def rule_entries() -> list[BaselineEntry]:
    return [entry for entry in load_baseline() if entry.check_id in RULES]


def test_every_rule_passes_on_every_profile_or_is_baselined(real_runs: Mapping[str, Stacks]) -> None:
    assessment = judge(NO_CHECKOV, real_runs, rule_entries())
    assert assessment.gate.ok, assessment.report()
    assert all(len(entry.reason) >= 40 for _, entry in assessment.baselined)
    applying = {
        rule_id for outcomes in assessment.outcomes.values() for rule_id, o in outcomes.items() if not o.not_applicable
    }
    assert applying == set(RULES), "a rule that applies to no profile proves nothing about TAP"


def test_passing_rules_yield_a_passed_result_per_evidence_resource(real_runs: Mapping[str, Stacks]) -> None:
    assessment = judge(NO_CHECKOV, {"full": real_runs["full"]}, [])
    trail = address_name(dict(real_runs["full"].baseline), "aws_cloudtrail", "governance_cloudtrail")
    title = RULES["TAP-TRAIL-1"].title
    assert CheckResult("TAP-TRAIL-1", f"aws_cloudtrail.{trail}", "full", "baseline", True, title) in assessment.results
    assert assessment.gate.passed == sum(r.passed for r in assessment.results) > 100


def broken(document: Document, kind: str, path: str, **changes: object) -> Document:
    """A deep copy of `document` with one resource's attributes changed."""
    changed = copy.deepcopy(document)
    changed["resource"][kind][address_name(document, kind, path)].update(changes)
    return changed


def test_a_trail_without_log_file_validation_fails_the_gate(real_runs: Mapping[str, Stacks]) -> None:
    full = real_runs["full"]
    environment = broken(
        dict(full.environment), "aws_cloudtrail", "governance_data_events_trail", enable_log_file_validation=False
    )
    assessment = judge(NO_CHECKOV, {"full": Stacks(environment, full.baseline)}, rule_entries())
    trail = f"aws_cloudtrail.{address_name(environment, 'aws_cloudtrail', 'governance_data_events_trail')}"
    assert not assessment.gate.ok
    assert [(f.check_id, f.resource) for f in assessment.gate.unexplained] == [("TAP-TRAIL-1", trail)]
    assert "enable_log_file_validation" in assessment.report()


def test_a_managed_group_switched_to_count_is_caught(real_runs: Mapping[str, Stacks]) -> None:
    """The web ACLs' hosting-provider override is baselined per rule; a second counting rule fails the gate."""
    full = real_runs["full"]
    environment = copy.deepcopy(dict(full.environment))
    acl = environment["resource"]["aws_wafv2_web_acl"][
        address_name(environment, "aws_wafv2_web_acl", "edge_firewall_web_acl")
    ]
    common = next(rule for rule in acl["rule"] if rule["name"] == "AWSManagedRulesCommonRuleSet")
    common["override_action"] = {"count": {}}
    assessment = judge(NO_CHECKOV, {"full": Stacks(environment, full.baseline)}, load_baseline())
    # The real baseline accepts the anonymous-IP rule only: the counting group fails the gate.
    (unexplained,) = assessment.gate.unexplained
    assert unexplained.check_id == "TAP-WAF-1" and unexplained.resource.endswith("/rule/AWSManagedRulesCommonRuleSet")
    assert not assessment.gate.ok


WAF_ACL = "aws_wafv2_web_acl.acl/rule/rate-limit"


def waf(action: str) -> Stacks:
    rule = {"name": "rate-limit", "action": {action: {}}, "statement": {"rate_based_statement": {}}}
    return stacks({"aws_wafv2_web_acl": {"acl": {"rule": [rule]}}})


def test_a_rule_violation_without_an_entry_is_unexplained() -> None:
    assessment = judge(NO_CHECKOV, {"full": waf("count")}, [])
    finding = Finding("TAP-WAF-1", WAF_ACL, "full", RULES["TAP-WAF-1"].title)
    assert finding in assessment.gate.unexplained and not assessment.gate.ok
    assert CheckResult("TAP-WAF-1", WAF_ACL, "full", "environment", False, finding.check_name) in assessment.results


def test_a_rule_violation_with_an_entry_is_baselined_with_its_reason() -> None:
    entry = BaselineEntry("TAP-WAF-1", WAF_ACL, REASON)
    assessment = judge(NO_CHECKOV, {"full": waf("count"), "full+domain": waf("count")}, [entry])
    assert all(f.check_id != "TAP-WAF-1" for f in assessment.gate.unexplained)
    assert [(f.profile, e) for f, e in assessment.baselined] == [("full", entry), ("full+domain", entry)]


def test_an_entry_for_a_rule_that_now_passes_is_stale() -> None:
    entry = BaselineEntry("TAP-WAF-1", WAF_ACL, REASON)
    assessment = judge(NO_CHECKOV, {"full": waf("block")}, [entry])
    assert assessment.gate.stale == [entry] and not assessment.gate.ok


def test_checkov_failures_and_rule_failures_share_one_baseline() -> None:
    checkov = Finding("CKV_AWS_145", "aws_s3_bucket.logs", "full", "n")
    scan = Scan([checkov], passed=7, parsing_errors=0)
    entries = [BaselineEntry("CKV_AWS_145", "aws_s3_bucket.logs", REASON), BaselineEntry("TAP-WAF-1", WAF_ACL, REASON)]
    assessment = judge(scan, {"full": waf("count")}, entries)
    assert [f.check_id for f, _ in assessment.baselined] == ["CKV_AWS_145", "TAP-WAF-1"]
    # The presence rules fail on a web ACL alone, and TAP-TAG-1 on its stack without a tagged provider.
    assert {f.check_id for f in assessment.gate.unexplained} == {
        "TAP-GD-1",
        "TAP-HUB-1",
        "TAP-S3-2",
        "TAP-TAG-1",
        "TAP-TRAIL-1",
    }


def test_entries_are_not_called_stale_when_only_some_profiles_were_scanned() -> None:
    """`tap check --profile P`: an entry for another profile's resource is not stale."""
    entry = BaselineEntry("TAP-WAF-1", WAF_ACL, REASON)
    partial = judge(NO_CHECKOV, {"full": waf("block")}, [entry], every_run=False)
    assert partial.gate.stale == [] and not partial.gate.stale_checked
    assert partial.gate.report().endswith("stale baseline entries not checked: only some profiles were scanned")
    assert judge(NO_CHECKOV, {"full": waf("block")}, [entry]).gate.stale == [entry]


def test_an_entry_scoped_to_profiles_explains_the_failure_there_only() -> None:
    """002's 30-day flow logs are accepted in secure-platform, not in a full whose config shortened them."""
    entry = BaselineEntry("TAP-WAF-1", WAF_ACL, REASON, profiles=("secure-platform",))
    runs = {label: waf("count") for label in ("secure-platform", "secure-platform+domain", "full")}
    assessment = judge(NO_CHECKOV, runs, [entry])
    assert [f.profile for f in assessment.gate.unexplained if f.check_id == "TAP-WAF-1"] == ["full"]
    assert [f.profile for f, _ in assessment.baselined] == ["secure-platform", "secure-platform+domain"]
    # Scoped to a profile where it no longer fails, the entry is stale.
    assert judge(NO_CHECKOV, {"full": waf("count")}, [entry]).gate.stale == [entry]


def test_an_entry_naming_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"entries": [{**ENTRY_FIELDS, "profiles": ["web-mysq1"]}]}))
    with pytest.raises(CouldNotRun, match="unknown profile web-mysq1"):
        load_baseline(path)


def test_the_real_baseline_scopes_the_flow_log_entries_to_document_002() -> None:
    scoped = {(e.check_id, e.profiles) for e in load_baseline() if e.resource.endswith("flow_log_group_90F0E6FB")}
    assert scoped == {("CKV_AWS_338", ("secure-platform",)), ("TAP-LOG-2", ("secure-platform",))}
