"""The rotation function's contract: the settings the stack sets and the handler reads.

Dependency-free: packaged into the rotation zip as `lib/contracts/rotation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.contracts import MissingSettingError, required

ROTATION_STRATEGY = "ROTATION_STRATEGY"
SECRETS_MANAGER_ENDPOINT = "SECRETS_MANAGER_ENDPOINT"
# Powertools' logger takes its service name from here; the stack sets it per function.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
STRATEGIES = ("alternating", "single")
# The line a failed rotation step logs (with `step` and `error_type`): the saved query counts them.
ROTATION_FAILED = "rotation failed"
REQUIRED_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "secret_rotation": (ROTATION_STRATEGY, SECRETS_MANAGER_ENDPOINT, SERVICE_NAME)
}


def read_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The rotation function's settings; a missing one or an unknown strategy stops the cold start."""
    settings = required("secret_rotation", REQUIRED_SETTINGS["secret_rotation"], environ)
    if settings[ROTATION_STRATEGY] not in STRATEGIES:
        raise MissingSettingError(f"{ROTATION_STRATEGY} must be one of {STRATEGIES}")
    return settings
