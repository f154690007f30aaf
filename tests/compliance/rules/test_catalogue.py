"""The rule catalogue: stable ids, one module per rule, requirement ids kept apart by source."""

from __future__ import annotations

import json
import pkgutil
import re
from pathlib import Path

import tools.rules
from tools.rules import RULES, Stacks, evaluate

MAPPING = Path(__file__).resolve().parents[3] / "compliance" / "pci" / "config_rules_pci40.json"
REQUIREMENT = re.compile(r"^(A\d|\d{1,2})(\.\d+){1,3}$")


def test_every_module_is_one_rule_and_rules_are_in_id_order() -> None:
    modules = [m.name for m in pkgutil.iter_modules(tools.rules.__path__) if not m.name.startswith("_")]
    assert len(RULES) == len(modules) >= 10
    assert list(RULES) == sorted(RULES)
    assert all(re.fullmatch(r"TAP-[A-Z0-9]+-\d+", rule_id) and RULES[rule_id].id == rule_id for rule_id in RULES)


def test_aws_sourced_requirements_are_what_the_named_config_rules_map_to() -> None:
    published = {r["config_rule_name"]: r["requirements"] for r in json.loads(MAPPING.read_text())["rules"]}
    for rule in RULES.values():
        assert rule.requirements and all(REQUIREMENT.match(r) for r in rule.requirements), rule.id
        assert len(rule.basis) >= 20 and len(rule.verify_in_account) >= 20, rule.id
        if rule.source == "aws":
            assert rule.config_rules and all(name in rule.basis for name in rule.config_rules), rule.id
            mapped = {requirement for name in rule.config_rules for requirement in published[name]}
            assert set(rule.requirements) <= mapped, (rule.id, set(rule.requirements) - mapped)
        else:
            assert rule.source == "judgement" and not rule.config_rules and "judgement" in rule.basis, rule.id


def test_every_rule_answers_on_empty_documents() -> None:
    """Presence rules fail on nothing; the others do not apply to nothing."""
    outcomes = evaluate(Stacks({}, {}))
    failing = {rule_id for rule_id, outcome in outcomes.items() if not outcome.passed}
    assert failing == {"TAP-GD-1", "TAP-HUB-1", "TAP-S3-2", "TAP-TRAIL-1"}
    assert all(outcomes[rule_id].not_applicable for rule_id in set(RULES) - failing)
