"""The health service's contract: its metrics, which the compute tier alarms on.

Dependency-free: packaged into the service's artifact as `lib/contracts/health.py`.
"""

from __future__ import annotations

# The service's name (in the environment file); every log line and metric carries it as
# `service`, so environments sharing an account never mix their metrics.
SERVICE_SETTING = "TAP_SERVICE"
SERVICE_DIMENSION = "service"
NAMESPACE = "TAP/Health"
# Embedded metric format (document 003's application performance), in milliseconds.
REQUEST_LATENCY = "RequestLatency"
DATABASE_CHECK_TIME = "DatabaseCheckTime"
# Counted by a metric filter on the application log group (document 003's error tracking):
# lines at ERROR, and answers of 500 or more.
APPLICATION_ERRORS = "ApplicationErrors"
ERRORS_PATTERN = '{ ($.level = "ERROR") || ($.status >= 500) }'
