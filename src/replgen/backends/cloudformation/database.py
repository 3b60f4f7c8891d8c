"""The site's Aurora cluster: subnet group, cluster parameter group, cluster and instances;
for a Global Database, the global cluster and the primary's rotated, replicated secret.

Per-stack knobs an operator may turn without recompiling (instance class, how many of
the plan's instances exist) are template Parameters; the backup retention comes from a
Mapping keyed by the site's region, so a template deployed into another region fails
at FindInMap instead of building a cluster there.
"""

from __future__ import annotations

import json
from typing import Any

import troposphere as t
from troposphere import rds, secretsmanager

from replgen.backends.cloudformation.context import Ctx, on_delete, skipped, tags
from replgen.plan.model import Database, Instance, MasterSecret, Site

MAX_OR = 10  # Fn::Or takes at most ten conditions
# The plan rotates with AWS's single-user rotation function of the engine; CloudFormation's
# hosted rotation (the SecretsManager transform) deploys that same app under this name.
HOSTED_ROTATION = {"aurora-postgresql": "PostgreSQLSingleUser", "aurora-mysql": "MySQLSingleUser"}


def render(ctx: Ctx, site: Site) -> None:
    db = site.database
    _subnet_group(ctx, site, db)
    _parameter_group(ctx, site, db)
    if db.global_role == "primary":
        _global_cluster(ctx, site, db)
    _cluster(ctx, site, db)
    if db.secret is not None:
        _secret(ctx, site, db, db.secret)
    instance_class = _instance_class_parameter(ctx, site, db)
    conditions = _instance_conditions(ctx, site, db)
    for number, instance in enumerate(db.instances, start=1):
        _instance(ctx, site, db, number, instance, instance_class, conditions.get(number))


def _subnet_group(ctx: Ctx, site: Site, db: Database) -> None:
    ctx.add(
        rds.DBSubnetGroup(
            ctx.lid(site, "DbSubnetGroup"),
            DBSubnetGroupName=db.subnet_group,
            DBSubnetGroupDescription=f"Private subnets of {db.cluster_id}",
            SubnetIds=ctx.subnet_ids(site),
            Tags=tags(ctx.plan, db.subnet_group),
        )
    )


def _parameter_group(ctx: Ctx, site: Site, db: Database) -> None:
    ctx.add(
        rds.DBClusterParameterGroup(
            ctx.lid(site, "ClusterParameterGroup"),
            DBClusterParameterGroupName=db.parameter_group,
            Description=f"Cluster parameters of {db.cluster_id}",
            Family=db.parameter_family,
            Parameters=dict(db.cluster_parameters),
            Tags=tags(ctx.plan, db.parameter_group),
        )
    )


def _backup_retention(ctx: Ctx, site: Site, db: Database) -> Any:
    mapping = ctx.lid(site, "DatabaseSettings")
    ctx.template.add_mapping(
        mapping, {site.region: {"BackupRetentionDays": db.backup_retention_days}}
    )
    return t.FindInMap(mapping, t.Ref("AWS::Region"), "BackupRetentionDays")


def _credentials(ctx: Ctx, site: Site, db: Database) -> dict[str, Any]:
    """Database, master user and password, or for a secondary, the global cluster it joins."""
    if db.global_role == "secondary":
        # A secondary replicates the primary's database, users and passwords.
        assert db.global_cluster is not None  # the plan names it for every secondary
        return {"GlobalClusterIdentifier": ctx.ref(db.global_cluster, site)}
    credentials: dict[str, Any] = {
        "DatabaseName": db.database_name,
        "MasterUsername": db.master_username,
    }
    if db.global_role == "primary":
        credentials["GlobalClusterIdentifier"] = t.Ref(ctx.lid(site, "GlobalCluster"))
    if db.secret is not None:
        # A dynamic reference: CloudFormation reads the generated password at deploy time.
        secret = t.Ref(ctx.lid(site, "MasterSecret"))
        reference = ["{{resolve:secretsmanager:", secret, ":SecretString:password}}"]
        credentials["MasterUserPassword"] = ctx.sub(reference)
    elif db.managed_password:
        credentials["ManageMasterUserPassword"] = True
        key = ctx.value(db.kms_key, site)
        credentials["MasterUserSecret"] = rds.MasterUserSecret(KmsKeyId=key)
    return credentials


