"""The jsii runtime set-up: Node from the wheel, and a lazy provider index equal to the eager one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsii
import pytest
from cdktn import App, TerraformStack
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.provider import AwsProvider

from lib import jsii_runtime
from tests.conftest import Synthesized


def test_configure_uses_the_wheel_node_and_keeps_user_options() -> None:
    environ = {"NODE_OPTIONS": "--max-old-space-size=2048"}
    jsii_runtime.configure(environ)
    jsii_runtime.configure(environ)  # idempotent
    assert Path(environ["JSII_NODE"]) == jsii_runtime.wheel_node()
    assert jsii_runtime.wheel_node().is_file()
    assert environ["NODE_OPTIONS"] == f"--max-old-space-size=2048 --require={jsii_runtime.LAZY_INDEX_HOOK}"
    explicit = {"JSII_NODE": "/opt/node/bin/node"}
    jsii_runtime.configure(explicit)
    assert explicit["JSII_NODE"] == "/opt/node/bin/node"


def provider_package_dir() -> Path:
    root = Path(os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT", Path.home() / ".cache/aws/jsii/package-cache"))
    found = sorted(root.glob("@cdktn/provider-aws/*/*/lib/index.js"))
    if not found:
        pytest.fail(f"provider package not in the jsii cache under {root}")
    return found[-1].parent.parent


EXPORTS = """
const pkg = process.argv[1];
const index = require(pkg);
const names = Object.keys(index).sort();
console.log(JSON.stringify({names, vpcClass: typeof index.vpc.Vpc, loadedFiles: Object.keys(require.cache).length}));
"""


def exports(package: Path, modules: Path, lazy: bool) -> dict[str, object]:
    """Requires the provider index as the jsii kernel does, with or without the lazy hook."""
    cache = package.parents[3]  # <cache>/@cdktn/provider-aws/<version>/<hash>
    for name in ("cdktn", "constructs"):
        link = modules / name
        if not link.exists():
            (manifest,) = cache.glob(f"{name}/*/*/package.json")
            link.symlink_to(manifest.parent)
    env = {
        **os.environ,
        "NODE_PATH": str(modules),
        "NODE_OPTIONS": f"--require={jsii_runtime.LAZY_INDEX_HOOK}" if lazy else "",
    }
    out = subprocess.run(
        [str(jsii_runtime.wheel_node()), "-e", EXPORTS, str(package)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout))


def test_lazy_index_exports_the_same_submodules_and_loads_only_what_is_used(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    synthesized("web-mysql")  # makes sure jsii has unpacked the provider into its cache
    package = provider_package_dir()
    lazy, eager = exports(package, tmp_path, lazy=True), exports(package, tmp_path, lazy=False)
    assert lazy["names"] == eager["names"]
    assert len(lazy["names"]) > 2000  # type: ignore[arg-type]
    assert lazy["vpcClass"] == eager["vpcClass"] == "function"
    assert lazy["loadedFiles"] * 10 < eager["loadedFiles"]  # type: ignore[operator]


def test_importing_any_layer_module_uses_the_wheel_node_not_the_system_one() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "NODE_OPTIONS")}
    out = subprocess.run(
        [sys.executable, "-c", "import lib.rotation, os; print(os.environ['JSII_NODE'])"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert Path(out.stdout.strip()) == jsii_runtime.wheel_node()
    assert "end-of-life" not in out.stderr


def test_reference_attributes_are_read_from_node_once_per_object(synthesized: Synthesized) -> None:
    assert getattr(jsii.get, "memoized", False)
    stack = TerraformStack(App(), "memo")
    AwsProvider(stack, "aws", region="us-east-1")
    key = KmsKey(stack, "key")
    assert key.arn == key.arn  # the same reference token, not two
    assert key.__dict__["_tap_attribute_references"] == {"arn": key.arn}
    _ = key.key_usage  # a computed attribute outside the reference set: read through, not cached
    assert set(key.__dict__["_tap_attribute_references"]) == {"arn"}
