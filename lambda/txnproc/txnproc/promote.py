"""The Aurora global database as the watchdog sees it, and the two ways to move its writer.

``SwitchoverGlobalCluster`` is the planned move: RDS waits until the secondary has every write
of the primary, then swaps roles; nothing is lost, and it needs a live primary.
``FailoverGlobalCluster`` with ``AllowDataLoss`` is the unplanned one: the secondary takes over
with what it has; writes not yet replicated (up to the replication lag, what the RPO allows)
are lost. It is used only when the evidence says the primary no longer answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from txnproc import aws

# Global cluster states in which a failover or switchover is already running.
BUSY_STATES = frozenset({"failing-over", "switching-over"})


class UnderWay(Exception):
    """RDS refused because a failover or switchover is already running (ours or anyone's)."""


def find_global_cluster(rds: Any, cluster_id: str) -> dict[str, Any]:
    found = rds.describe_global_clusters(GlobalClusterIdentifier=cluster_id)["GlobalClusters"]
    # Filter anyway: the identifier is matched case-insensitively by RDS (stored lower case).
    for cluster in found:
        if str(cluster.get("GlobalClusterIdentifier", "")).lower() == cluster_id.lower():
            return dict(cluster)
    raise LookupError(f"global cluster {cluster_id} not found")


def writer_of(cluster: Mapping[str, Any]) -> str | None:
    for member in cluster.get("GlobalClusterMembers") or ():
        if member.get("IsWriter"):
            return str(member["DBClusterArn"])
    return None


def members_of(cluster: Mapping[str, Any]) -> list[str]:
    return [str(m.get("DBClusterArn")) for m in cluster.get("GlobalClusterMembers") or ()]


def busy(cluster: Mapping[str, Any]) -> bool:
    """A failover or switchover is pending or running (started by us or anyone else)."""
    return bool(cluster.get("FailoverState")) or cluster.get("Status") in BUSY_STATES


def region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else None


def writer_status(rds_in_region: Any, writer_arn: str) -> str:
    """The writer cluster's status as its own region's RDS API reports it, or why not."""
    try:
        found = rds_in_region.describe_db_clusters(DBClusterIdentifier=writer_arn)["DBClusters"]
    except Exception as exc:  # the region's API is down too: that is an answer
        return f"unreachable: {aws.error_code(exc) or type(exc).__name__}"
    return str(found[0].get("Status", "unknown")) if found else "not-found"


def start(rds: Any, global_cluster_id: str, target_arn: str, *, planned: bool) -> dict[str, Any]:
    """Start a switchover (``planned``) or a failover with data loss; what RDS answered."""
    try:
        if planned:
            answer = rds.switchover_global_cluster(
                GlobalClusterIdentifier=global_cluster_id, TargetDbClusterIdentifier=target_arn
            )
        else:
            answer = rds.failover_global_cluster(
                GlobalClusterIdentifier=global_cluster_id,
                TargetDbClusterIdentifier=target_arn,
                AllowDataLoss=True,
            )
    except Exception as exc:
        if aws.error_code(exc) != "InvalidGlobalClusterStateFault":
            raise
        # Lost a race with another invocation, or a human started one by hand?
        again = find_global_cluster(rds, global_cluster_id)
        if busy(again) or writer_of(again) == target_arn:
            raise UnderWay(str(exc)) from exc
        raise
    return {
        "operation": "switchover" if planned else "failover",
        "data_loss_allowed": not planned,
        "request_id": answer.get("ResponseMetadata", {}).get("RequestId"),
        "global_cluster_status": (answer.get("GlobalCluster") or {}).get("Status"),
    }
