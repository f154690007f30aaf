"""Per-environment configuration files (`TAP_CONFIG`): overlay, sources, errors and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.errors import ConfigError
from lib.profiles import load_config
from lib.synth import settings_lines
from lib.validation import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "env.toml"


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "env.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("profile", ["full", "secure-platform"])  # serverless Aurora, payments on
def test_the_shipped_example_is_valid_and_applied(profile: str) -> None:
    config = load_config({"TAP_PROFILE": profile, "TAP_CONFIG": str(EXAMPLE)})
    assert validate(config) == []
    assert config.payments is not None and config.payments.alert_emails == ("payments-oncall@example.com",)
    assert config.edge.domain_name == "pay.example.com" and config.edge.hosted_zone_id == "create"
    assert config.source_of("payments.alert_emails") == f"{EXAMPLE}: payments.alert_emails"


def test_environment_variables_win_over_the_file(tmp_path: Path) -> None:
    path = config_file(tmp_path, 'environment_suffix = "fromfile"\nregion = "eu-west-1"\nprotected = true\n')
    config = load_config({"TAP_CONFIG": path, "ENVIRONMENT_SUFFIX": "fromenv", "TAP_PROTECTED": "false"})
    assert (config.environment_suffix, config.region, config.destroyable) == ("fromenv", "eu-west-1", True)
    assert config.source_of("environment_suffix") == "ENVIRONMENT_SUFFIX"
    assert config.source_of("region") == f"{path}: region"


def test_protected_from_the_file(tmp_path: Path) -> None:
    config = load_config({"TAP_CONFIG": config_file(tmp_path, "protected = true\n")})
    assert config.destroyable is False


def test_every_file_problem_is_reported_at_once_with_file_and_key(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        'protected = "yes"\n[payments]\ncolour = "red"\nreserved_concurrency = "ten"\n[database]\nserverless_acu = [1]\n',
    )
    with pytest.raises(ConfigError) as raised:
        load_config({"TAP_CONFIG": path, "TAP_PROTECTED": "maybe"})
    found = {(v.field, v.rule_id, v.source) for v in raised.value.violations}
    assert found == {
        ("protected", "file.type", f"{path}: protected"),
        ("payments.colour", "file.unknown_key", f"{path}: payments.colour"),
        ("payments.reserved_concurrency", "file.type", f"{path}: payments.reserved_concurrency"),
        ("database.serverless_acu", "file.type", f"{path}: database.serverless_acu"),
        ("TAP_PROTECTED", "env.protected", None),
    }


def test_file_values_go_through_validation_naming_the_file(tmp_path: Path) -> None:
    path = config_file(
        tmp_path, "[payments]\nreserved_concurrency = 0\n[storage.buckets.flow_logs]\nexpire_after_days = 0\n"
    )
    problems = {str(v) for v in validate(load_config({"TAP_CONFIG": path}))}
    assert any(f"(from {path}: payments.reserved_concurrency)" in p for p in problems), problems
    assert any(f"(from {path}: storage.buckets['flow_logs'].expire_after_days)" in p for p in problems), problems


def test_the_summary_names_where_each_value_came_from(tmp_path: Path) -> None:
    path = config_file(tmp_path, "[storage.buckets.flow_logs]\nexpire_after_days = 400\n")
    lines = settings_lines(load_config({"TAP_CONFIG": path, "ENVIRONMENT_SUFFIX": "stg"}))
    assert (
        f"  storage.buckets['flow_logs'].expire_after_days = 400  [{path}: storage.buckets['flow_logs'].expire_after_days]"
        in lines
    )
    assert "  environment_suffix = 'stg'  [ENVIRONMENT_SUFFIX]" in lines
    assert "  network.nat_mode = 'per_az'  [profile full]" in lines


def test_keys_a_file_may_not_set_are_unknown_there(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name_prefix = 'other'"):
        load_config({"TAP_CONFIG": config_file(tmp_path, 'name_prefix = "other"\n')})


def test_file_problems_and_validation_problems_come_in_one_report(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[payments]\ncolour = "red"\ncurrencies = ["usd"]\n')
    with pytest.raises(ConfigError) as raised:
        load_config({"TAP_CONFIG": path})
    assert {v.rule_id for v in raised.value.violations} == {"file.unknown_key", "payments.currencies"}