def _scaling(db: Database) -> dict[str, Any]:
    if db.serverless is None:
        return {}
    low, high = db.serverless
    return {
        "ServerlessV2ScalingConfiguration": rds.ServerlessV2ScalingConfiguration(
            MinCapacity=low, MaxCapacity=high
        )
    }


def _cluster(ctx: Ctx, site: Site, db: Database) -> None:
    ctx.add(
        rds.DBCluster(
            ctx.lid(site, "Cluster"),
            DBClusterIdentifier=db.cluster_id,
            Engine=db.engine,
            EngineVersion=db.engine_version,
            Port=db.port,
            StorageEncrypted=True,
            KmsKeyId=ctx.value(db.kms_key, site),
            BackupRetentionPeriod=_backup_retention(ctx, site, db),
            PreferredBackupWindow=db.backup_window,
            PreferredMaintenanceWindow=db.maintenance_window,
            DeletionProtection=site.deletion_protection,
            EnableIAMDatabaseAuthentication=True,
            EnableCloudwatchLogsExports=list(db.log_exports),
            CopyTagsToSnapshot=True,
            DBSubnetGroupName=t.Ref(ctx.lid(site, "DbSubnetGroup")),
            DBClusterParameterGroupName=t.Ref(ctx.lid(site, "ClusterParameterGroup")),
            VpcSecurityGroupIds=[ctx.security_group(site, "database")],
            Tags=tags(ctx.plan, db.cluster_id),
            # Protected: a final snapshot on delete or replacement; else nothing outlives it.
            **on_delete(site, "Snapshot"),
            **skipped(db.waivers),
            **_credentials(ctx, site, db),
            **_scaling(db),
        )
    )


# ---------------------------------------------------------------- Global Database


def _global_cluster(ctx: Ctx, site: Site, db: Database) -> None:
    assert db.global_cluster_id is not None  # the plan names it for every member
    ctx.add(
        rds.GlobalCluster(
            ctx.lid(site, "GlobalCluster"),
            GlobalClusterIdentifier=db.global_cluster_id,
            Engine=db.engine,
            EngineVersion=db.engine_version,
            StorageEncrypted=True,
            DeletionProtection=site.deletion_protection,
            Tags=tags(ctx.plan, db.global_cluster_id),
            # CloudFormation snapshots no global cluster: its members' snapshots hold the data.
            **on_delete(site),
        )
    )


