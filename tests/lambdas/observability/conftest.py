"""The payment log stream's transform, invoked as Firehose invokes it, with its logs and metrics captured."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lib.contracts import log_stream as contract
from tests.lambdas.observability.log_lines import FakeContext, payment_log_stream

CONTEXT = FakeContext(
    function_name="tap-dev-payment-log-stream",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:tap-dev-payment-log-stream",
)


@dataclass
class Invocation:
    response: dict[str, Any]
    logs: str
    metrics: dict[str, float]

    def results(self) -> list[tuple[str, str]]:
        return [(record["recordId"], record["result"]) for record in self.response["records"]]


Invoke = Callable[[dict[str, Any]], Invocation]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Runs the handler on an event; its logs and the EMF metrics it prints are returned with the response."""
    logs = io.StringIO()
    monkeypatch.setattr(payment_log_stream.logger.registered_handler, "stream", logs)

    def run(event: dict[str, Any]) -> Invocation:
        capsys.readouterr()
        logged = len(logs.getvalue())
        response = payment_log_stream.handler(event, CONTEXT)
        (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
        (directive,) = emf["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == contract.METRICS_NAMESPACE
        metrics = {metric["Name"]: sum(emf[metric["Name"]]) for metric in directive["Metrics"]}
        return Invocation(response, logs.getvalue()[logged:], metrics)

    return run
