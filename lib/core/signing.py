"""Signed Lambda code (PCI 6.3.2, 6.5.x): only code TAP built and signed can be deployed to its functions.

Each stack has one `CodeSigning`: an AWS Signer profile, an artifacts bucket, and a Lambda code
signing config that allows that profile only and *enforces* it, so Lambda refuses any code or
layer it did not sign. Every function's reproducible zip is uploaded under a name made of its
SHA-256 and signed by a Signer job; the function deploys the signed copy of exactly those bytes.
Powertools comes as a layer TAP builds and signs the same way (`powertools.py`), since AWS's
published layer is unsigned and would be refused.

The profile's name is generated from a prefix: Signer keeps a cancelled profile's name forever,
and a destroyable environment must be re-creatable under the same suffix at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import AssetType, TerraformAsset, TerraformStack
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.lambda_code_signing_config import (
    LambdaCodeSigningConfig,
    LambdaCodeSigningConfigAllowedPublishers,
    LambdaCodeSigningConfigPolicies,
)
from cdktn_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_object import S3Object
from cdktn_provider_aws.signer_signing_job import (
    SignerSigningJob,
    SignerSigningJobDestination,
    SignerSigningJobDestinationS3,
    SignerSigningJobSource,
    SignerSigningJobSourceS3,
)
from cdktn_provider_aws.signer_signing_profile import SignerSigningProfile
from constructs import Construct

from lib.config import BucketLifecycle
from lib.core import powertools
from lib.core.bucket import SecureBucket, SecureBucketProps
from lib.core.context import BaselineContext, StackContext
from lib.core.packaging import BUILD_DIR, LambdaPackage

# AWS Signer's platform for Lambda code packages.
SIGNING_PLATFORM = "AWSLambda-SHA384-ECDSA"
# Artifacts stay: functions and layers are created from the signed copies, and a replaced or
# re-created one needs its copy (one unsigned and one signed zip per code change). Overwritten
# versions go after 90 days.
ARTIFACTS_LIFECYCLE = BucketLifecycle(noncurrent_expire_after_days=90)
_STACK_ATTRIBUTE = "_tap_code_signing"


@dataclass(frozen=True, kw_only=True)
class CodeSigningProps:
    bucket_name: str  # from Names ("s3_bucket")
    key: KmsKey  # encrypts the artifacts; used by S3 on the callers' behalf
    access_log_bucket: S3Bucket


@dataclass(frozen=True)
class SignedCode:
    """Where the signed copy of a package is: what a function or layer deploys."""

    bucket: str
    key: str


class CodeSigning(Construct):
    """`profile`, `bucket`, `config` (enforcing) and the signed `powertools_layer`.

    Functions find their stack's instance with `CodeSigning.of`; a stack has at most one.
    """

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext | BaselineContext, props: CodeSigningProps
    ) -> None:
        super().__init__(scope, construct_id)
        stack = TerraformStack.of(self)
        if getattr(stack, _STACK_ATTRIBUTE, None) is not None:
            raise ValueError("a stack has one CodeSigning; functions find it with CodeSigning.of")
        lambdas, names = context.config.lambdas, context.names
        self.bucket = SecureBucket(
            self,
            "artifacts",
            context.lifecycle,
            SecureBucketProps(
                name=props.bucket_name,
                lifecycle=ARTIFACTS_LIFECYCLE,
                kms_key=props.key,
                access_log_bucket=props.access_log_bucket,
            ),
        )
        self._key = props.key
        self.profile = SignerSigningProfile(
            self,
            "profile",
            platform_id=SIGNING_PLATFORM,
            name_prefix=names.record("signing_profile", f"{names.prefix}_{names.suffix}_".replace("-", "_")),
        )
        self.config = LambdaCodeSigningConfig(
            self,
            "config",
            description=f"{names.prefix} {names.suffix}: only code signed by this stack's profile deploys",
            allowed_publishers=LambdaCodeSigningConfigAllowedPublishers(
                signing_profile_version_arns=[self.profile.version_arn]
            ),
            policies=LambdaCodeSigningConfigPolicies(untrusted_artifact_on_deployment="Enforce"),
        )
        layer = powertools.build_layer(lambdas.runtime, lambdas.architecture, BUILD_DIR)
        signed = self.sign(self, "powertools", layer, "powertools")
        self.powertools_layer = LambdaLayerVersion(
            self,
            "powertools_layer",
            layer_name=names.make("lambda_layer", "powertools"),
            description="Powertools for AWS Lambda (Python) with parser and tracer, built from the locked release",
            s3_bucket=signed.bucket,
            s3_key=signed.key,
            source_code_hash=layer.sha256_base64,
            compatible_runtimes=[lambdas.runtime],
            compatible_architectures=[lambdas.architecture],
        )
        setattr(stack, _STACK_ATTRIBUTE, self)

    @staticmethod
    def of(scope: Construct) -> CodeSigning | None:
        """The CodeSigning of `scope`'s stack, if it has one."""
        found: CodeSigning | None = getattr(TerraformStack.of(scope), _STACK_ATTRIBUTE, None)
        return found

    def sign(self, scope: Construct, construct_id: str, package: LambdaPackage, purpose: str) -> SignedCode:
        """Upload `package` (as `<construct_id>_asset`, `_artifact`) and sign it (`_signing`) in `scope`."""
        asset = TerraformAsset(scope, f"{construct_id}_asset", path=str(package.path), type=AssetType.FILE)
        artifact = S3Object(
            scope,
            f"{construct_id}_artifact",
            bucket=self.bucket.name,
            # Named by content: new bytes are a new object and a new signing job.
            key=f"unsigned/{purpose}/{package.sha256_hex}.zip",
            source=asset.path,
            source_hash=package.sha256_base64,
            server_side_encryption="aws:kms",
            kms_key_id=self._key.arn,
            # Signing names the uploaded version: versioning must be on before the first upload.
            depends_on=[self.bucket.versioning],
        )
        job = SignerSigningJob(
            scope,
            f"{construct_id}_signing",
            profile_name=self.profile.name,
            source=SignerSigningJobSource(
                s3=SignerSigningJobSourceS3(bucket=self.bucket.name, key=artifact.key, version=artifact.version_id)
            ),
            destination=SignerSigningJobDestination(
                s3=SignerSigningJobDestinationS3(bucket=self.bucket.name, prefix=f"signed/{purpose}/")
            ),
            ignore_signing_job_failure=False,
        )
        return SignedCode(bucket=self.bucket.name, key=job.signed_object.get(0).s3.get(0).key)
