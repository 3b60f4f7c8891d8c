"""ARNs that are known before anything is deployed (most of them are)."""

from __future__ import annotations


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(service: str, region: str, account: str, resource: str, *, regional: bool = True) -> str:
    where = region if regional else ""
    return f"arn:{partition(region)}:{service}:{where}:{account}:{resource}"


def role_arn(region: str, account: str, name: str) -> str:
    return arn("iam", region, account, f"role/{name}", regional=False)


def account_root(region: str, account: str) -> str:
    return arn("iam", region, account, "root", regional=False)


def service_principal(service: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{service}.{suffix}"
