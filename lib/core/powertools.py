"""Powertools for AWS Lambda (Python) as a layer TAP builds and signs itself, for signed functions.

A function whose code signing config enforces signatures may only use layers signed by an
allowed profile, and AWS publishes Powertools' layer unsigned
(github.com/aws-powertools/powertools-lambda-python/issues/1108). So with code signing on, the
layer is built here from the release the lock file pins (the one the handler tests run against):
the PyPI wheels of Powertools with its parser and tracer extras, for the function's runtime and
architecture, fetched with their locked hashes when the environment is created
(`tools/powertools_wheels.py`), unpacked under `python/` in a reproducible zip, and signed with
the stack's profile like the functions' own code. boto3 and botocore are the Lambda runtime's.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import re
import zipfile
from pathlib import Path

from lib.core.packaging import SKIPPED_SUFFIXES, LambdaPackage, cached_zip

REPOSITORY = Path(__file__).resolve().parent.parent.parent
WHEELHOUSE = REPOSITORY / ".build" / "wheels"
# `aws-lambda-powertools[parser,tracer]` and everything it needs but the runtime's boto3 and
# botocore (a test derives this from the installed metadata).
LAYER_DISTRIBUTIONS = (
    "aws-lambda-powertools",
    "annotated-types",
    "aws-xray-sdk",
    "jmespath",
    "pydantic",
    "pydantic-core",
    "typing-extensions",
    "typing-inspection",
    "wrapt",
)
# The runtimes and architectures TAP builds the layer for, and the wheel platforms each accepts
# (Lambda's Python 3.13 runs on Amazon Linux 2023, glibc 2.34).
LAYER_PLATFORMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("python3.13", arch): tuple(
        f"{tag}_{machine}" for tag in ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
    )
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64"))
}


class MissingWheels(RuntimeError):
    """The wheelhouse lacks a distribution: the environment was not created by `make`."""


def wheelhouse(runtime: str, architecture: str) -> Path:
    """Where one platform's wheels are fetched to (emptied and refilled by each fetch)."""
    return WHEELHOUSE / f"{runtime}-{architecture}"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def layer_wheels(runtime: str, architecture: str) -> list[Path]:
    """One wheel per layer distribution, each the version installed here (the tested release)."""
    directory = wheelhouse(runtime, architecture)
    wheels = []
    for name in LAYER_DISTRIBUTIONS:
        version = importlib.metadata.version(name)
        found = sorted(directory.glob(f"{_normalized(name)}-{version}-*.whl"))
        if len(found) != 1:
            raise MissingWheels(
                f"the signed Powertools layer needs the {runtime} {architecture} wheel of {name} {version} in "
                f"{directory}; `make` fetches them when it creates the environment "
                "(or run: .venv/bin/python -m tools.powertools_wheels)"
            )
        wheels.append(found[0])
    return wheels


def build_layer(runtime: str, architecture: str, out_dir: Path) -> LambdaPackage:
    """The layer zip: every wheel's files under `python/`, bytecode and caches left out."""
    wheels = layer_wheels(runtime, architecture)
    inputs = hashlib.sha256()
    for wheel in wheels:
        inputs.update(wheel.name.encode() + b"\0" + hashlib.sha256(wheel.read_bytes()).digest())

    def members() -> dict[str, bytes]:
        contents: dict[str, bytes] = {}
        for wheel in wheels:
            with zipfile.ZipFile(io.BytesIO(wheel.read_bytes())) as archive:
                for info in archive.infolist():
                    parts = Path(info.filename).parts
                    skipped = info.filename.endswith(SKIPPED_SUFFIXES) or "__pycache__" in parts
                    if not info.is_dir() and not skipped:
                        contents[f"python/{info.filename}"] = archive.read(info)
        return contents

    return cached_zip(out_dir, f"powertools-{runtime}-{architecture}", inputs.hexdigest(), members)
