"""Physical names: one place builds them, and checks each against its service's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from replgen.errors import Problem, SpecError
from replgen.plan import tags

# service -> (max length, allowed pattern, words for the error)
LIMITS: dict[str, tuple[int, str, str]] = {
    "bucket": (63, r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$", "S3 bucket"),
    "role": (64, r"^[\w+=,.@-]+$", "IAM role"),
    "function": (64, r"^[A-Za-z0-9_-]+$", "Lambda function"),
    "cluster": (63, r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$", "DB cluster"),
    "instance": (63, r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$", "DB instance"),
    "alias": (256, r"^alias/[A-Za-z0-9/_-]+$", "KMS alias"),
    "queue": (80, r"^[A-Za-z0-9_-]+$", "SQS queue"),
    "topic": (256, r"^[A-Za-z0-9_-]+$", "SNS topic"),
    "log": (512, r"^[A-Za-z0-9_/.#-]+$", "log group"),
    "state": (80, r"^[A-Za-z0-9_-]+$", "state machine"),
    "rule": (64, r"^[A-Za-z0-9_.-]+$", "EventBridge rule"),
    "parameter": (1011, r"^/[A-Za-z0-9_./-]+$", "SSM parameter"),
    "secret": (512, r"^[A-Za-z0-9/_+=.@-]+$", "secret"),
    "group": (255, r"^[a-z][a-z0-9-]*$", "DB subnet or parameter group"),
    "sg": (255, r"^[A-Za-z0-9 ._:/()#,@\[\]+=&;{}!$*-]+$", "security group"),
    "tag": (256, r"^.+$", "Name tag"),  # and AWS's tag rules, as every name below
    "alarm": (255, r"^[^\s].*$", "alarm"),
    "waf": (128, r"^[A-Za-z0-9_-]+$", "web ACL"),
    "alb": (32, r"^[A-Za-z0-9](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$", "load balancer"),
    "table": (255, r"^[A-Za-z0-9_.-]+$", "DynamoDB table"),
    "vault": (50, r"^[A-Za-z0-9_-]+$", "backup vault"),
    "snapshot": (255, r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$", "DB cluster snapshot"),
}


@dataclass
class Namer:
    """Builds `<name>-<suffix>-<site>-<purpose>` names and collects every violation."""

    name: str
    suffix: str
    problems: list[Problem]

    @property
    def prefix(self) -> str:
        return f"{self.name}-{self.suffix}"

    def make(self, service: str, *parts: str, sep: str = "-") -> str:
        text = sep.join((self.prefix, *(p for p in parts if p)))
        self.check(service, text)
        return text

    def check(self, service: str, text: str) -> str:
        limit, pattern, words = LIMITS[service]
        if len(text) > limit:
            self._report(f"the {words} name {text!r} is {len(text)} characters (limit {limit})")
        elif not re.fullmatch(pattern, text):
            self._report(f"the {words} name {text!r} breaks the service's naming rules")
        # A physical name is also its resource's Name tag on both backends. Its parts from
        # the spec are patterned to tag characters, so a bad one is replgen's own fault
        # (lengths: the service's own limit above; resource tags are checked again whole).
        tags.check([("Name", text[: tags.MAX_VALUE])])
        return text

    def _report(self, message: str) -> None:
        # The suffix is what users vary per deployment, and usually what grew.
        self.problems.append(Problem(("suffix",), f"{message}: shorten name or suffix"))

    def raise_problems(self) -> None:
        if self.problems:
            raise SpecError(list(dict.fromkeys(self.problems)))
