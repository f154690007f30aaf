"""The governance tier's environment parts: AWS Backup, CloudTrail data events, Inspector's
requirement, and signed Lambda code in both stacks."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cdktn import App, TerraformStack
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.provider import AwsProvider
from cdktn_provider_aws.s3_bucket import S3Bucket
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lib.core import powertools
from lib.core.context import StackContext
from lib.core.function import FunctionProps, PythonFunction
from lib.core.powertools import LAYER_DISTRIBUTIONS, MissingWheels, build_layer
from lib.core.signing import CodeSigning, CodeSigningProps
from lib.core.tags import BACKUP_TAG
from lib.profiles import load_config
from tests.conftest import (
    PROFILE_NAMES,
    Document,
    Synthesized,
    iter_statements,
    policy,
    ref,
    resources,
    signed_artifact,
)

BACKUP_RETENTION = {
    "web-mysql": 35,
    "transactions-pg": 30,
    "secure-platform": 30,
    "portal-cdn": 7,
    "serverless-payments": 30,
    "full": 30,
}
# The stores of record each profile backs up, by construct path.
BACKED_UP = {
    "web-mysql": {"aws_rds_cluster": {"data_database_cluster"}},
    "transactions-pg": {"aws_rds_cluster": {"data_database_cluster"}, "aws_efs_file_system": {"data_file_system"}},
    "secure-platform": {"aws_rds_cluster": {"data_database_cluster"}},
    "portal-cdn": {"aws_rds_cluster": {"data_database_cluster"}},
    "serverless-payments": {
        "aws_rds_cluster": {"data_database_cluster"},
        "aws_dynamodb_table": {"data_transactions_table"},
    },
    "full": {"aws_rds_cluster": {"data_database_cluster"}, "aws_efs_file_system": {"data_file_system"}},
}
DATA_EVENT_PROFILES = {"secure-platform", "serverless-payments", "full"}


def key_for(document: Document, alias_prefix: str) -> dict[str, Any]:
    (alias,) = [a for a in resources(document, "aws_kms_alias").values() if a["name"].startswith(alias_prefix)]
    (key,) = [
        k
        for path, k in resources(document, "aws_kms_key").items()
        if alias["target_key_id"] == ref(document, "aws_kms_key", path, "key_id")
    ]
    return key


# --- AWS Backup -------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_each_profile_backs_up_its_stores_of_record_daily_for_its_documents_days(
    synthesized: Synthesized, profile: str
) -> None:
    doc = synthesized(profile)
    (plan,) = resources(doc, "aws_backup_plan").values()
    (rule,) = plan["rule"]
    assert rule["schedule"] == "cron(0 5 * * ? *)"
    assert rule["lifecycle"]["delete_after"] == BACKUP_RETENTION[profile]
    assert rule["target_vault_name"] == ref(doc, "aws_backup_vault", "governance_backup_vault", "name")
    selected = {arn for s in resources(doc, "aws_backup_selection").values() for arn in s["resources"]}
    expected = {ref(doc, kind, path, "arn") for kind, paths in BACKED_UP[profile].items() for path in paths}
    assert selected == expected
    for kind, paths in BACKED_UP[profile].items():
        for path in paths:
            assert resources(doc, kind)[path]["tags"][BACKUP_TAG] == plan["name"]


def test_a_selection_names_its_store_and_requires_the_plans_tag(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    plan = resources(doc, "aws_backup_plan")["governance_backup_plan"]
    selection = resources(doc, "aws_backup_selection")["governance_backup_transactions_selection"]
    assert selection["resources"] == [ref(doc, "aws_dynamodb_table", "data_transactions_table", "arn")]
    assert selection["condition"] == [
        {"string_equals": [{"key": f"aws:ResourceTag/{BACKUP_TAG}", "value": plan["name"]}]}
    ]
    assert selection["iam_role_arn"] == ref(doc, "aws_iam_role", "governance_backup_role", "arn")
    assert selection["plan_id"] == ref(doc, "aws_backup_plan", "governance_backup_plan")


def test_the_vault_is_encrypted_with_a_key_only_backup_uses(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    vault = resources(doc, "aws_backup_vault")["governance_backup_vault"]
    assert vault["kms_key_arn"] == ref(doc, "aws_kms_key", "governance_backup_key", "arn")
    key = resources(doc, "aws_kms_key")["governance_backup_key"]
    statements = {s["Sid"]: s for s in iter_statements(policy(key))}
    host = "backup.us-east-1.amazonaws.com"
    assert statements["UseOnlyThroughItsServices"]["Condition"]["StringEquals"]["kms:ViaService"] == host
    grants = statements["BackupGrantsForAwsResourcesOnly"]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert grants["Condition"]["StringEquals"]["kms:ViaService"] == host
    assert set(statements) == {"AccountRootManagesKey", "UseOnlyThroughItsServices", "BackupGrantsForAwsResourcesOnly"}


def test_backups_run_as_a_role_only_backup_in_this_account_assumes(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    role = resources(doc, "aws_iam_role")["governance_backup_role"]
    (trust,) = iter_statements(policy(role, "assume_role_policy"))
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "${data.aws_caller_identity.current.account_id}"
    attached = {a["policy_arn"] for p, a in resources(doc, "aws_iam_role_policy_attachment").items() if "backup" in p}
    # Backups only: restores are operators' decisions, with roles of their own.
    assert attached == {"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"}


@pytest.mark.parametrize(("protected", "locked", "force_destroy"), [("false", False, True), ("true", True, False)])
def test_the_vault_is_locked_only_in_protected_environments(
    synthesized: Synthesized, protected: str, locked: bool, force_destroy: bool
) -> None:
    doc = synthesized("full", TAP_PROTECTED=protected)
    assert resources(doc, "aws_backup_vault")["governance_backup_vault"]["force_destroy"] is force_destroy
    locks = resources(doc, "aws_backup_vault_lock_configuration")
    assert bool(locks) is locked
    if locked:
        lock = locks["governance_backup_lock"]
        assert lock["min_retention_days"] == 30
        assert lock["changeable_for_days"] == 3
        assert lock["backup_vault_name"] == ref(doc, "aws_backup_vault", "governance_backup_vault", "name")


def test_backup_can_be_turned_off_in_the_config_file(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text("[governance.backup]\nenabled = false\n")
    doc = synthesized("transactions-pg", TAP_CONFIG=str(config))
    assert not resources(doc, "aws_backup_plan")
    assert BACKUP_TAG not in resources(doc, "aws_rds_cluster")["data_database_cluster"].get("tags", {})
    # EFS then keeps its own automatic backups: never both, never neither.
    (efs_backups,) = resources(doc, "aws_efs_backup_policy").values()
    assert efs_backups["backup_policy"]["status"] == "ENABLED"


# --- CloudTrail data events -------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_data_events_are_recorded_where_the_profile_turns_them_on(synthesized: Synthesized, profile: str) -> None:
    trails = resources(synthesized(profile), "aws_cloudtrail")
    assert bool(trails) is (profile in DATA_EVENT_PROFILES)


def selectors_by_type(trail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for selector in trail["advanced_event_selector"]:
        fields = {f["field"]: f for f in selector["field_selector"]}
        assert fields["eventCategory"]["equals"] == ["Data"]
        (resource_type,) = fields["resources.type"]["equals"]
        found[resource_type] = fields["resources.ARN"]
    return found


def test_the_trail_records_exactly_the_payment_functions_tables_and_audit_bucket(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    trail = resources(doc, "aws_cloudtrail")["governance_data_events_trail"]
    selectors = selectors_by_type(trail)
    functions = {
        "payments_functions_payment_validation_function",
        "payments_functions_fraud_detection_function",
        "payments_functions_transaction_processing_function",
        "payments_functions_dead_letters_function",
        "payments_transactions_api_function",
    }
    assert set(selectors["AWS::Lambda::Function"]["equals"]) == {
        ref(doc, "aws_lambda_function", f, "arn") for f in functions
    }
    assert set(selectors["AWS::DynamoDB::Table"]["equals"]) == {
        ref(doc, "aws_dynamodb_table", t, "arn")
        for t in ("payments_functions_idempotency_table", "payments_functions_velocity_table")
    }
    bucket = ref(doc, "aws_s3_bucket", "foundation_storage_audit_logs_bucket", "arn")
    assert selectors["AWS::S3::Object"] == {"field": "resources.ARN", "starts_with": [f"{bucket}/"]}
    # Nothing else: no management events (the account trail has them), no other resource.
    assert set(selectors) == {"AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::S3::Object"}


def test_the_data_event_trail_is_validated_encrypted_and_locked(synthesized: Synthesized) -> None:
    doc = synthesized("secure-platform", TAP_PROTECTED="true")
    trail = resources(doc, "aws_cloudtrail")["governance_data_events_trail"]
    assert trail["enable_log_file_validation"] is True
    # This region's resources only: no quota taken in other regions, no global events to repeat.
    assert trail["is_multi_region_trail"] is False and trail["include_global_service_events"] is False
    assert trail["kms_key_id"] == ref(doc, "aws_kms_key", "governance_data_events_key", "arn")
    assert trail["s3_bucket_name"] == ref(doc, "aws_s3_bucket", "governance_data_events_bucket", "bucket")
    lock = resources(doc, "aws_s3_bucket_object_lock_configuration")["governance_data_events_bucket_object_lock"]
    assert lock["rule"]["default_retention"] == {"mode": "COMPLIANCE", "days": 365}
    assert trail["cloud_watch_logs_group_arn"].startswith(
        ref(doc, "aws_cloudwatch_log_group", "governance_data_events_log_group", "arn")
    )
    # 002 records payments in the ledger (no CloudTrail data events) and has no audit-log bucket.
    assert set(selectors_by_type(trail)) == {"AWS::Lambda::Function", "AWS::DynamoDB::Table"}
    key = resources(doc, "aws_kms_key")["governance_data_events_key"]
    statements = {s["Sid"]: s for s in iter_statements(policy(key))}
    trail_arn = "arn:aws:cloudtrail:us-east-1:${data.aws_caller_identity.current.account_id}:trail/pay-data-events-qa1"
    assert statements["CloudTrailEncryptsThisTrailsLogs"]["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn


# --- Inspector --------------------------------------------------------------------------------


def test_the_baseline_enables_inspector_for_instances_and_functions(synthesized: Synthesized) -> None:
    (enabler,) = resources(synthesized.baseline("full"), "aws_inspector2_enabler").values()
    assert enabler["resource_types"] == ["EC2", "LAMBDA"]
    assert enabler["account_ids"] == ["${data.aws_caller_identity.current.account_id}"]


def test_inspector_can_be_left_out_of_a_baseline_no_environment_requires_it(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    config = tmp_path / "account.toml"
    config.write_text("[baseline]\ninspector = false\n")
    assert not resources(synthesized.baseline("web-mysql", TAP_CONFIG=str(config)), "aws_inspector2_enabler")


# --- Signed Lambda code -----------------------------------------------------------------------


def stacks(synthesized: Synthesized, profile: str) -> list[tuple[Document, Path]]:
    """Both stacks' documents, each with its directory (asset paths are relative to it)."""
    result, doc = synthesized.result(profile)
    return [(doc, result.output_file.parent), (synthesized.baseline(profile), result.baseline_file.parent)]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_function_deploys_signed_code_under_an_enforcing_config(synthesized: Synthesized, profile: str) -> None:
    for doc, _ in stacks(synthesized, profile):
        ((config_path, config),) = resources(doc, "aws_lambda_code_signing_config").items()
        assert config["policies"] == {"untrusted_artifact_on_deployment": "Enforce"}
        profile_path = next(iter(resources(doc, "aws_signer_signing_profile")))
        assert config["allowed_publishers"]["signing_profile_version_arns"] == [
            ref(doc, "aws_signer_signing_profile", profile_path, "version_arn")
        ]
        (layer_path,) = resources(doc, "aws_lambda_layer_version")
        functions = resources(doc, "aws_lambda_function")
        assert functions
        for function in functions.values():
            assert function["code_signing_config_arn"] == ref(doc, "aws_lambda_code_signing_config", config_path, "arn")
            assert function["layers"] == [ref(doc, "aws_lambda_layer_version", layer_path, "arn")]
            assert "filename" not in function
            assert function["s3_key"].startswith("${aws_signer_signing_job.")
            assert function["s3_key"].endswith(".signed_object[0].s3[0].key}")


