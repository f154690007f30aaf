"""An environment's CloudWatch dashboard as data: one row per tier, a graph per metric.

Every alarm a tier contributes is graphed on its tier's row, with its threshold drawn; a tier
adds `Graph`s for what it wants seen but not alarmed (document 004's consumed capacity). The
observability tier lays the rows out and writes the dashboard's JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lib.core.alarms import Alarm

# CloudWatch's grid is 24 units wide: four graphs of 6 x 6 a line, under a one-unit title.
GRID_WIDTH, GRAPH_WIDTH, GRAPH_HEIGHT, TITLE_HEIGHT = 24, 6, 6, 1


@dataclass(frozen=True, kw_only=True)
class Graph:
    """One metric on one graph."""

    title: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    stat: str = "Sum"
    period_seconds: int = 300
    threshold: float | None = None
    # Where the metric is published, when not in the stack's region (CloudFront, Route 53).
    region: str | None = None

    @classmethod
    def of(cls, alarm: Alarm) -> Graph:
        """The alarm's metric, statistic and period, its threshold drawn as a line."""
        return cls(
            title=alarm.description,
            namespace=alarm.namespace,
            metric=alarm.metric,
            dimensions=alarm.dimensions,
            stat=alarm.extended_statistic or alarm.statistic or "Average",
            period_seconds=alarm.period_seconds,
            threshold=alarm.threshold,
            region=alarm.region,
        )


def consumed_capacity(table_name: str) -> tuple[Graph, ...]:
    """A table's consumed read and write capacity (document 004's dashboard): use, not refusal,
    so graphed beside the throttle alarms rather than alarmed."""
    return tuple(
        Graph(
            title=f"{table_name}: {metric}",
            namespace="AWS/DynamoDB",
            metric=metric,
            dimensions={"TableName": table_name},
        )
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
    )


def body(rows: Sequence[tuple[str, Sequence[Graph]]], region: str) -> str:
    """The dashboard body: per row a title, then its graphs left to right, top to bottom."""
    widgets: list[dict[str, Any]] = []
    y = 0
    per_line = GRID_WIDTH // GRAPH_WIDTH
    for title, graphs in rows:
        if not graphs:
            continue
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": GRID_WIDTH,
                "height": TITLE_HEIGHT,
                "properties": {"markdown": f"## {title}"},
            }
        )
        y += TITLE_HEIGHT
        for index, graph in enumerate(graphs):
            dimensions = [part for key, value in graph.dimensions.items() for part in (key, value)]
            properties: dict[str, Any] = {
                "title": graph.title,
                "region": graph.region or region,
                "metrics": [[graph.namespace, graph.metric, *dimensions]],
                "stat": graph.stat,
                "period": graph.period_seconds,
                "view": "timeSeries",
            }
            if graph.threshold is not None:
                properties["annotations"] = {"horizontal": [{"label": "alarm", "value": graph.threshold}]}
            widgets.append(
                {
                    "type": "metric",
                    "x": (index % per_line) * GRAPH_WIDTH,
                    "y": y + (index // per_line) * GRAPH_HEIGHT,
                    "width": GRAPH_WIDTH,
                    "height": GRAPH_HEIGHT,
                    "properties": properties,
                }
            )
        y += -(-len(graphs) // per_line) * GRAPH_HEIGHT
    return json.dumps({"widgets": widgets})
