"""The site's functions (replsync, and the disaster-recovery txnproc and failover), their
queues and logs, the promotion state machine, the schedules that start them, and the
permissions letting services invoke the functions.

The function's code is the zip `replgen package` writes, uploaded under `replgen/` to a
bucket in the stack's account and region (as for CloudFormation); the stack takes that
bucket as the `artifact_bucket` variable and pins the zip by its content hash.
"""

from __future__ import annotations

from cdktf import TerraformVariable, TerraformVariableValidationConfig
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_invocation import LambdaInvocation
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, document, log_group, skip, snake, tags
from replgen.plan.model import (
    Function,
    Invocation,
    LogGroup,
    Permission,
    Queue,
    Schedule,
    Site,
    StateMachine,
)

ARTIFACT_VARIABLE = "artifact_bucket"


class Functions(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        self.ctx, self.site = ctx, site
        self.queues: dict[str, SqsQueue] = {}
        for queue in ctx.each(self, site, site.queues):
            self._queue(queue)
        for fn in ctx.each(self, site, site.functions):
            self._function(fn, self._log_group(fn.key, fn.log_group))
        for machine in ctx.each(self, site, site.state_machines):
            self._state_machine(machine, self._log_group(machine.key, machine.log_group))
        for permission in ctx.each(self, site, site.permissions):
            self._permission(permission)
        for schedule in ctx.each(self, site, site.schedules):
            self._schedule(schedule)
        for invocation in ctx.each(self, site, site.invocations):
            self._invocation(invocation)

    # ------------------------------------------------------------ logs and queues

    def _log_group(self, key: str, group: LogGroup) -> CloudwatchLogGroup:
        return log_group(self, f"{snake(key)}_log_group", self.ctx, group)

    def _queue(self, queue: Queue) -> SqsQueue:
        """The queue (once, whoever names it first), after its dead-letter queue."""
        if queue.key in self.queues:
            return self.queues[queue.key]
        redrive = (
            document(
                {
                    "deadLetterTargetArn": self._queue(queue.dead_letter).arn,
                    "maxReceiveCount": queue.max_receives,
                }
            )
            if queue.dead_letter
            else None
        )
        resource = SqsQueue(
            self,
            snake(queue.key),
            name=queue.name,
            message_retention_seconds=queue.retention_seconds,
            visibility_timeout_seconds=queue.visibility_timeout,
            kms_master_key_id=self.ctx.value(queue.kms_key),
            redrive_policy=redrive,
            tags=tags(queue.name),
        )
        self.queues[queue.key] = self.ctx.keep(self.site, queue.key, resource)
        self.ctx.put(self.site, queue.key, "arn", resource.arn)
        return resource

    # ------------------------------------------------------------ replsync

    def _artifact_bucket(self) -> str:
        """One variable per stack: the bucket is per account and region, like the stack."""
        stack = self.ctx.stack
        found = stack.node.try_find_child(ARTIFACT_VARIABLE)
        variable = found or TerraformVariable(
            stack,
            ARTIFACT_VARIABLE,
            type="string",
            nullable=False,
            description="Bucket in this account and region holding the output of "
            f"`replgen package` under {self.ctx.plan.bootstrap_for(self.site).artifact_prefix} "
            "(the bootstrap bucket)",
            validation=[
                TerraformVariableValidationConfig(
                    # An expression in Terraform JSON is a `${...}` template.
                    condition=f'${{can(regex("^[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9]$", '
                    f"var.{ARTIFACT_VARIABLE}))}}",
                    error_message="artifact_bucket must be an S3 bucket name.",
                )
            ],
        )
        assert isinstance(variable, TerraformVariable)
        return variable.string_value

    def _network(self, fn: Function) -> LambdaFunctionVpcConfig | None:
        if not fn.vpc:
            return None
        return LambdaFunctionVpcConfig(
            subnet_ids=[s.id for s in self.ctx.get(self.site, "subnets:private")],
            security_group_ids=[
                self.ctx.get(self.site, f"sg:{role}").id
                for role in self.site.network.function_groups
            ],
        )

    def _function(self, fn: Function, logs: CloudwatchLogGroup) -> LambdaFunction:
        resource = LambdaFunction(
            self,
            snake(fn.key),
            function_name=fn.name,
            description=fn.description,
            runtime=fn.runtime,
            handler=fn.handler,
            timeout=fn.timeout,
            memory_size=fn.memory_mb,
            reserved_concurrent_executions=fn.reserved_concurrency,
            role=self.ctx.role_arn(self.site, fn.role),
            s3_bucket=self._artifact_bucket(),
            s3_key=f"{self.ctx.plan.bootstrap_for(self.site).artifact_prefix}{fn.code.filename}",
            source_code_hash=fn.code.base64_sha256,
            environment=LambdaFunctionEnvironment(
                variables={name: self.ctx.value(value) for name, value in fn.environment}
            ),
            kms_key_arn=self.ctx.value(fn.kms_key),
            dead_letter_config=LambdaFunctionDeadLetterConfig(
                target_arn=self._queue(fn.dead_letter_queue).arn
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            # Through the group's name: created (with its retention and key) before the function.
            logging_config=LambdaFunctionLoggingConfig(log_format="Text", log_group=logs.name),
            vpc_config=self._network(fn),
            tags=tags(fn.name),
        )
        skip(resource, fn.waivers)
        self.ctx.keep(self.site, fn.key, resource)
        self.ctx.put(self.site, fn.key, "arn", resource.arn)
        return resource

    def _invocation(self, invocation: Invocation) -> None:
        """Invoked at apply, and again when the payload changes; a function error fails the
        apply. After the site's roles: the function assumes some of them."""
        roles = [
            self.ctx.get(self.site, r.key)
            for r in self.site.roles
            if self.ctx.here(self.site, r.key)
        ]
        LambdaInvocation(
            self,
            snake(invocation.key),
            function_name=self.ctx.get(self.site, invocation.function).function_name,
            input=invocation.payload,  # escaped with every plan string (escape.py)
            depends_on=roles,
        )

    # ------------------------------------------------------------ promotion

    def _state_machine(self, machine: StateMachine, logs: CloudwatchLogGroup) -> SfnStateMachine:
        resource = SfnStateMachine(
            self,
            snake(machine.key),
            name=machine.name,
            type="STANDARD",
            definition=machine.definition,
            role_arn=self.ctx.role_arn(self.site, machine.role),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                level="ALL",
                include_execution_data=True,
                log_destination=f"{logs.arn}:*",  # the API wants the group's streams
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            tags=tags(machine.name),
        )
        self.ctx.keep(self.site, machine.key, resource)
        self.ctx.put(self.site, machine.key, "arn", resource.arn)
        return resource

    def _schedule(self, schedule: Schedule) -> None:
        """EventBridge starts a state machine with the schedule's role, and invokes a
        function through the function's own permission (no role on the target)."""
        target = self.ctx.get(self.site, schedule.target)
        rule = CloudwatchEventRule(
            self,
            f"{snake(schedule.target)}_schedule",
            name=schedule.name,
            schedule_expression=schedule.expression,
            state="ENABLED",
        )
        CloudwatchEventTarget(
            self,
            f"{snake(schedule.target)}_schedule_target",
            rule=rule.name,
            target_id="target",
            arn=target.arn,
            role_arn=self.ctx.role_arn(self.site, schedule.role) if schedule.role else None,
            input=schedule.input or None,
        )

    # ------------------------------------------------------------ invocation rights

    def _permission(self, permission: Permission) -> LambdaPermission:
        resource = LambdaPermission(
            self,
            snake(permission.key),
            statement_id=snake(permission.key),
            action="lambda:InvokeFunction",
            function_name=self.ctx.get(self.site, permission.function).function_name,
            principal=permission.principal,
            source_arn=permission.source_arn,
        )
        self.ctx.keep(self.site, permission.key, resource)
        return resource
