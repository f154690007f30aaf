"""Tags AWS services act on, shared by the layers that set them and the checks that read them."""

from __future__ import annotations

# AWS Backup selects a store whose `Backup` tag names the plan (with its ARN in the selection).
BACKUP_TAG = "Backup"
# GuardDuty's inclusion tag: Runtime Monitoring's automated configuration manages the agent on
# instances that carry it, and the agent then calls the guardduty-data endpoint.
GUARDDUTY_AGENT_TAG = "GuardDutyManaged"
