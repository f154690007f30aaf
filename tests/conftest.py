"""Session fixtures: every profile is synthesized once per test session and parsed once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.profiles import PROFILES, load_config
from lib.synth import SynthResult, synthesize

SUFFIX = "qa1"
PROFILE_NAMES = sorted(PROFILES)

Document = dict[str, Any]


class Synthesized:
    """Lazily synthesizes (profile, env overrides) combinations, each at most once."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._results: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[SynthResult, Document]] = {}

    def __call__(self, profile: str, **env: str) -> Document:
        return self.result(profile, **env)[1]

    def result(self, profile: str, **env: str) -> tuple[SynthResult, Document]:
        key = (profile, tuple(sorted(env.items())))
        if key not in self._results:
            environ = {"TAP_PROFILE": profile, "ENVIRONMENT_SUFFIX": SUFFIX, **env}
            outdir = self._root / f"{profile}-{len(self._results)}"
            result = synthesize(load_config(environ), outdir)
            self._results[key] = (result, json.loads(result.output_file.read_text()))
        return self._results[key]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session", params=PROFILE_NAMES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def doc(synthesized: Synthesized, profile: str) -> Document:
    return synthesized(profile)


def resources(document: Document, kind: str) -> dict[str, dict[str, Any]]:
    return dict(document.get("resource", {}).get(kind, {}))


def ref(document: Document, kind: str, name: str, attribute: str = "id") -> str:
    """The token Terraform JSON uses for another resource's attribute."""
    assert name in resources(document, kind), f"{kind}.{name} not in document"
    return f"${{{kind}.{name}.{attribute}}}"


def find_one(
    document: Document, kind: str, predicate: Callable[[str, dict[str, Any]], bool]
) -> tuple[str, dict[str, Any]]:
    matches = [(n, r) for n, r in resources(document, kind).items() if predicate(n, r)]
    assert len(matches) == 1, f"expected one {kind} matching, found {[n for n, _ in matches]}"
    return matches[0]


def policy(resource: dict[str, Any], attribute: str = "policy") -> dict[str, Any]:
    return dict(json.loads(resource[attribute]))


def iter_statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    statements = document["Statement"]
    yield from [statements] if isinstance(statements, dict) else statements
