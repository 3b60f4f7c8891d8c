"""Exceptions. Their class names show up as the Lambda ``errorType`` when one escapes."""

from __future__ import annotations


class TxnprocError(Exception):
    """Base class of the failures we understood."""


class ConfigError(TxnprocError):
    """An environment variable is missing or malformed: an infrastructure bug."""


class InvalidEvent(TxnprocError):
    """An event that is neither an SQS batch nor an ALB request."""


class InvalidMessage(TxnprocError):
    """A transaction message that breaks the contract; the text says which rule (safe to show
    to the API caller: it never echoes more than the offending field's name)."""


class TransactionConflict(TxnprocError):
    """A transaction id that is already stored with different content: never overwrite a
    recorded transaction, leave the message to the dead-letter queue for a human."""


class DatabaseUnavailable(TxnprocError):
    """No connection could be opened. The rest of the batch fails at once instead of each
    message waiting out its own connect timeout."""
