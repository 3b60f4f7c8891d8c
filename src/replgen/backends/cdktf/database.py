"""The site's Aurora cluster: subnet group, cluster parameter group, cluster and instances.

Unlike the CloudFormation template, the instance class and count are not deploy-time
knobs: the plan's values are written as they are, and the provider's allowed account
and region already keep a stack where it belongs.
"""

from __future__ import annotations

from typing import Any

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
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, skip, tags
from replgen.plan.model import Database as PlanDatabase
from replgen.plan.model import Instance, Site

DESTROYABLE = (
    "CKV_AWS_139",
    "environments must be destroyable by destroying their stacks; while it exists, the cluster "
    "keeps automated backups for its retention period instead",
)
NO_BACKUP_PLAN = (
    "CKV2_AWS_8",
    "the plan protects the cluster with RDS automated backups (point-in-time recovery for "
    "the backup retention period); it defines no AWS Backup plan",
)
NO_BACKTRACK = (
    "CKV_AWS_326",
    "the plan sets no backtrack window (neither does the CloudFormation rendering of the same "
    "plan): recovery is a point-in-time restore from automated backups; backtracking can only "
    "be chosen when the cluster is created and does not work with binlog replication",
)
STATEMENT_LOGS = ("log_statement", "log_min_duration_statement")
NO_STATEMENT_LOGS = (
    "CKV2_AWS_27",
    "the plan's cluster parameters log connections (log_connections) and force TLS; it "
    "chooses no statement logging (log_statement, log_min_duration_statement), which would "
    "write statement text, and the values in it, to the exported postgresql log",
)


class Database(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        db = site.database
        if db.global_role is not None:
            raise NotImplementedError(
                f"site {site.id}: Aurora Global Database members ({db.global_role} of "
                f"{db.global_cluster_id}) are not rendered by the CDKTF backend yet"
            )
        if not db.managed_password:
            raise NotImplementedError(
                f"site {site.id}: a master password not managed by RDS "
                "is not rendered by the CDKTF backend yet"
            )
        subnets = self._subnet_group(db)
        parameters = self._parameter_group(db)
        cluster = self._cluster(db, subnets, parameters)
        ctx.put(site, "cluster", "endpoint", cluster.endpoint)
        ctx.put(site, "cluster", "secret_arn", cluster.master_user_secret.get(0).secret_arn)
        for number, instance in enumerate(db.instances, start=1):
            self._instance(db, number, instance, cluster, subnets)

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
        key = self.ctx.key_arn(self.site)
        cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=db.cluster_id,
            engine=db.engine,
            engine_version=db.engine_version,
            database_name=db.database_name,
            port=db.port,
            master_username=db.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key,
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
            # Nothing outlives the stack: no final snapshot, no deletion protection.
            deletion_protection=False,
            skip_final_snapshot=True,
            tags=tags(db.cluster_id),
            **_scaling(db),
        )
        skip(cluster, *_cluster_skips(db))
        return cluster

    def _instance(
        self,
        db: PlanDatabase,
        number: int,
        instance: Instance,
        cluster: RdsCluster,
        subnets: DbSubnetGroup,
    ) -> None:
        key = self.ctx.key_arn(self.site)
        RdsClusterInstance(
            self,
            f"instance_{number}",
            identifier=instance.id,
            cluster_identifier=cluster.id,
            instance_class=db.instance_class,
            engine=db.engine,
            db_subnet_group_name=subnets.name,  # must be the cluster's
            monitoring_interval=db.monitoring_interval,
            monitoring_role_arn=self.ctx.role_arn(self.site, "role:monitoring"),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key,
            performance_insights_retention_period=db.performance_insights_days,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            ca_cert_identifier=db.ca_certificate,
            tags=tags(instance.id),
        )


def _cluster_skips(db: PlanDatabase) -> list[tuple[str, str]]:
    """The checks the plan's cluster fails on purpose; engine-specific ones only where they run."""
    checks = [DESTROYABLE, NO_BACKUP_PLAN]
    if db.engine == "aurora-mysql":  # checkov's backtrack check skips PostgreSQL itself
        checks.append(NO_BACKTRACK)
    names = {name for name, _ in db.cluster_parameters}
    if db.engine == "aurora-postgresql" and not names.issuperset(STATEMENT_LOGS):
        checks.append(NO_STATEMENT_LOGS)
    return checks


def _scaling(db: PlanDatabase) -> dict[str, Any]:
    if db.serverless is None:
        return {}
    low, high = db.serverless
    return {
        "serverlessv2_scaling_configuration": RdsClusterServerlessv2ScalingConfiguration(
            min_capacity=low, max_capacity=high
        )
    }
