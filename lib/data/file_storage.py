"""EFS (document 001): encrypted with its CMK, a mount target per private subnet, IA after 30 days,
TLS-only access by file-system policy, one access point for the application, backups on: AWS
Backup's plan when the environment has one, otherwise EFS's own automatic backups (never both,
which would keep a second, unlocked copy that outlives a destroyed environment)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktn_provider_aws.efs_access_point import (
    EfsAccessPoint,
    EfsAccessPointPosixUser,
    EfsAccessPointRootDirectory,
    EfsAccessPointRootDirectoryCreationInfo,
)
from cdktn_provider_aws.efs_backup_policy import EfsBackupPolicy, EfsBackupPolicyBackupPolicy
from cdktn_provider_aws.efs_file_system import EfsFileSystem, EfsFileSystemLifecyclePolicy
from cdktn_provider_aws.efs_file_system_policy import EfsFileSystemPolicy
from cdktn_provider_aws.efs_mount_target import EfsMountTarget
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import FileSystemConfig
from lib.core.context import StackContext
from lib.core.policies import deny_insecure_transport, policy_document
from lib.core.security_groups import GuardedStore, workload_security_group

NFS = 2049


@dataclass(frozen=True, kw_only=True)
class FileSystemProps:
    config: FileSystemConfig
    vpc_id: str
    subnet_ids: Sequence[str]
    efs_key: KmsKey


class SharedFileSystem(GuardedStore):
    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: FileSystemProps) -> None:
        super().__init__(scope, construct_id)
        config, names = props.config, context.names
        self.port = NFS
        self.security_group = workload_security_group(
            self,
            "security_group",
            names=names,
            vpc_id=props.vpc_id,
            purpose="efs",
            description="EFS: NFS from admitted security groups only",
        )
        self.file_system = EfsFileSystem(
            self,
            "file_system",
            encrypted=True,
            kms_key_id=props.efs_key.arn,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            lifecycle_policy=[EfsFileSystemLifecyclePolicy(transition_to_ia=config.transition_to_ia)],
            tags={"Name": names.make("vpc_resource", "efs")},
        )
        for index, subnet_id in enumerate(props.subnet_ids):
            EfsMountTarget(
                self,
                f"mount_target_{index}",
                file_system_id=self.file_system.id,
                subnet_id=subnet_id,
                security_groups=[self.security_group.id],
            )
        EfsFileSystemPolicy(
            self,
            "tls_only",
            file_system_id=self.file_system.id,
            policy=json.dumps(policy_document([deny_insecure_transport("*", [self.file_system.arn])])),
        )
        self.access_point = EfsAccessPoint(
            self,
            "access_point",
            file_system_id=self.file_system.id,
            posix_user=EfsAccessPointPosixUser(uid=config.posix_uid, gid=config.posix_gid),
            root_directory=EfsAccessPointRootDirectory(
                path=config.access_point_path,
                creation_info=EfsAccessPointRootDirectoryCreationInfo(
                    owner_uid=config.posix_uid, owner_gid=config.posix_gid, permissions="750"
                ),
            ),
            tags={"Name": names.make("vpc_resource", "efs-app")},
        )
        EfsBackupPolicy(
            self,
            "backups",
            file_system_id=self.file_system.id,
            backup_policy=EfsBackupPolicyBackupPolicy(
                status="DISABLED" if context.config.governance.backup.enabled else "ENABLED"
            ),
        )