@pytest.mark.parametrize("profile", ["full", "web-mysql"])
def test_the_signature_is_over_the_reproducible_zip_each_function_names(synthesized: Synthesized, profile: str) -> None:
    for doc, stack_dir in stacks(synthesized, profile):
        for function in resources(doc, "aws_lambda_function").values():
            job, artifact = signed_artifact(doc, function)
            data = (stack_dir / artifact["source"]).read_bytes()
            digest = hashlib.sha256(data).digest()
            assert base64.b64encode(digest).decode() == function["source_code_hash"] == artifact["source_hash"]
            assert artifact["key"].endswith(f"/{digest.hex()}.zip")
            assert artifact["server_side_encryption"] == "aws:kms"
            assert job["source"]["s3"]["version"] == job["source"]["s3"]["key"].replace(".key}", ".version_id}")
            assert job["ignore_signing_job_failure"] is False
            # Signing names the uploaded version: versioning must be on before the upload.
            assert [d for d in artifact["depends_on"] if d.startswith("aws_s3_bucket_versioning.")]


def test_the_layer_is_the_locked_powertools_release_for_the_functions_platform(synthesized: Synthesized) -> None:
    result, doc = synthesized.result("full")
    (layer,) = resources(doc, "aws_lambda_layer_version").values()
    assert layer["compatible_runtimes"] == ["python3.13"] and layer["compatible_architectures"] == ["x86_64"]
    artifact = resources(doc, "aws_s3_object")["foundation_code_signing_powertools_artifact"]
    names = zipfile.ZipFile(result.output_file.parent / artifact["source"]).namelist()
    version = importlib.metadata.version("aws-lambda-powertools")
    assert f"python/aws_lambda_powertools-{version}.dist-info/METADATA" in names
    assert any(n.startswith("python/pydantic_core/") and n.endswith("-x86_64-linux-gnu.so") for n in names)
    assert not any(n.endswith(".pyc") or n.startswith(("python/boto3/", "python/botocore/")) for n in names)


