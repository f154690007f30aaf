"""The Config remediation function's contract: the settings the baseline sets and the handler reads.

Dependency-free: packaged into the function's zip as `lib/contracts/remediation.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.contracts import MissingSettingError, required

DRY_RUN = "DRY_RUN"
NOTIFY_TOPIC_ARN = "NOTIFY_TOPIC_ARN"
FLOW_LOG_DESTINATION_ARN = "FLOW_LOG_DESTINATION_ARN"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
# Powertools' logger takes its service name from here.
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"

# What the function does, and the setting naming the Config rule (its physical name) that triggers it.
CREATE_FLOW_LOGS = "create_flow_logs"
SNAPSHOT_VOLUME = "snapshot_unencrypted_volume"
REPORT_DATABASE = "report_unencrypted_database"
RULE_SETTINGS: Mapping[str, str] = {
    CREATE_FLOW_LOGS: "FLOW_LOGS_RULE",
    SNAPSHOT_VOLUME: "ENCRYPTED_VOLUMES_RULE",
    REPORT_DATABASE: "RDS_STORAGE_ENCRYPTED_RULE",
}

# The EventBridge event the function takes (AWS Config's compliance change, non-compliant only).
SOURCE = "aws.config"
DETAIL_TYPE = "Config Rules Compliance Change"
NON_COMPLIANT = "NON_COMPLIANT"
# Tag on what the function creates, naming the resource it remediated (how a re-run finds it).
REMEDIATION_TAG = "tap:remediation-of"

REQUIRED_SETTINGS = (
    DRY_RUN,
    NOTIFY_TOPIC_ARN,
    FLOW_LOG_DESTINATION_ARN,
    IDEMPOTENCY_TABLE,
    SERVICE_NAME,
    *RULE_SETTINGS.values(),
)


def read_settings(function: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The function's settings; a missing one, or DRY_RUN other than true/false, stops the cold start."""
    settings = required(function, REQUIRED_SETTINGS, environ)
    if settings[DRY_RUN] not in ("true", "false"):
        raise MissingSettingError(f"{DRY_RUN} must be true or false")
    return settings


def rule_actions(settings: Mapping[str, str]) -> dict[str, str]:
    """Config rule name -> the action it triggers."""
    return {settings[setting]: action for action, setting in RULE_SETTINGS.items()}
