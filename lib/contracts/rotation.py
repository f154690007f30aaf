"""The rotation function's contract: the settings the stack sets and the handler reads.

Dependency-free: packaged into the rotation zip as `lib/contracts/rotation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

ROTATION_STRATEGY = "ROTATION_STRATEGY"
SECRETS_MANAGER_ENDPOINT = "SECRETS_MANAGER_ENDPOINT"
# Powertools' logger takes its service name from here; the stack sets it per function.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
STRATEGIES = ("alternating", "single")
REQUIRED_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "secret_rotation": (ROTATION_STRATEGY, SECRETS_MANAGER_ENDPOINT, SERVICE_NAME)
}


class MissingSettingError(RuntimeError):
    """The handler started without a setting the stack must set."""


def read_settings(environ: Mapping[str, str]) -> dict[str, str]:
    missing = [name for name in REQUIRED_SETTINGS["secret_rotation"] if not environ.get(name)]
    if missing:
        raise MissingSettingError(f"secret_rotation needs environment variables {missing}; the stack sets them")
    if environ[ROTATION_STRATEGY] not in STRATEGIES:
        raise MissingSettingError(f"{ROTATION_STRATEGY} must be one of {STRATEGIES}")
    return {name: environ[name] for name in REQUIRED_SETTINGS["secret_rotation"]}