def test_an_arm64_configuration_gets_an_arm64_layer(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('[lambdas]\narchitecture = "arm64"\n')
    result, doc = synthesized.result("web-mysql", TAP_CONFIG=str(config))
    artifact = resources(doc, "aws_s3_object")["foundation_code_signing_powertools_artifact"]
    names = zipfile.ZipFile(result.output_file.parent / artifact["source"]).namelist()
    assert any(n.startswith("python/pydantic_core/") and n.endswith("-aarch64-linux-gnu.so") for n in names)


def test_with_code_signing_off_functions_use_the_zip_and_aws_published_layer(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    config = tmp_path / "env.toml"
    config.write_text("[lambdas]\ncode_signing = false\n")
    doc = synthesized("web-mysql", TAP_CONFIG=str(config))
    assert not resources(doc, "aws_lambda_code_signing_config")
    (function,) = resources(doc, "aws_lambda_function").values()
    assert function["filename"].startswith("assets/") and "code_signing_config_arn" not in function
    assert ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:" in function["layers"][0]


def runtime_closure() -> set[str]:
    """`aws-lambda-powertools[parser,tracer]` and its dependencies on Lambda's Python 3.13, but boto3/botocore."""
    environment = {"python_version": "3.13", "python_full_version": "3.13.0", "sys_platform": "linux"}
    seen: set[str] = set()
    pending: list[tuple[str, set[str]]] = [("aws-lambda-powertools", {"parser", "tracer"})]
    while pending:
        name, extras = pending.pop()
        normalized = canonicalize_name(name)
        if normalized in seen or normalized in {"boto3", "botocore"}:
            continue
        seen.add(normalized)
        for text in importlib.metadata.requires(normalized) or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras or {""}
            )
            if wanted:
                pending.append((requirement.name, set(requirement.extras)))
    return seen


def test_the_layer_ships_exactly_what_powertools_needs_beyond_the_runtime() -> None:
    assert set(LAYER_DISTRIBUTIONS) == runtime_closure()


def test_a_missing_wheel_stops_synthesis_with_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(powertools, "WHEELHOUSE", tmp_path)
    with pytest.raises(MissingWheels, match=r"aws-lambda-powertools .* `make` fetches them"):
        build_layer("python3.13", "x86_64", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_second_code_signing_in_one_stack_is_refused() -> None:
    stack = TerraformStack(App(), "probe")
    AwsProvider(stack, "aws", region="us-east-1")
    context = StackContext.of(load_config({"TAP_PROFILE": "web-mysql"}), account_id="123456789012")
    props = CodeSigningProps(
        bucket_name="probe-code", key=KmsKey(stack, "key"), access_log_bucket=S3Bucket(stack, "logs")
    )
    CodeSigning(stack, "first", context, props)
    with pytest.raises(ValueError, match="a stack has one CodeSigning"):
        CodeSigning(stack, "second", context, props)


def test_a_signed_function_in_a_stack_without_code_signing_is_refused() -> None:
    stack = TerraformStack(App(), "probe")
    AwsProvider(stack, "aws", region="us-east-1")
    context = StackContext.of(load_config({"TAP_PROFILE": "web-mysql"}), account_id="123456789012")
    key = KmsKey(stack, "key")
    props = FunctionProps(
        purpose="probe",
        description="probe",
        handler="app.handler",
        source_dirs=["secret_rotation"],
        reserved_concurrency=1,
        placement=None,
        environment_key=key,
        logs_key=key,
    )
    with pytest.raises(ValueError, match="code signing is on, but its stack has no CodeSigning"):
        PythonFunction(stack, "probe", context, props)
