"""Lambda entry points.

``handler.handler``: the transaction processor (SQS batches and ALB requests).
``handler.failover``: the secondary region's Aurora global-database failover watchdog.
"""

from txnproc.app import handler
from txnproc.failover import handler as failover

__all__ = ["failover", "handler"]
