"""A boto3 session per account: a named profile where the user maps one, the current
credentials where they already are in that account, else the deploy role assumed there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
import botocore.exceptions

from replgen.deploy import DeployError, UsageError
from replgen.plan.arns import role_arn


class Credentials:
    def __init__(
        self,
        accounts: Mapping[str, str],
        profiles: Mapping[str, str],
        role_name: str,
        endpoint_url: str | None = None,
        base: boto3.Session | None = None,
    ) -> None:
        """`accounts`: alias -> id (the spec's); `profiles`: alias or id -> profile name."""
        self.role_name = role_name
        self.endpoint_url = endpoint_url
        self._base = base
        self._profiles = {accounts.get(k, k): v for k, v in profiles.items()}
        unknown = sorted(k for k in self._profiles if k not in set(accounts.values()))
        if unknown:
            known = ", ".join(f"{a} ({i})" for a, i in sorted(accounts.items()))
            raise UsageError(f"--profile-map names {', '.join(unknown)}: the accounts are {known}")
        self._sessions: dict[str, boto3.Session] = {}
        self._caller: str | None = None

    @property
    def base(self) -> boto3.Session:
        if self._base is None:
            self._base = boto3.Session()
        return self._base

    def client(self, service: str, account: str, region: str) -> Any:
        return self.session(account, region).client(
            service, region_name=region, endpoint_url=self.endpoint_url
        )

    def caller_account(self) -> str:
        """The account the current credentials belong to."""
        if self._caller is None:
            sts = self.base.client("sts", endpoint_url=self.endpoint_url)
            self._caller = str(
                _call(lambda: sts.get_caller_identity(), "find who you are")["Account"]
            )
        return self._caller

    def session(self, account: str, region: str) -> boto3.Session:
        if account not in self._sessions:
            self._sessions[account] = self._resolve(account, region)
        return self._sessions[account]

    def how(self, account: str) -> str:
        """How `account` will be reached, for --dry-run (calls nothing)."""
        if account in self._profiles:
            return f"profile {self._profiles[account]}"
        return f"current credentials, or assume role {self.role_name} there"

    def _resolve(self, account: str, region: str) -> boto3.Session:
        if account in self._profiles:
            session = boto3.Session(profile_name=self._profiles[account])
            sts = session.client("sts", region_name=region, endpoint_url=self.endpoint_url)
            actual = _call(lambda: sts.get_caller_identity(), "use the profile")["Account"]
            if actual != account:
                raise UsageError(
                    f"profile {self._profiles[account]} is account {actual}, not {account}"
                )
            return session
        if self.caller_account() == account:
            return self.base
        sts = self.base.client("sts", region_name=region, endpoint_url=self.endpoint_url)
        arn = role_arn(region, account, self.role_name)
        answer = _call(
            lambda: sts.assume_role(RoleArn=arn, RoleSessionName="replgen-deploy"),
            f"assume {arn} (bootstrap that account first, or map a profile to it)",
        )
        c = answer["Credentials"]
        return boto3.Session(
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
            region_name=region,
        )


def _call(func: Any, doing: str) -> Any:
    try:
        return func()
    except botocore.exceptions.NoCredentialsError:
        raise UsageError("no AWS credentials: set a profile or environment credentials") from None
    except botocore.exceptions.ClientError as exc:
        raise DeployError(f"cannot {doing}: {exc}") from None
