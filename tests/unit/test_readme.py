"""The README's examples are real: command blocks match what the command prints, paths exist."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lib.profiles import load_config
from lib.synth import built_tiers, summary, synthesize
from tests.conftest import PROFILE_NAMES, Synthesized

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```\n(\$ [^\n]*tap\.py[^\n]*)\n(.*?)```", README, flags=re.DOTALL)
# Variables from the developer's shell that would change what tap.py prints.
CLEARED = ("TAP_", "ENVIRONMENT_SUFFIX", "AWS_REGION", "TERRAFORM_STATE_", "REPOSITORY", "COMMIT_AUTHOR")


def test_the_readme_has_the_summary_and_the_validation_examples() -> None:
    assert [command for command, _ in BLOCKS] == [
        "$ TAP_PROFILE=web-mysql .venv/bin/python tap.py --summary",
        "$ ENVIRONMENT_SUFFIX=Prod_1 AWS_REGION=us-north-9 .venv/bin/python tap.py",
    ]


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=["summary", "validation"])
def test_each_command_block_is_what_the_command_prints(command: str, expected: str, tmp_path: Path) -> None:
    words = shlex.split(command.removeprefix("$ "))
    assignments = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    arguments = words[words.index("tap.py") + 1 :] if "tap.py" in words else words[len(assignments) + 2 :]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)} | assignments
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tap.py"), *arguments],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.stdout + completed.stderr == expected


def test_paths_the_readme_names_exist() -> None:
    named = set(re.findall(r"`((?:lib|tools|tests|bench|compliance|examples|scripts)/[\w./-]*)`", README))
    assert len(named) > 30
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_summary_block_matches_in_process_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same block from `synth.summary` itself (the subprocess above is outside coverage)."""
    monkeypatch.chdir(tmp_path)
    result = synthesize(load_config({"TAP_PROFILE": "web-mysql"}))
    (_, expected), _ = BLOCKS
    assert summary(result) + "\n" == expected


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_summary_counts_what_the_json_holds(synthesized: Synthesized, profile: str) -> None:
    (foundation, *_) = built_tiers(synthesized.result(profile)[0].config)
    doc = synthesized(profile)
    # The foundation's keys; a created zone's DNSSEC and query-log keys are the edge's (its own line).
    keys = [name for name in doc["resource"]["aws_kms_key"] if name.startswith("foundation_keys_")]
    assert f"{len(keys)} KMS keys" in foundation
    # Storage's buckets and signed code's artifacts bucket.
    storage = [
        name
        for name in doc["resource"]["aws_s3_bucket"]
        if name.startswith(("foundation_storage_", "foundation_code_signing_"))
    ]
    assert f"{len(storage)} buckets" in foundation
