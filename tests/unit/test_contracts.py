"""The contract between the stack and the Lambda code, checked on the synthesized JSON.

Each handler reads its settings only through its contract module (`lib/contracts/`), once at
cold start; every key it reads must be set on the deployed function, taken from `cdk.tf.json`.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from lib import contracts
from lib.contracts import ledger, log_stream, payments, remediation, rotation
from lib.core.function import LAMBDA_ROOT
from tests.conftest import Document, Synthesized, resources

REQUIRED: Mapping[str, tuple[str, ...]] = {
    **payments.REQUIRED_SETTINGS,
    **rotation.REQUIRED_SETTINGS,
    **ledger.REQUIRED_SETTINGS,
    **log_stream.REQUIRED_SETTINGS,
}
# Code shared by several functions: it reads no settings of its own.
LIBRARIES = {"payments_common", "rds_client", "ledger_store"}


def code_directory(handler: str) -> str:
    """The lib/lambda/<dir> holding a function's handler module (`payment_validation.handler`)."""
    module = handler.split(".", 1)[0]
    (found,) = [path.parent.name for path in LAMBDA_ROOT.glob(f"*/{module}.py")]
    return found


def unset_settings(document: Document) -> Iterator[tuple[str, str]]:
    """(function, setting) for every setting a handler reads that its synthesized function does not set."""
    for path, function in resources(document, "aws_lambda_function").items():
        variables = function.get("environment", {}).get("variables", {})
        for setting in REQUIRED[code_directory(function["handler"])]:
            if not variables.get(setting):
                yield path, setting


def test_every_setting_a_handler_reads_is_set_on_its_function(doc: Document) -> None:
    assert list(unset_settings(doc)) == []


def test_a_setting_missing_from_a_function_is_found(synthesized: Synthesized) -> None:
    """The check can fail: the functions that count velocity without its limit."""
    document = copy.deepcopy(synthesized("full"))
    for function in document["resource"]["aws_lambda_function"].values():
        function["environment"]["variables"].pop(payments.FRAUD_VELOCITY_LIMIT, None)
    assert list(unset_settings(document)) == [
        ("payments_functions_payment_validation_function", payments.FRAUD_VELOCITY_LIMIT),
        ("payments_transactions_api_function", payments.FRAUD_VELOCITY_LIMIT),
    ]


def environment_reads(tree: ast.AST) -> Iterator[str]:
    """Names read from os.environ / os.getenv anywhere except as the argument to read_settings."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            yield ast.unparse(node.slice)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
            yield ast.unparse(node.args[0]) if node.args else "?"


def settings_calls(tree: ast.AST) -> list[str]:
    """The contract functions a module reads its settings for (`read_settings("x", os.environ)`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("read_settings"):
            args: list[Any] = node.args
            found.append(args[0].value if len(args) == 2 else "secret_rotation")
    return found


@pytest.mark.parametrize("directory", sorted(p.name for p in LAMBDA_ROOT.iterdir() if p.is_dir()))
def test_handlers_read_the_environment_only_through_their_contract(directory: str) -> None:
    trees = {path.name: ast.parse(path.read_text()) for path in (LAMBDA_ROOT / directory).glob("*.py")}
    assert {name: list(environment_reads(tree)) for name, tree in trees.items()} == {name: [] for name in trees}
    calls = [call for tree in trees.values() for call in settings_calls(tree)]
    assert calls == ([] if directory in LIBRARIES else [directory])


def test_a_direct_environment_read_is_found() -> None:
    tree = ast.parse('import os\nTABLE = os.environ.get("TABLE", "t")\nQUEUE = os.environ["QUEUE"]\n')
    assert sorted(environment_reads(tree)) == ["'QUEUE'", "'TABLE'"]


def test_missing_settings_stop_the_cold_start_naming_every_one() -> None:
    with pytest.raises(contracts.MissingSettingError, match="AMOUNT_CEILING"):
        payments.read_settings("payment_validation", {payments.IDEMPOTENCY_TABLE: "t"})
    with pytest.raises(contracts.MissingSettingError, match="ROTATION_STRATEGY must be one of"):
        rotation.read_settings({name: "x" for name in rotation.REQUIRED_SETTINGS["secret_rotation"]})
    with pytest.raises(contracts.MissingSettingError, match="NOTIFY_TOPIC_ARN"):
        remediation.read_settings("config_remediation", {remediation.DRY_RUN: "false"})
    with pytest.raises(contracts.MissingSettingError, match="DRY_RUN must be true or false"):
        remediation.read_settings("config_remediation", {name: "x" for name in remediation.REQUIRED_SETTINGS})
    with pytest.raises(contracts.MissingSettingError, match="POWERTOOLS_METRICS_NAMESPACE"):
        log_stream.read_settings("payment_log_stream", {log_stream.SERVICE_NAME: "payment-log-stream"})


def test_the_contract_modules_import_nothing_but_the_standard_library() -> None:
    """They are packaged alone into the zips: a third-party import would fail there at cold start."""
    for module in (contracts, payments, rotation, log_stream):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names} | {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        assert imported <= {"__future__", "collections.abc", "lib.contracts"}, imported
