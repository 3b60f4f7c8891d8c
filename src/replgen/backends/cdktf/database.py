"""The site's Aurora cluster: subnet group, cluster parameter group, cluster and instances;
for an Aurora Global Database, the global cluster and the primary's master secret.

Unlike the CloudFormation template, the instance class and count are not deploy-time
knobs: the plan's values are written as they are, and the provider's allowed account
and region already keep a stack where it belongs.

RDS cannot manage the master password of a Global Database member, so the primary's is
generated into a secret of its own (replicated, with their keys, to the secondaries'
regions) and rotated by AWS's hosted rotation function; a secondary has no master user.

That password never lands in Terraform's state or plan: an ephemeral resource generates it
during the apply, and the cluster and the secret's first version take it through write-only
arguments (`master_password_wo`, `secret_string_wo`: AWS provider 6, Terraform 1.11+).
Their `_wo_version` stays 1, so later applies send nothing and rotation owns the value.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.rds_cluster import (
    RdsCluster,
    RdsClusterServerlessv2ScalingConfiguration,
)
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from cdktf_cdktf_provider_aws.secretsmanager_secret import (
    SecretsmanagerSecret,
    SecretsmanagerSecretReplica,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.serverlessapplicationrepository_cloudformation_stack import (
    ServerlessapplicationrepositoryCloudformationStack,
)
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, kept, skip, snake, tags
from replgen.plan.model import Database as PlanDatabase
from replgen.plan.model import Instance, MasterSecret, Site

# The provider's ephemeral resource (cdktf 0.21 has no construct for ephemeral blocks).
EPHEMERAL_PASSWORD = "aws_secretsmanager_random_password"
WRITE_ONLY_VERSION = 1  # bump to send a new value; rotation owns it after the first
# What the rotation function reads from the secret: connection details besides the
# credentials (CloudFormation's SecretTargetAttachment writes the same keys).
SECRET_ENGINE = {"aurora-postgresql": "postgres", "aurora-mysql": "mysql"}
DESTROYABLE_SECRET_DAYS = 7  # the shortest recovery window: a destroyed stack frees it soon


class Database(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        db = site.database
        subnets = self._subnet_group(db)
        parameters = self._parameter_group(db)
        self.password: str | None = None  # the ephemeral password's Terraform reference
        if db.secret is not None:
            self.password = self._password(db.secret)
        cluster = self._cluster(db, subnets, parameters)
        ctx.keep(site, "cluster", cluster)
        ctx.put(site, "cluster", "arn", cluster.arn)
        ctx.put(site, "cluster", "endpoint", cluster.endpoint)
        ctx.put(site, "cluster", "resource_id", cluster.cluster_resource_id)
        if db.managed_password:
            ctx.put(site, "cluster", "secret_arn", cluster.master_user_secret.get(0).secret_arn)
        instances = [
            self._instance(db, number, instance, cluster, subnets)
            for number, instance in enumerate(db.instances, start=1)
        ]
        if db.secret is not None:
            secret = self._secret(db, db.secret, cluster, instances)
            ctx.put(site, "cluster", "secret_arn", secret.arn)

    def _subnet_group(self, db: PlanDatabase) -> DbSubnetGroup:
        return DbSubnetGroup(
            self,
            "subnet_group",
            name=db.subnet_group,
            description=f"Private subnets of {db.cluster_id}",
            subnet_ids=[s.id for s in self.ctx.get(self.site, "subnets:private")],
            tags=tags(db.subnet_group),
        )

    def _parameter_group(self, db: PlanDatabase) -> RdsClusterParameterGroup:
        return RdsClusterParameterGroup(
            self,
            "cluster_parameter_group",
            name=db.parameter_group,
            description=f"Cluster parameters of {db.cluster_id}",
            family=db.parameter_family,
            parameter=[
                RdsClusterParameterGroupParameter(name=name, value=value)
                for name, value in db.cluster_parameters
            ],
            tags=tags(db.parameter_group),
        )

    def _cluster(
        self, db: PlanDatabase, subnets: DbSubnetGroup, parameters: RdsClusterParameterGroup
    ) -> RdsCluster:
        key = self.ctx.value(db.kms_key)
        cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=db.cluster_id,
            engine=db.engine,
            engine_version=db.engine_version,
            port=db.port,
            storage_encrypted=True,
            kms_key_id=key,
            backup_retention_period=db.backup_retention_days,
            preferred_backup_window=db.backup_window,
            preferred_maintenance_window=db.maintenance_window,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=list(db.log_exports),
            copy_tags_to_snapshot=True,
            db_subnet_group_name=subnets.name,
            db_cluster_parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.ctx.get(self.site, "sg:database").id],
            # Protected: deletion refused, and a final snapshot named by the plan.
            deletion_protection=self.site.deletion_protection,
            skip_final_snapshot=db.final_snapshot is None,
            final_snapshot_identifier=db.final_snapshot,
            tags=tags(db.cluster_id),
            **self._credentials(db),
            **self._global(db),
            **_scaling(db),
            **kept(self.site, _changed_elsewhere(db)),
        )
        skip(cluster, db.waivers)
        return cluster

    def _credentials(self, db: PlanDatabase) -> dict[str, Any]:
        """RDS's own secret; the generated password of a primary; nothing for a secondary,
        which takes the global cluster's database and master user."""
        if db.managed_password:
            return {
                "database_name": db.database_name,
                "master_username": db.master_username,
                "manage_master_user_password": True,
                "master_user_secret_kms_key_id": self.ctx.value(db.kms_key),
            }
        if self.password is None:
            return {}
        return {
            "database_name": db.database_name,
            "master_username": db.master_username,
            "master_password_wo": f"${{{self.password}}}",
            "master_password_wo_version": WRITE_ONLY_VERSION,
        }

    def _global(self, db: PlanDatabase) -> dict[str, Any]:
        if db.global_role == "primary":
            assert db.global_cluster_id is not None
            global_cluster = RdsGlobalCluster(
                self,
                "global_cluster",
                global_cluster_identifier=db.global_cluster_id,
                engine=db.engine,
                engine_version=db.engine_version,
                storage_encrypted=True,
                deletion_protection=self.site.deletion_protection,
                **kept(self.site),
            )
            self.ctx.put(self.site, "global_cluster", "id", global_cluster.id)
            return {"global_cluster_identifier": global_cluster.id}
        if db.global_role == "secondary":
            assert db.global_cluster is not None
            return {"global_cluster_identifier": self.ctx.ref(db.global_cluster)}
        return {}

    # ------------------------------------------------------------ the primary's master secret

    def _password(self, secret: MasterSecret) -> str:
        """An ephemeral block: opened during each plan and apply, stored in neither; both of
        its uses receive the apply's one value through write-only arguments."""
        name = snake(self.site.slug, "master_password")
        # No `required_version` pins Terraform 1.11 here: checkov's Terraform JSON parser
        # fails on a string in the `terraform` block. An older Terraform refuses the
        # ephemeral block (before 1.10) or the write-only arguments; it stores nothing.
        TerraformStack.of(self).add_override(
            f"ephemeral.{EPHEMERAL_PASSWORD}.{name}",
            {
                "password_length": secret.password_length,
                "exclude_characters": secret.exclude_characters,
            },
        )
        return f"ephemeral.{EPHEMERAL_PASSWORD}.{name}.random_password"

    def _secret(
        self,
        db: PlanDatabase,
        plan_secret: MasterSecret,
        cluster: RdsCluster,
        instances: list[RdsClusterInstance],
    ) -> SecretsmanagerSecret:
        key = self.ctx.value(plan_secret.kms_key)
        secret = SecretsmanagerSecret(
            self,
            "master_secret",
            name=plan_secret.name,
            description=plan_secret.description,
            kms_key_id=key,
            recovery_window_in_days=DESTROYABLE_SECRET_DAYS,
            replica=[
                SecretsmanagerSecretReplica(region=region, kms_key_id=self.ctx.ref(replica_key))
                for region, replica_key in plan_secret.replicas
            ],
            tags=tags(plan_secret.name),
        )
        assert self.password is not None
        literals = {
            "engine": SECRET_ENGINE[db.engine],
            "port": db.port,
            "dbname": db.database_name,
            "dbClusterIdentifier": db.cluster_id,
            "username": plan_secret.username,
        }
        # An HCL object: the host is the cluster's attribute and the password the ephemeral
        # value, both Terraform expressions; the rest are the plan's literals (identifiers
        # the spec's patterns keep free of quotes and interpolations), JSON-quoted.
        fields = [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(literals.items())]
        fields += [f'"host" = {cluster.endpoint}', f'"password" = {self.password}']
        version = SecretsmanagerSecretVersion(
            self,
            "master_secret_version",
            secret_id=secret.id,
            secret_string_wo=f"${{jsonencode({{{', '.join(fields)}}})}}",
            secret_string_wo_version=WRITE_ONLY_VERSION,
        )
        self._rotation(plan_secret, secret, [version, *instances], key)
        return secret

    def _rotation(
        self,
        plan_secret: MasterSecret,
        secret: SecretsmanagerSecret,
        first: list[Any],
        key: Any,
    ) -> None:
        """AWS's hosted rotation function, in the private subnets with the plan's security
        group (it reaches the cluster and the Secrets Manager endpoint); the app also grants
        Secrets Manager the right to invoke it."""
        app = ServerlessapplicationrepositoryCloudformationStack(
            self,
            "rotation_app",
            name=plan_secret.rotation_function,
            application_id=plan_secret.rotation_app,
            semantic_version=plan_secret.rotation_version,
            capabilities=["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
            parameters={
                "endpoint": f"https://secretsmanager.{self.site.region}.amazonaws.com",
                "functionName": plan_secret.rotation_function,
                "vpcSubnetIds": ",".join(s.id for s in self.ctx.get(self.site, "subnets:private")),
                "vpcSecurityGroupIds": self.ctx.get(
                    self.site, f"sg:{plan_secret.security_group}"
                ).id,
                "kmsKeyArn": key,
                "excludeCharacters": plan_secret.exclude_characters,
            },
            tags=tags(plan_secret.rotation_function),
        )
        SecretsmanagerSecretRotation(
            self,
            "master_secret_rotation",
            secret_id=secret.id,
            rotation_lambda_arn=app.outputs.lookup("RotationLambdaARN"),
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=plan_secret.rotation_days
            ),
            # The first rotation runs at once: it reads the host from the secret's version
            # and must find an instance answering there.
            depends_on=first,
        )

    def _instance(
        self,
        db: PlanDatabase,
        number: int,
        instance: Instance,
        cluster: RdsCluster,
        subnets: DbSubnetGroup,
    ) -> RdsClusterInstance:
        key = self.ctx.value(db.kms_key)
        return RdsClusterInstance(
            self,
            f"instance_{number}",
            identifier=instance.id,
            cluster_identifier=cluster.id,
            instance_class=db.instance_class,
            engine=db.engine,
            db_subnet_group_name=subnets.name,  # must be the cluster's
            monitoring_interval=db.monitoring_interval,
            monitoring_role_arn=self.ctx.role_arn(self.site, db.monitoring_role),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key,
            performance_insights_retention_period=db.performance_insights_days,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            ca_cert_identifier=db.ca_certificate,
            tags=tags(instance.id),
        )


def _changed_elsewhere(db: PlanDatabase) -> list[str]:
    """What changes outside Terraform, so a plan must not undo it: a failover changes which
    member replicates from which. (Rotation changes the password, which Terraform writes only
    when its write-only version changes.)"""
    fields = []
    if db.global_role is not None:
        fields.append("replication_source_identifier")
    return fields


def _scaling(db: PlanDatabase) -> dict[str, Any]:
    if db.serverless is None:
        return {}
    low, high = db.serverless
    return {
        "serverlessv2_scaling_configuration": RdsClusterServerlessv2ScalingConfiguration(
            min_capacity=low, max_capacity=high
        )
    }
