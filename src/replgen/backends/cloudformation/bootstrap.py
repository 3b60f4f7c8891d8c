"""The bootstrap template of an account and region: the artifact bucket, and the role
deployments (the Terraform providers, `replgen deploy`) assume there.

The account deployments start from is a parameter (`DeployFromAccount`): the manifest
says `replgen deploy` fills it, from `--deploy-from` or from its own credentials.
"""

from __future__ import annotations

import troposphere as t
from awacs import aws as iam
from troposphere import iam as cfn_iam
from troposphere import s3

from replgen.backends.cloudformation.buckets import private_bucket
from replgen.backends.cloudformation.context import Ctx, skipped, tags
from replgen.plan.model import Bootstrap

DEPLOY_FROM = "DeployFromAccount"
BUCKET_OUTPUT = "ArtifactBucket"
ROLE_OUTPUT = "DeployRoleArn"


def render(ctx: Ctx, b: Bootstrap) -> None:
    _bucket(ctx, b)
    _policy(ctx, b)
    ctx.template.add_output(t.Output(BUCKET_OUTPUT, Value=t.Ref("ArtifactBucket")))
    if b.deploy_role is not None:
        _role(ctx, b)
        ctx.template.add_output(t.Output(ROLE_OUTPUT, Value=t.GetAtt("DeployRole", "Arn")))


def _bucket(ctx: Ctx, b: Bootstrap) -> None:
    rule = s3.LifecycleRule(
        Id="old-versions",
        Status="Enabled",
        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
            NoncurrentDays=b.noncurrent_days
        ),
        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
            DaysAfterInitiation=b.abort_multipart_days
        ),
    )
    encryption = s3.ServerSideEncryptionRule(
        # The account's S3 key: Lambda reads the zips with the deployer's own permissions.
        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms"),
        BucketKeyEnabled=True,
    )
    ctx.add(
        s3.Bucket(
            "ArtifactBucket",
            BucketName=b.bucket,
            **private_bucket(),
            BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[encryption]),
            LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[rule]),
            Tags=tags(ctx.plan, b.bucket, Purpose="replgen Lambda artifacts"),
            # The zips are rebuilt by `replgen package`; nothing here is worth keeping.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            **skipped(b.bucket_waivers),
        )
    )


def _policy(ctx: Ctx, b: Bootstrap) -> None:
    arn = t.Sub(f"arn:${{AWS::Partition}}:s3:::{b.bucket}")
    objects = t.Sub(f"arn:${{AWS::Partition}}:s3:::{b.bucket}/*")
    statement = iam.Statement(
        Sid="DenyInsecureTransport",
        Effect=iam.Deny,
        Principal=iam.Principal("*"),
        Action=[iam.Action("s3", "*")],
        Resource=[arn, objects],
        Condition=iam.Condition(iam.Bool({"aws:SecureTransport": "false"})),
    )
    ctx.add(
        s3.BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=t.Ref("ArtifactBucket"),
            PolicyDocument=iam.PolicyDocument(Version="2012-10-17", Statement=[statement]),
        )
    )


def _role(ctx: Ctx, b: Bootstrap) -> None:
    # The spec's state.deploy_from where it names one; else `replgen deploy` fills it.
    default = {"Default": b.deploy_from} if b.deploy_from else {}
    ctx.template.add_parameter(
        t.Parameter(
            DEPLOY_FROM,
            Type="String",
            AllowedPattern=r"^\d{12}$",
            Description="The account deployments start from: its principals may assume the role",
            **default,
        )
    )
    trust = iam.PolicyDocument(
        Version="2012-10-17",
        Statement=[
            iam.Statement(
                Effect=iam.Allow,
                Principal=iam.Principal(
                    "AWS", [t.Sub(f"arn:${{AWS::Partition}}:iam::${{{DEPLOY_FROM}}}:root")]
                ),
                Action=[iam.Action("sts", "AssumeRole")],
            )
        ],
    )
    ctx.add(
        cfn_iam.Role(
            "DeployRole",
            RoleName=b.deploy_role,
            AssumeRolePolicyDocument=trust,
            ManagedPolicyArns=[t.Sub("arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess")],
            MaxSessionDuration=3600,
            Tags=tags(ctx.plan),
            **skipped(b.role_waivers),
        )
    )
