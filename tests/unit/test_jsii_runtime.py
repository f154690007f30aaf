"""The jsii runtime set-up: Node from the wheel, and a lazy provider index equal to the eager one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import cdktn
import cdktn_provider_aws
import constructs
import jsii
import pytest
from cdktn import App, TerraformStack
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.provider import AwsProvider

from tests.conftest import Synthesized
from tools import cli, jsii_runtime


def test_configure_uses_the_wheel_node_and_keeps_user_options() -> None:
    environ = {"NODE_OPTIONS": "--max-old-space-size=2048"}
    jsii_runtime.configure(environ)
    jsii_runtime.configure(environ)  # idempotent
    assert Path(environ["JSII_NODE"]) == jsii_runtime.wheel_node()
    assert jsii_runtime.wheel_node().is_file()
    hooks = f"--require={jsii_runtime.LAZY_INDEX_HOOK} --require={jsii_runtime.COMPILE_CACHE_HOOK}"
    assert environ["NODE_OPTIONS"] == f"--max-old-space-size=2048 {hooks} --max-semi-space-size=4"
    # A user's own young-generation size wins.
    tuned = {"NODE_OPTIONS": "--max-semi-space-size=16"}
    jsii_runtime.configure(tuned)
    assert tuned["NODE_OPTIONS"] == f"--max-semi-space-size=16 {hooks}"
    explicit = {"JSII_NODE": "/opt/node/bin/node"}
    jsii_runtime.configure(explicit)
    assert explicit["JSII_NODE"] == "/opt/node/bin/node"


CACHE_ROOT = Path(os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT", Path.home() / ".cache/aws/jsii/package-cache"))


def pinned_version(module: ModuleType) -> str:
    """The version of the assembly this project's lock file installed (`_jsii/<name>@<version>.jsii.tgz`)."""
    (tarball,) = (Path(module.__file__ or "").parent / "_jsii").glob("*.jsii.tgz")
    return tarball.name.removesuffix(".jsii.tgz").rsplit("@", 1)[1]


def cached_package(name: str, module: ModuleType) -> Path:
    """That version's unpacked package in the jsii cache, whatever other versions other projects left there."""
    found = sorted((CACHE_ROOT / name / pinned_version(module)).glob("*/package.json"))
    if not found:
        pytest.fail(f"{name}@{pinned_version(module)} not in the jsii cache under {CACHE_ROOT}")
    return found[-1].parent


EXPORTS = """
const pkg = process.argv[1];
const index = require(pkg);
const names = Object.keys(index).sort();
console.log(JSON.stringify({names, vpcClass: typeof index.vpc.Vpc, loadedFiles: Object.keys(require.cache).length}));
"""


def exports(package: Path, modules: Path, lazy: bool) -> dict[str, object]:
    """Requires the provider index as the jsii kernel does, with or without the lazy hook."""
    for name, module in (("cdktn", cdktn), ("constructs", constructs)):
        link = modules / name
        if not link.exists():
            link.symlink_to(cached_package(name, module))
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
    package = cached_package("@cdktn/provider-aws", cdktn_provider_aws)
    lazy, eager = exports(package, tmp_path, lazy=True), exports(package, tmp_path, lazy=False)
    assert lazy["names"] == eager["names"]
    assert len(lazy["names"]) > 2000  # type: ignore[arg-type]
    assert lazy["vpcClass"] == eager["vpcClass"] == "function"
    assert lazy["loadedFiles"] * 10 < eager["loadedFiles"]  # type: ignore[operator]


