"""Synthesis: validate, build, check generated names, then (and only then) write `cdktf.out/`."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktn import App

from lib.config import DeploymentConfig
from lib.errors import ConfigError
from lib.tap_stack import TapStack
from lib.validation import validate

# Native S3 locking (`use_lockfile`, 1.10) and write-only attributes (secrets kept out of state, 1.11). Also in cdktf.json.
TARGET_VERSIONS = {"terraform": ">=1.11.0", "opentofu": ">=1.11.0"}


@dataclass(frozen=True)
class SynthResult:
    config: DeploymentConfig
    stack_name: str
    output_file: Path

    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.output_file.read_text())
        return parsed


def synthesize(config: DeploymentConfig, outdir: Path | str = "cdktf.out") -> SynthResult:
    """Raises ConfigError listing every violation; on error `outdir` is left as it was.

    Configuration is validated first (a broken config could not be built). The stack is then
    built and synthesized into a temporary sibling directory; generated names are checked
    before `synth()`, and the result replaces `outdir` only when everything passed.
    """
    violations = validate(config)
    if violations:
        raise ConfigError(violations)
    target = Path(outdir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        app = App(outdir=str(staging), context={"targetVersions": TARGET_VERSIONS})
        stack = TapStack(app, config.stack_name, config)
        violations = stack.names.violations()
        if violations:
            raise ConfigError(violations)
        app.synth()
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SynthResult(config, config.stack_name, Path(outdir) / "stacks" / config.stack_name / "cdk.tf.json")


def summary(result: SynthResult) -> str:
    """What `make synth` prints: where the output is and what it holds."""
    document = result.document()
    config = result.config
    backend = document.get("terraform", {}).get("backend", {})
    backend_text = ", ".join(f"{kind} ({json.dumps(settings, sort_keys=True)})" for kind, settings in backend.items())
    counts = Counter({kind: len(items) for kind, items in document.get("resource", {}).items()})
    lines = [
        f"stack:    {result.stack_name}",
        f"profile:  {config.profile} ({config.description})",
        f"region:   {config.region}",
        f"mode:     {'destroyable (non-production)' if config.destroyable else 'protected (production)'}",
        f"backend:  {backend_text}",
        f"resources: {sum(counts.values())}",
        *(f"  {count:4d}  {kind}" for kind, count in sorted(counts.items())),
        f"output:   {result.output_file}",
    ]
    return "\n".join(lines)
