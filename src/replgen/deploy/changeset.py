"""One stack's change set: create it, read it, execute it and follow the stack's events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from replgen.deploy import DeployError

NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
DONE = ("_COMPLETE", "_FAILED")
FAILED = ("FAILED", "ROLLBACK")


@dataclass(frozen=True)
class Change:
    resource: str
    kind: str
    action: str  # Add, Modify, Remove, Import, Dynamic
    replacement: str  # "True", "Conditional", "False" or "" (not a modification)

    @property
    def replaces(self) -> bool:
        return self.replacement in ("True", "Conditional")


@dataclass(frozen=True)
class Event:
    resource: str
    kind: str
    status: str
    reason: str


@dataclass
class Prepared:
    stack: str
    change_set: str | None  # None: nothing to change
    create: bool
    changes: list[Change]


class Stack:
    """CloudFormation calls about one stack, through one client."""

    def __init__(self, client: Any, name: str, poll_seconds: float = 5.0) -> None:
        self.cf = client
        self.name = name
        self.poll = poll_seconds

    def describe(self) -> dict[str, Any] | None:
        try:
            return dict(self.cf.describe_stacks(StackName=self.name)["Stacks"][0])
        except botocore.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise DeployError(f"{self.name}: {exc}") from None

    def outputs(self) -> dict[str, str]:
        found = self.describe()
        if found is None:
            raise DeployError(f"{self.name} is not deployed: its outputs are needed")
        return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}

    def unchanged(self, body: bytes, parameters: dict[str, str]) -> bool:
        """Deployed, settled, with this template and these parameters: nothing to do."""
        found = self.describe()
        if found is None or not found["StackStatus"].endswith("_COMPLETE"):
            return False
        if found["StackStatus"] in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
            return False
        current = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters", [])}
        if any(current.get(k) != v for k, v in parameters.items()):
            return False
        deployed = self.cf.get_template(StackName=self.name, TemplateStage="Original")
        return bool(_document(deployed["TemplateBody"]) == json.loads(body))

    def prepare(
        self,
        template: dict[str, str],
        parameters: dict[str, str],
        capabilities: tuple[str, ...],
        name: str,
    ) -> Prepared:
        """A change set for `template` (TemplateBody or TemplateURL), described, not executed."""
        found = self.describe()
        if found is not None and found["StackStatus"] == "ROLLBACK_COMPLETE":
            raise DeployError(
                f"{self.name} is ROLLBACK_COMPLETE from a failed first deploy: "
                "delete it (replgen destroy --stacks NAME) and deploy again"
            )
        create = found is None or found["StackStatus"] == "REVIEW_IN_PROGRESS"
        try:
            self.cf.create_change_set(
                StackName=self.name,
                ChangeSetName=name,
                ChangeSetType="CREATE" if create else "UPDATE",
                Capabilities=list(capabilities),
                Parameters=[
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                Tags=[{"Key": "replgen:stack", "Value": self.name}],
                **template,
            )
        except botocore.exceptions.ClientError as exc:
            if any(text in str(exc) for text in NO_CHANGES):
                return Prepared(self.name, None, create, [])
            raise DeployError(f"{self.name}: cannot create a change set: {exc}") from None
        described = self._wait_for_change_set(name)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            self.cf.delete_change_set(StackName=self.name, ChangeSetName=name)
            if any(text in reason for text in NO_CHANGES):
                return Prepared(self.name, None, create, [])
            raise DeployError(f"{self.name}: the change set failed: {reason}")
        return Prepared(self.name, name, create, self._changes(name))

    def _wait_for_change_set(self, name: str) -> dict[str, Any]:
        while True:
            described = self.cf.describe_change_set(StackName=self.name, ChangeSetName=name)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return dict(described)
            time.sleep(self.poll)

    def _changes(self, name: str) -> list[Change]:
        changes: list[Change] = []
        token: dict[str, str] = {}
        while True:
            page = self.cf.describe_change_set(StackName=self.name, ChangeSetName=name, **token)
            for c in page.get("Changes", []):
                r = c.get("ResourceChange", {})
                changes.append(
                    Change(
                        r.get("LogicalResourceId", "?"),
                        r.get("ResourceType", "?"),
                        r.get("Action", "?"),
                        r.get("Replacement", ""),
                    )
                )
            if not page.get("NextToken"):
                return changes
            token = {"NextToken": page["NextToken"]}

    def discard(self, prepared: Prepared) -> None:
        """Delete an unexecuted change set (and the empty stack a CREATE one made)."""
        if prepared.change_set is None:
            return
        self.cf.delete_change_set(StackName=self.name, ChangeSetName=prepared.change_set)
        found = self.describe()
        if prepared.create and found is not None and found["StackStatus"] == "REVIEW_IN_PROGRESS":
            self.cf.delete_stack(StackName=self.name)

    def execute(self, prepared: Prepared, on_event: Callable[[Event], None]) -> None:
        """Execute and wait, streaming events; raise naming the first resource that failed."""
        assert prepared.change_set is not None
        seen = self._event_ids()
        try:
            self.cf.execute_change_set(StackName=self.name, ChangeSetName=prepared.change_set)
        except botocore.exceptions.ClientError as exc:
            raise DeployError(f"{self.name}: {exc.response['Error'].get('Message', exc)}") from None
        self._follow(seen, on_event)

    def delete(self, on_event: Callable[[Event], None]) -> None:
        seen = self._event_ids()
        try:
            self.cf.delete_stack(StackName=self.name)
        except botocore.exceptions.ClientError as exc:
            raise DeployError(f"{self.name}: {exc.response['Error'].get('Message', exc)}") from None
        self._follow(seen, on_event)

    def _follow(self, seen: set[str], on_event: Callable[[Event], None]) -> None:
        failures: list[Event] = []
        while True:
            found = self.describe()
            for event in self._new_events(seen):
                on_event(event)
                if event.status.endswith("_FAILED") and event.resource != self.name:
                    failures.append(event)
            status = "DELETE_COMPLETE" if found is None else found["StackStatus"]
            if status.endswith(DONE) and not status.endswith("_CLEANUP_COMPLETE"):
                break
            time.sleep(self.poll)
        if any(word in status for word in FAILED):
            first = failures[0] if failures else None
            where = f"{first.resource} ({first.kind}): {first.reason}" if first else status
            raise DeployError(f"{self.name} failed ({status}): {where}")

    def _event_ids(self) -> set[str]:
        if self.describe() is None:
            return set()
        return {e.get("EventId", "") for e in self._raw_events()}

    def _raw_events(self) -> list[dict[str, Any]]:
        try:
            return list(self.cf.describe_stack_events(StackName=self.name)["StackEvents"])
        except botocore.exceptions.ClientError:
            return []  # deleted meanwhile

    def _new_events(self, seen: set[str]) -> list[Event]:
        fresh = [e for e in self._raw_events() if e.get("EventId", "") not in seen]
        seen.update(e.get("EventId", "") for e in fresh)
        return [
            Event(
                e.get("LogicalResourceId", ""),
                e.get("ResourceType", ""),
                e.get("ResourceStatus", ""),
                e.get("ResourceStatusReason", "") or "",
            )
            for e in reversed(fresh)  # oldest first
        ]


def _document(body: Any) -> Any:
    """GetTemplate answers a JSON template as a string or already as a document."""
    if isinstance(body, str):
        return json.loads(body)
    return body