def run_python(code: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter in the repository, without the session's jsii settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "NODE_OPTIONS", "TAP_NODE_COMPILE_CACHE")}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_importing_a_layer_module_changes_nothing_in_the_process() -> None:
    out = run_python(
        "import os, jsii; before = dict(os.environ); get = jsii.get; import lib.data.rotation; "
        "print(dict(os.environ) == before, jsii.get is get)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_prepare_starts_jsii_on_the_wheel_node() -> None:
    out = run_python(
        "from tools import jsii_runtime; jsii_runtime.prepare(); import lib.data.rotation, os; print(os.environ['JSII_NODE'])"
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == jsii_runtime.wheel_node()
    assert "end-of-life" not in out.stderr  # a system Node would warn here


def test_prepare_after_the_bindings_started_is_an_error() -> None:
    out = run_python("import cdktn; from tools import jsii_runtime; jsii_runtime.prepare()")
    assert out.returncode != 0
    assert "prepare() must run before importing cdktn" in out.stderr


WRONG_TYPE = (
    "from tools import jsii_runtime; jsii_runtime.prepare({}); from cdktn import App, TerraformStack; "
    "from cdktn_provider_aws.kms_key import KmsKey; stack = TerraformStack(App(), 's'); "
    "KmsKey(stack, 'key', description=42); print('no check')"
)


def test_without_runtime_type_checks_node_still_refuses_a_wrong_type() -> None:
    """Skipping the Python-side checks is safe: jsii's kernel validates every value it receives."""
    checked = run_python(WRONG_TYPE.format(""))
    assert checked.returncode != 0 and "no check" not in checked.stdout
    assert "typeguard" in checked.stderr
    unchecked = run_python(WRONG_TYPE.format("runtime_type_checks=False"))
    assert unchecked.returncode != 0 and "no check" not in unchecked.stdout
    assert "typeguard" not in unchecked.stderr
    assert "Unable to deserialize value as string" in unchecked.stderr


def test_the_tap_command_turns_runtime_type_checks_off_and_creation_stacks_are_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tap` (and tap.py, which runs `tap synth`) skips the bindings' typeguard checks."""
    calls: list[dict[str, bool]] = []
    monkeypatch.setattr(cli.jsii_runtime, "prepare", lambda **options: calls.append(options))
    assert cli.main(["profiles"]) == cli.CLEAN
    assert calls == [{"runtime_type_checks": False}]
    environ: dict[str, str] = {}
    jsii_runtime.configure(environ)
    assert environ["CDKTN_DISABLE_CREATION_STACK"] == "1"


def test_reference_attributes_are_read_from_node_once_per_object(synthesized: Synthesized) -> None:
    assert getattr(jsii.get, "memoized", False)
    stack = TerraformStack(App(), "memo")
    AwsProvider(stack, "aws", region="us-east-1")
    key = KmsKey(stack, "key")
    assert key.arn == key.arn  # the same reference token, not two
    assert key.__dict__["_tap_attribute_references"] == {"arn": key.arn}
    _ = key.key_usage  # a computed attribute outside the reference set: read through, not cached
    assert set(key.__dict__["_tap_attribute_references"]) == {"arn"}


def test_compile_cache_defaults_beside_the_user_cache_and_the_user_can_turn_it_off() -> None:
    environ = {"XDG_CACHE_HOME": "/var/cache/me"}
    jsii_runtime.configure(environ)
    assert environ["TAP_NODE_COMPILE_CACHE"] == "/var/cache/me/tap/node-compile-cache"
    off = {"TAP_NODE_COMPILE_CACHE": ""}
    jsii_runtime.configure(off)
    assert off["TAP_NODE_COMPILE_CACHE"] == ""


ONE_KEY = (
    "from tools import jsii_runtime; jsii_runtime.prepare(); from cdktn import App, TerraformStack; "
    "from cdktn_provider_aws.kms_key import KmsKey; from cdktn_provider_aws.provider import AwsProvider; "
    "stack = TerraformStack(App(), 's'); AwsProvider(stack, 'aws', region='us-east-1'); KmsKey(stack, 'key')"
)
# Node's own trace of its compile cache (NODE_DEBUG_NATIVE=COMPILE_CACHE), for one provider module.
KMS_MODULE_ACCEPTED = "@cdktn/provider-aws/lib/kms-key/index.js was accepted"


def test_the_kernel_reuses_compiled_modules_although_its_module_directory_is_new_each_run(tmp_path: Path) -> None:
    """The second run reads the first run's compiled code; with the cache off, nothing is read or kept."""
    cache = tmp_path / "cache"
    trace = {"NODE_DEBUG_NATIVE": "COMPILE_CACHE", "TAP_NODE_COMPILE_CACHE": str(cache)}
    first, second = run_python(ONE_KEY, **trace), run_python(ONE_KEY, **trace)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert KMS_MODULE_ACCEPTED not in first.stderr  # nothing to reuse yet
    assert KMS_MODULE_ACCEPTED in second.stderr
    # Each run had its own temporary module directory, and neither left it behind.
    kernel_dirs = set(
        re.findall(r"(/\S*/jsii-kernel-[^/]+)/node_modules/@cdktn/provider-aws", first.stderr + second.stderr)
    )
    assert len(kernel_dirs) == 2 and not any(Path(d).exists() for d in kernel_dirs)
    assert any(cache.rglob("*"))

    off = run_python(ONE_KEY, NODE_DEBUG_NATIVE="COMPILE_CACHE", TAP_NODE_COMPILE_CACHE="")
    assert off.returncode == 0, off.stderr
    assert "[compile cache]" not in off.stderr


def test_structs_are_sent_exactly_as_jsii_itself_would_send_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nested structs, lists, maps, enums-as-strings and unset fields: the same message either way."""
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (  # noqa: PLC0415
        S3BucketLifecycleConfigurationConfig,
        S3BucketLifecycleConfigurationRule,
        S3BucketLifecycleConfigurationRuleExpiration,
        S3BucketLifecycleConfigurationRuleFilter,
        S3BucketLifecycleConfigurationRuleTransition,
    )
    from jsii import _kernel  # noqa: PLC0415

    config = S3BucketLifecycleConfigurationConfig(
        bucket="logs",
        rule=[
            S3BucketLifecycleConfigurationRule(
                id="archive",
                status="Enabled",
                filter=S3BucketLifecycleConfigurationRuleFilter(prefix=""),
                transition=[S3BucketLifecycleConfigurationRuleTransition(days=90, storage_class="GLACIER")],
                expiration=S3BucketLifecycleConfigurationRuleExpiration(days=365),
            )
        ],
        depends_on=[],
    )
    fast = _kernel._make_reference_for_native
    assert getattr(fast, "from_values", False)
    sent_fast = fast(None, [config, {"plain": {"map": [1, "two"]}}])
    monkeypatch.setattr(_kernel, "_make_reference_for_native", fast.original)  # jsii's own, all the way down
    sent_by_jsii = _kernel._make_reference_for_native(None, [config, {"plain": {"map": [1, "two"]}}])
    assert sent_fast == sent_by_jsii
    rule = sent_fast[0]["$jsii.struct"]["data"]["rule"][0]["$jsii.struct"]
    assert rule["data"]["expiration"]["$jsii.struct"]["data"]["days"] == 365
    assert rule["data"]["abortIncompleteMultipartUpload"] is None  # unset fields are sent as None, as jsii does
