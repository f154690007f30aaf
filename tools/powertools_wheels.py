"""Fetch the wheels of TAP's signed Powertools layer, for every runtime and architecture it builds.

Run when the environment is created (`make`), never at synthesis, which has no network. Each
distribution is the version `requirements.lock` pins, checked against the lock's hashes
(`pip download --require-hashes`), for the Lambda platform's Python and machine rather than this
one's. Each platform's directory is emptied first, so a version bump leaves no stale wheel.

    python -m tools.powertools_wheels
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from lib.core.powertools import LAYER_DISTRIBUTIONS, LAYER_PLATFORMS, WHEELHOUSE, wheelhouse

LOCK_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
# A pinned requirement and its hash lines, as uv writes them.
LOCK_ENTRY = re.compile(r"^([A-Za-z0-9_.-]+)==\S+ \\\n(?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", re.MULTILINE)


def locked_requirements(lock_text: str, names: tuple[str, ...]) -> str:
    """The lock's entries (pin and hashes) for `names`; every name must be there."""
    wanted = {name.lower() for name in names}
    entries = {m.group(1).lower(): m.group(0) for m in LOCK_ENTRY.finditer(lock_text)}
    missing = sorted(wanted - entries.keys())
    if missing:
        raise SystemExit(f"requirements.lock pins none of {missing}: add them to requirements.in and run `make lock`")
    return "".join(entries[name] for name in sorted(wanted))


def download_command(requirements: Path, runtime: str, platforms: tuple[str, ...], target: Path) -> list[str]:
    """pip's download of `requirements` as wheels for Lambda's CPython `runtime` on `platforms`."""
    version = runtime.removeprefix("python")
    abi = "cp" + version.replace(".", "")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--python-version",
        version,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--abi",
        "abi3",
        "--abi",
        "none",
    ]
    for platform in (*platforms, "any"):
        command += ["--platform", platform]
    return [*command, "--dest", str(target), "--requirement", str(requirements)]


def main() -> int:
    """Write the layer's locked requirements, then fetch every platform's wheels afresh."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    requirements = WHEELHOUSE / "requirements.txt"
    requirements.write_text(locked_requirements(LOCK_FILE.read_text(), LAYER_DISTRIBUTIONS))
    for (runtime, architecture), platforms in LAYER_PLATFORMS.items():
        target = wheelhouse(runtime, architecture)
        shutil.rmtree(target, ignore_errors=True)
        # Our own interpreter running pip with arguments built here, never from input.
        subprocess.run(download_command(requirements, runtime, platforms, target), check=True)  # noqa: S603
        print(f"powertools layer wheels: {runtime} {architecture}: {len(list(target.glob('*.whl')))} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