def _secret(ctx: Ctx, site: Site, db: Database, secret: MasterSecret) -> None:
    lid = ctx.lid(site, "MasterSecret")
    ctx.add(
        secretsmanager.Secret(
            lid,
            Name=secret.name,
            Description=secret.description,
            KmsKeyId=ctx.value(secret.kms_key, site),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=json.dumps({"username": secret.username}),
                GenerateStringKey="password",
                ExcludeCharacters=secret.exclude_characters,
                PasswordLength=secret.password_length,
            ),
            # Each secondary region reads its replica, encrypted with its own key.
            ReplicaRegions=[
                secretsmanager.ReplicaRegion(Region=region, KmsKeyId=ctx.ref(key, site))
                for region, key in secret.replicas
            ],
            Tags=tags(ctx.plan, secret.name),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
    # Host, port and engine written into the secret: what the rotation function connects to.
    attachment = ctx.lid(site, "MasterSecretAttachment")
    ctx.add(
        secretsmanager.SecretTargetAttachment(
            attachment,
            SecretId=t.Ref(lid),
            TargetId=t.Ref(ctx.lid(site, "Cluster")),
            TargetType="AWS::RDS::DBCluster",
        )
    )
    ctx.add(
        secretsmanager.RotationSchedule(
            ctx.lid(site, "MasterSecretRotation"),
            SecretId=t.Ref(lid),
            HostedRotationLambda=secretsmanager.HostedRotationLambda(
                RotationType=HOSTED_ROTATION[db.engine],
                RotationLambdaName=secret.rotation_function,
                # Comma-separated strings, not lists: the transform's own format.
                VpcSubnetIds=t.Join(",", ctx.subnet_ids(site)),
                VpcSecurityGroupIds=ctx.security_group(site, secret.security_group),
                KmsKeyArn=ctx.value(secret.kms_key, site),
                ExcludeCharacters=secret.exclude_characters,
            ),
            RotationRules=secretsmanager.RotationRules(AutomaticallyAfterDays=secret.rotation_days),
            # The first rotation runs at once and must find the database answering:
            # the attachment gives it the host, the first instance answers there.
            DependsOn=[attachment, ctx.lid(site, "DatabaseInstance", "1")],
        )
    )


# ---------------------------------------------------------------- instances


def _instance_class_parameter(ctx: Ctx, site: Site, db: Database) -> t.Ref:
    name = ctx.lid(site, "DatabaseInstanceClass")
    ctx.template.add_parameter(
        t.Parameter(
            name,
            Type="String",
            Default=db.instance_class,
            AllowedPattern=r"^db\.[a-z0-9-]+(\.[a-z0-9-]+)?$",
            Description=f"Instance class of every instance of {db.cluster_id}",
        )
    )
    return t.Ref(name)


def _instance_conditions(ctx: Ctx, site: Site, db: Database) -> dict[int, str]:
    """Instance k (k >= 2) exists when the instance-count parameter is >= k.

    With a single instance there is nothing to scale down, so no parameter (it would be
    unused); the first instance, the writer, always exists.
    """
    count = len(db.instances)
    if count < 2:
        return {}
    parameter = ctx.lid(site, "DatabaseInstances")
    ctx.template.add_parameter(
        t.Parameter(
            parameter,
            Type="String",
            Default=str(count),
            AllowedValues=[str(n) for n in range(1, count + 1)],
            Description=f"How many of the {count} instances of {db.cluster_id} to run",
        )
    )
    conditions = {}
    for k in range(2, count + 1):
        name = ctx.lid(site, "DatabaseInstance", str(k), "Enabled")
        equals = [t.Equals(t.Ref(parameter), str(n)) for n in range(k, count + 1)]
        ctx.template.add_condition(name, _any(equals))
        conditions[k] = name
    return conditions


def _any(conditions: list[Any]) -> Any:
    """One condition true when any is: Fn::Or takes 2 to 10 operands, so nest beyond that."""
    if len(conditions) == 1:
        return conditions[0]
    if len(conditions) <= MAX_OR:
        return t.Or(*conditions)
    chunks = [conditions[i : i + MAX_OR] for i in range(0, len(conditions), MAX_OR)]
    return _any([_any(chunk) for chunk in chunks])


def _instance(
    ctx: Ctx,
    site: Site,
    db: Database,
    number: int,
    instance: Instance,
    instance_class: t.Ref,
    condition: str | None,
) -> None:
    extra: dict[str, Any] = {"Condition": condition} if condition else {}
    ctx.add(
        rds.DBInstance(
            ctx.lid(site, "DatabaseInstance", str(number)),
            DBInstanceIdentifier=instance.id,
            DBInstanceClass=instance_class,
            Engine=db.engine,
            DBClusterIdentifier=t.Ref(ctx.lid(site, "Cluster")),
            MonitoringInterval=db.monitoring_interval,
            MonitoringRoleArn=ctx.role_arn(site, db.monitoring_role),
            EnablePerformanceInsights=True,
            PerformanceInsightsKMSKeyId=ctx.value(db.kms_key, site),
            PerformanceInsightsRetentionPeriod=db.performance_insights_days,
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            CACertificateIdentifier=db.ca_certificate,
            Tags=tags(ctx.plan, instance.id),
            # Aurora snapshots clusters, not instances. Protected: a stack delete, which stops
            # at the cluster's deletion protection, leaves the instances serving; a replaced
            # instance is deleted once its successor exists.
            DeletionPolicy="Retain" if site.deletion_protection else "Delete",
            UpdateReplacePolicy="Delete",
            **extra,
        )
    )
