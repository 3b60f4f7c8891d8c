"""Exceptions whose class names are the contract with Step Functions.

The Lambda runtime reports ``errorType`` as the exception's class name, so a state machine
can ``Retry`` on ``TransientError`` and ``Catch`` ``SyncFailed`` / ``MigrationFailed`` etc.
Every error carries the response body it stands for (``status: error``) in ``response()``.
"""

from __future__ import annotations

from typing import Any


class ReplsyncError(Exception):
    """Base class: a failure we understood; ``details`` end up in the error response."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def response(self) -> dict[str, Any]:
        return {
            "status": "error",
            "error": type(self).__name__,
            "message": self.message,
            **self.details,
        }


class Refused(ReplsyncError):
    """A request the isolation rules forbid. Returned as ``status: refused``, never raised
    out of the handler: nothing was attempted, so there is nothing to retry."""

    def response(self) -> dict[str, Any]:
        return {"status": "refused", "reason": self.message, **self.details}


class InvalidEvent(ReplsyncError):
    """The event does not match the contract (unknown action, wrong types...)."""


class ConfigError(ReplsyncError):
    """REPLSYNC_CONFIG is missing or malformed: an infrastructure bug."""


class TransientError(ReplsyncError):
    """A retryable failure (deadlock, lost connection, throttling) that outlived our retries."""


class SyncFailed(ReplsyncError):
    """Reference-data sync of a table failed; its transaction was rolled back."""


class MigrationFailed(ReplsyncError):
    """A migration script failed (recorded with success = false); later ones were not run."""


class ChecksumMismatch(MigrationFailed):
    """An already-applied migration script was edited afterwards."""


class NotPromoted(ReplsyncError):
    """A production migration the environment before it has not run successfully with the
    same bytes (its ledger says so). Nothing was applied; raised, not returned as refused, so
    the promotion run stops and notifies."""


class SchemaDiffFailed(ReplsyncError):
    """Reading a schema or applying additive DDL failed."""


class ConnectionRefused(ReplsyncError):
    """A database server failed TLS verification (unknown CA, wrong host name, no TLS).
    Never retried: the same certificate fails the same way, and nothing was read or written."""
