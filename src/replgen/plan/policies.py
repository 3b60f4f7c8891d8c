"""Resource policies: a bucket's whole policy document, decided once for both backends.

Every bucket refuses plain HTTP; a bucket receiving S3 server access logs admits the
log-delivery service for each source bucket, under that source's prefix and on its behalf
only; the bucket receiving an ALB's access logs admits the region's ELB writer; a bucket
with a named writer (CI) admits it and denies object writes to everyone else
(`iam.bucket_statements`). ARNs are literal: bucket names are global and known in advance.
"""

from __future__ import annotations

import re
from typing import Any

from replgen.plan import components
from replgen.plan.arns import partition
from replgen.plan.iam import VERSION, bucket_statements
from replgen.plan.model import Bucket, Site

Document = dict[str, Any]
LOG_DELIVERY = "logging.s3.amazonaws.com"  # S3 server access logs


def bucket_policy(site: Site, bucket: Bucket) -> Document:
    """The policy document of `bucket`, one of `site`'s buckets."""
    own = _arn(site, bucket.name)
    statements = [_deny_insecure_transport(own)]
    statements += [
        _allow_log_delivery(site, own, source)
        for source in site.buckets
        if source.access_log_bucket == bucket.key
    ]
    lb = site.load_balancer
    if lb is not None and lb.access_logs_bucket == bucket.key:
        kind, writer = lb.log_writer
        statements.append(
            {
                "Sid": "LoadBalancerAccessLogs",
                "Effect": "Allow",
                "Principal": {kind: [writer]},
                "Action": ["s3:PutObject"],
                "Resource": [f"{own}/{lb.access_logs_prefix}/AWSLogs/{site.account_id}/*"],
            }
        )
    statements += bucket_statements(bucket, site.region)
    return {"Version": VERSION, "Statement": statements}


def _deny_insecure_transport(own: str) -> Document:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*"],
        "Resource": [own, f"{own}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _allow_log_delivery(site: Site, own: str, source: Bucket) -> Document:
    """S3 may write `source`'s access logs under its prefix, and only on its behalf."""
    return {
        "Sid": _sid("AccessLogsOf", components.name(source.key)),
        "Effect": "Allow",
        "Principal": {"Service": [LOG_DELIVERY]},
        "Action": ["s3:PutObject"],
        "Resource": [f"{own}/{source.access_log_prefix}*"],
        "Condition": {
            "StringEquals": {"aws:SourceAccount": site.account_id},
            "ArnLike": {"aws:SourceArn": _arn(site, source.name)},
        },
    }


def _arn(site: Site, name: str) -> str:
    return f"arn:{partition(site.region)}:s3:::{name}"


def _sid(*parts: str) -> str:
    """`("AccessLogsOf", "migrations")` -> `AccessLogsOfMigrations`: a valid policy Sid."""
    words = re.split(r"[^A-Za-z0-9]+", "-".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)
