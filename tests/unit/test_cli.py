"""The `tap` command (`tools/cli.py`): its subcommands, exit codes, errors and progress lines.

The compliance gate, the report and the diagrams have their own tests; here they are driven
through the command, with the slow steps (Checkov) replaced where only the command's own logic
is under test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from lib import synth
from lib.profiles import PROFILES
from lib.synth import SynthResult
from tests.conftest import SUFFIX
from tools import CouldNotRun, cli
from tools.compliance import BaselineEntry, Finding, GateResult

ROOT = Path(__file__).resolve().parents[2]
TAP = Path(sys.executable).with_name("tap")
COMMANDS = ("profiles", "synth", "check", "report", "diagram", "discover")


def test_the_tap_console_script_is_installed_and_answers_help_on_every_command() -> None:
    """`make` installs TAP editable, so `.venv/bin/tap` runs `tools.cli:main`."""
    assert TAP.exists(), "run make: it installs the tap command into the venv"
    for command in ([], *([name] for name in COMMANDS)):
        completed = subprocess.run(
            [str(TAP), *command, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.startswith(f"usage: tap {' '.join(command)}".rstrip())
        assert "exit codes:" in completed.stdout and "2  invalid configuration" in completed.stdout


def test_profiles_lists_each_profile_with_its_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["profiles"]) == cli.CLEAN
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PROFILES)
    assert [line.split()[1] for line in lines] == ["000", "001", "002", "003", "004", "all"]
    assert lines[0].endswith("VPC, Aurora MySQL with rotated credentials, assets bucket")


def test_synth_writes_both_stacks_and_prints_their_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results: list[SynthResult] = []
    real = synth.synthesize
    monkeypatch.setattr(synth, "synthesize", lambda *args: results.append(real(*args)) or results[-1])
    out = tmp_path / "out"
    assert cli.main(["synth", "--profile", "web-mysql", "--suffix", SUFFIX, "--out", str(out)], {}) == cli.CLEAN
    (result,) = results
    assert (result.config.profile, result.config.environment_suffix) == ("web-mysql", SUFFIX)
    assert result.output_file == out.resolve() / "stacks" / f"TapStack{SUFFIX}" / "cdk.tf.json"
    assert capsys.readouterr().out == synth.summary(result) + "\n"
    assert cli.main(["synth", "--profile", "web-mysql", "--out", str(out), "--no-summary"], {}) == cli.CLEAN
    assert capsys.readouterr().out == ""


def test_invalid_configuration_exits_2_with_every_problem_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = cli.main(["synth", "--suffix", "Not_Valid", "--out", str(out)], {"AWS_REGION": "us-north-9"})
    assert code == cli.INVALID_CONFIGURATION == 2
    error = capsys.readouterr().err
    assert "ENVIRONMENT_SUFFIX = 'Not_Valid'" in error and "AWS_REGION = 'us-north-9'" in error
    assert error.endswith("nothing was written.\n") and "Traceback" not in error
    assert not out.exists()


def test_an_unexpected_error_is_one_paragraph_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object) -> int:
        raise KeyError("cdk.tf.json")

    monkeypatch.setattr(cli, "profiles_command", broken)
    assert cli.main(["profiles"]) == cli.COULD_NOT_RUN
    error = capsys.readouterr().err
    assert (
        "Traceback" not in error
        and "KeyError" in error
        and "--debug" in error
        and len(error.strip().split("\n\n")) == 1
    )
    assert cli.main(["--debug", "profiles"]) == cli.COULD_NOT_RUN
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_missing_tool_is_one_clear_paragraph(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(*_: object) -> int:
        raise CouldNotRun("Graphviz's dot is not installed: install the Debian package graphviz")

    monkeypatch.setattr(cli, "profiles_command", missing)
    assert cli.main(["profiles"]) == cli.COULD_NOT_RUN
    assert (
        capsys.readouterr().err
        == "tap profiles: Graphviz's dot is not installed: install the Debian package graphviz\n"
    )


def gate_with(unexplained: Sequence[Finding], stale: Sequence[BaselineEntry] = ()) -> GateResult:
    return GateResult(list(unexplained), list(stale), passed=120)


def test_the_gate_report_groups_failures_by_rule() -> None:
    report = (
        gate_with(
            [
                Finding("TAP-TRAIL-1", "aws_cloudtrail.trail", "full", "A multi-region trail with validation exists"),
                Finding("CKV_AWS_7", "aws_kms_key.a", "full", "Ensure rotation for customer created CMKs is enabled"),
                Finding(
                    "CKV_AWS_7", "aws_kms_key.b", "web-mysql", "Ensure rotation for customer created CMKs is enabled"
                ),
            ],
            [BaselineEntry("CKV_AWS_1", "aws_iam_policy.x", "a reason long enough to be a real reason, really")],
        )
    ).report()
    assert report.splitlines() == [
        "checks passed (Checkov and TAP rules): 120",
        "FAILED CKV_AWS_7: Ensure rotation for customer created CMKs is enabled (2)",
        "    aws_kms_key.a [full]",
        "    aws_kms_key.b [web-mysql]",
        "FAILED TAP-TRAIL-1: A multi-region trail with validation exists (1)",
        "    aws_cloudtrail.trail [full]",
        "STALE baseline entry CKV_AWS_1 aws_iam_policy.x: it no longer fails; remove it",
    ]
    assert gate_with([]).report().endswith("no findings")


def test_progress_lines_go_to_stderr_with_their_time(capsys: pytest.CaptureFixture[str]) -> None:
    with cli.timed("synthesized full", cli.progress_line):
        pass
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("  synthesized full in ") and captured.err.endswith(" s\n")


def test_the_makefile_runs_the_tap_command() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target, command in (
        ("synth", "$(TAP) synth"),
        ("check", "$(TAP) check"),
        ("report", "$(TAP) report"),
        ("diagram", "$(TAP) diagram"),
        ("discover", "$(TAP) discover"),
    ):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert command in recipe, target
    assert "TAP := $(VENV)/bin/tap" in makefile
