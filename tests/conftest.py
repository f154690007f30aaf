"""Session fixtures: every profile is synthesized once per test session and parsed once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools import jsii_runtime

jsii_runtime.prepare()  # before anything imports the bindings: they start Node at import

from lib.profiles import PROFILES, load_config  # noqa: E402
from lib.synth import SynthResult, synthesize  # noqa: E402

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

    def baseline(self, profile: str, **env: str) -> Document:
        """The account baseline stack synthesized alongside that environment."""
        return self.result(profile, **env)[0].baseline_document()

    def result(self, profile: str, **env: str) -> tuple[SynthResult, Document]:
        key = (profile, tuple(sorted(env.items())))
        if key not in self._results:
            environ = {"TAP_PROFILE": profile, "ENVIRONMENT_SUFFIX": SUFFIX, **env}
            outdir = self._root / f"{profile}-{len(self._results)}"
            result = synthesize(load_config(environ), outdir)
            self._results[key] = (result, json.loads(result.output_file.read_text()))
        return self._results[key]


def name_prefix(profile: str) -> str:
    """The profile's name prefix, in every physical name it generates."""
    return load_config({"TAP_PROFILE": profile, "ENVIRONMENT_SUFFIX": SUFFIX}).name_prefix


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session", params=PROFILE_NAMES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def doc(synthesized: Synthesized, profile: str) -> Document:
    return synthesized(profile)


# cdktn appends a hash of the construct path to nested resources' names ("data_database_cluster_7928814C").
PATH_HASH = re.compile(r"_[0-9A-F]{8}$")


def path_of(name: str) -> str:
    """A resource name without its path hash: the construct path joined by "_"."""
    return PATH_HASH.sub("", name)


def resources(document: Document, kind: str) -> dict[str, dict[str, Any]]:
    """Resources of one type keyed by construct path (see `path_of`)."""
    return {path_of(name): resource for name, resource in document.get("resource", {}).get(kind, {}).items()}


def address_name(document: Document, kind: str, path: str) -> str:
    """The resource name in the document for a construct path."""
    names = [name for name in document.get("resource", {}).get(kind, {}) if path_of(name) == path]
    assert len(names) == 1, f"{kind}.{path} not in document"
    return names[0]


def ref(document: Document, kind: str, path: str, attribute: str = "id") -> str:
    """The token Terraform JSON uses for another resource's attribute."""
    return f"${{{kind}.{address_name(document, kind, path)}.{attribute}}}"


def find_one(
    document: Document, kind: str, predicate: Callable[[str, dict[str, Any]], bool]
) -> tuple[str, dict[str, Any]]:
    matches = [(n, r) for n, r in resources(document, kind).items() if predicate(n, r)]
    assert len(matches) == 1, f"expected one {kind} matching, found {[n for n, _ in matches]}"
    return matches[0]


REFERENCE = re.compile(r"\$\{(\w+)\.(\w+)\.")


def referenced(document: Document, token: str) -> tuple[str, dict[str, Any]]:
    """The resource (name, body) a `${type.name.attribute}` token points at."""
    match = REFERENCE.match(token)
    assert match is not None, token
    kind, name = match.groups()
    return name, document["resource"][kind][name]


def signed_artifact(document: Document, function: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The signing job a function deploys the output of, and the uploaded zip that job signed."""
    _, job = referenced(document, function["s3_key"])
    _, artifact = referenced(document, job["source"]["s3"]["key"])
    return job, artifact


def function_zip(stack_dir: Path, document: Document, function_path: str) -> Path:
    """The zip a function deploys: the source of its signed artifact (code signing on, the
    default), or its `filename`."""
    function = resources(document, "aws_lambda_function")[function_path]
    if "filename" in function:
        return stack_dir / function["filename"]
    return stack_dir / signed_artifact(document, function)[1]["source"]


def policy(resource: dict[str, Any], attribute: str = "policy") -> dict[str, Any]:
    return dict(json.loads(resource[attribute]))


def iter_statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    statements = document["Statement"]
    yield from [statements] if isinstance(statements, dict) else statements
