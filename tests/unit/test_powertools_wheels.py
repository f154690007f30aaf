"""The wheel fetch behind TAP's signed Powertools layer: locked pins and hashes, the Lambda platform."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lib.core.powertools import LAYER_DISTRIBUTIONS, LAYER_PLATFORMS
from tools.powertools_wheels import LOCK_FILE, download_command, locked_requirements

LOCK = """\
pydantic==2.14.3 \\
    --hash=sha256:1054f237f4d4733e5a30e1e2333bd33a2004ab9ab1510bd053a9a31bb48e232d \\
    --hash=sha256:3f7b347782ab7e4cf4c798496ae3a82787d9f21ec12676a9c564355eeef8daa8
    # via aws-lambda-powertools
redis==7.4.1 \\
    --hash=sha256:0001d6920e3a5d92758cda460d6dc9f918a78ad6d5d092f1c8b5395e6b775356
    # via -r requirements.in
"""


def test_only_the_named_pins_are_taken_with_all_their_hashes() -> None:
    text = locked_requirements(LOCK, ("pydantic",))
    assert text.startswith("pydantic==2.14.3 \\\n")
    assert text.count("--hash=sha256:") == 2
    assert "redis" not in text and "# via" not in text


def test_a_distribution_the_lock_does_not_pin_stops_the_fetch() -> None:
    with pytest.raises(SystemExit, match=r"pins none of \['wrapt'\]"):
        locked_requirements(LOCK, ("pydantic", "wrapt"))


def test_the_real_lock_pins_every_layer_distribution() -> None:
    text = locked_requirements(LOCK_FILE.read_text(), LAYER_DISTRIBUTIONS)
    assert text.count("==") == len(LAYER_DISTRIBUTIONS)


def test_wheels_are_asked_for_lambdas_python_and_machine_with_hashes_required(tmp_path: Path) -> None:
    platforms = LAYER_PLATFORMS[("python3.13", "arm64")]
    command = download_command(tmp_path / "req.txt", "python3.13", platforms, tmp_path / "out")
    assert {"--require-hashes", "--only-binary=:all:", "--no-deps"} <= set(command)
    pairs = list(itertools.pairwise(command))
    assert ("--python-version", "3.13") in pairs and ("--abi", "cp313") in pairs
    assert ("--platform", "manylinux_2_17_aarch64") in pairs and ("--platform", "any") in pairs
    assert not any(value.endswith("x86_64") for flag, value in pairs if flag == "--platform")
