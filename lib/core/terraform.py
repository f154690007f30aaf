"""What every TAP stack declares to Terraform: the AWS provider, its tags, the backend and the version.

Each stack has its own state: the S3 key (or local file) names the stack and, for environments,
the profile, so two profiles deployed with one suffix never share state.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktn import LocalBackend, S3Backend, TerraformResource, TerraformStack
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.config import BackendConfig

# Native S3 locking (`use_lockfile`, 1.10) and write-only attributes (secrets kept out of state, 1.11).
REQUIRED_VERSION = ">= 1.11.0"
# What cdktn checks its own output against; also in cdktf.json.
TARGET_VERSIONS = {"terraform": ">=1.11.0", "opentofu": ">=1.11.0"}


def state_key(stack_name: str, *scope: str) -> str:
    """`<scope...>/<stack>.tfstate`, the same relative path for the S3 key and the local file."""
    return "/".join([*scope, f"{stack_name}.tfstate"])


# Terraform runs in cdktf.out/stacks/<stack>/; every synthesis replaces cdktf.out/, so local state
# lives three levels up, at the project root next to cdktf.json (and is git-ignored there).
LOCAL_STATE_DIR = "../../.."


def local_state_path(key: str) -> str:
    """`../../../terraform.<key with dots>`: outside the output that the next synthesis replaces."""
    return f"{LOCAL_STATE_DIR}/terraform.{key.replace('/', '.')}"


def declare(stack: TerraformStack, *, region: str, tags: dict[str, str], backend: BackendConfig, key: str) -> None:
    """Provider with default tags, the stack's own state, and the Terraform version it needs."""
    AwsProvider(stack, "aws", region=region, default_tags=[AwsProviderDefaultTags(tags=tags)])
    if backend.state_bucket is None:
        LocalBackend(stack, path=local_state_path(key))
    else:
        S3Backend(
            stack,
            bucket=backend.state_bucket,
            key=key,
            region=backend.state_bucket_region,
            encrypt=True,
            use_lockfile=True,
        )
    stack.add_override("terraform.required_version", REQUIRED_VERSION)


def adopt(resource: TerraformResource, import_id: str) -> None:
    """Takes over an existing resource with a Terraform import, and never destroys it: TAP did not
    create it (a destroyable baseline's teardown must not delete an account's detector)."""
    resource.import_from(import_id)
    resource.add_override("lifecycle.prevent_destroy", True)


def tag_resources(scope: Construct, tags: Mapping[str, str]) -> None:
    """`tags` on every taggable resource under `scope`, next to the provider's default tags."""
    for node in scope.node.find_all():
        if isinstance(node, TerraformResource) and hasattr(type(node), "tags_input"):
            for key, value in tags.items():
                node.add_override(f"tags.{key}", value)


# CloudFront, its certificates and web ACLs, DNSSEC keys, and CloudFront's and Route 53's metrics
# live in us-east-1.
US_EAST_1 = "us-east-1"


def us_east_1(scope: Construct, tags: Mapping[str, str]) -> AwsProvider:
    """The stack's aliased provider for us-east-1: one per stack, whichever tier asks first."""
    stack = TerraformStack.of(scope)
    existing = stack.node.try_find_child("us_east_1")
    if isinstance(existing, AwsProvider):
        return existing
    return AwsProvider(
        stack, "us_east_1", alias="us_east_1", region=US_EAST_1, default_tags=[AwsProviderDefaultTags(tags=dict(tags))]
    )
