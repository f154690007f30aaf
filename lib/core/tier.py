"""A tier: a package's layers under one construct, and what it contributes to the stack.

Tiers declare their outputs and SSM parameters here as they build; the stack turns every tier's
contributions into Terraform outputs and parameters without listing them (`contribute`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cdktn import TerraformOutput, TerraformResource, TerraformStack
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.core.alarms import Alarm
from lib.core.context import StackContext
from lib.core.dashboard import Graph
from lib.core.parameters import Parameters
from lib.core.queries import Query


@dataclass(frozen=True)
class Output:
    value: object
    sensitive: bool = False


# The CloudTrail data-event resource types TAP records (S3 objects by bucket prefix, the others by ARN).
DataEventType = Literal["AWS::S3::Object", "AWS::DynamoDB::Table", "AWS::Lambda::Function"]


@dataclass(frozen=True)
class DataEvents:
    """A resource whose reads and writes CloudTrail records as data events (PCI 10.2.1)."""

    resource_type: DataEventType
    arn: str


@dataclass(frozen=True)
class BackedUp:
    """A store of record that AWS Backup copies daily (the governance tier tags and selects it)."""

    resource: TerraformResource
    arn: str


class Tier(Construct):
    """Base of every tier; `export` and `publish` record contributions, nothing else."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext) -> None:
        super().__init__(scope, construct_id)
        self.context = context
        # Kept here: reading `node.id` is two round trips to Node, and contribute asks per output.
        self.tier_id = construct_id
        self.outputs: dict[str, Output] = {}
        self.parameters: dict[str, str] = {}
        # Keyed by stable names: the governance tier's selections and selectors follow their order.
        self.backups: dict[str, BackedUp] = {}
        self.data_events: dict[str, DataEvents] = {}
        self.alarms: dict[str, Alarm] = {}
        # Graphs beyond the alarms' own (each alarm is graphed on the tier's dashboard row).
        self.graphs: list[Graph] = []
        # Log groups of payment processing, streamed to the payment-logs bucket where the profile has one.
        self.payment_logs: dict[str, CloudwatchLogGroup] = {}
        self.queries: dict[str, Query] = {}

    def export(self, name: str, value: object, *, sensitive: bool = False) -> None:
        """A stack output (`terraform output <name>`); ARNs of secrets are exported as sensitive."""
        if name in self.outputs:
            raise ValueError(f"output {name!r} exported twice by tier {self.tier_id}")
        self.outputs[name] = Output(value, sensitive)

    def publish(self, relative_name: str, value: str) -> None:
        """An SSM parameter `/<root>/<suffix>/<relative_name>` (SecureString) for applications."""
        self.parameters[relative_name] = value

    def watch(self, name: str, alarms: Mapping[str, Alarm]) -> None:
        """Alarms on what this tier owns (`<name>_<alarm>`), created by the observability tier."""
        for alarm_name, alarm in alarms.items():
            key = f"{name}_{alarm_name}"
            if key in self.alarms:
                raise ValueError(f"alarm {key!r} contributed twice by tier {self.tier_id}")
            self.alarms[key] = alarm

    def show(self, *graphs: Graph) -> None:
        """Graphs for the tier's dashboard row that no alarm draws."""
        self.graphs.extend(graphs)

    def stream_payment_logs(self, name: str, group: CloudwatchLogGroup) -> None:
        """A log group of payment processing, for the observability tier's payment-log stream (002)."""
        self.payment_logs[name] = group

    def save_query(self, name: str, query: Query) -> None:
        """A Logs Insights query about what this tier owns, saved by the observability tier."""
        if name in self.queries:
            raise ValueError(f"query {name!r} saved twice by tier {self.tier_id}")
        self.queries[name] = query

    def back_up(self, name: str, resource: TerraformResource, arn: str) -> None:
        """A store of record (Aurora cluster, DynamoDB table, EFS file system) for AWS Backup's plan."""
        self.backups[name] = BackedUp(resource, arn)

    def record_data_events(self, name: str, resource_type: DataEventType, arn: str) -> None:
        """Something that holds or processes payment data, for the environment's data-event trail."""
        self.data_events[name] = DataEvents(resource_type, arn)


def contribute(
    stack: TerraformStack, context: StackContext, tiers: Sequence[Tier], parameters_key: KmsKey | None
) -> None:
    """Every tier's outputs, and its parameters when the profile keeps parameters."""
    seen: dict[str, str] = {}
    for tier in tiers:
        for name, output in tier.outputs.items():
            if name in seen:
                raise ValueError(f"output {name!r} exported by both {seen[name]} and {tier.tier_id}")
            seen[name] = tier.tier_id
            TerraformOutput(stack, name, value=output.value, sensitive=output.sensitive)
    config = context.config.parameters
    if config is None or parameters_key is None:
        return
    values = {name: value for tier in tiers for name, value in tier.parameters.items()}
    Parameters(stack, "parameters", context, config=config, key=parameters_key, values=values)
