"""The transaction message: parsing and validation.

Money is ``decimal.Decimal`` from the first byte: JSON numbers are parsed with
``parse_float=Decimal``, so a binary float never touches an amount.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from txnproc.currencies import CURRENCIES, ZERO_DECIMAL
from txnproc.errors import InvalidMessage

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Plain decimal text only: Decimal() would also take "1e3", "NaN", " 5" and "1_000".
DECIMAL_TEXT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
MAX_AMOUNT = Decimal(10) ** 12  # exclusive: far above any real payment, far below numeric(20,2)
CENT = Decimal("0.01")

REQUIRED = ("transaction_id", "account_id", "amount", "currency", "session_id")
OPTIONAL = ("occurred_at",)


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    account_id: str
    amount: Decimal  # positive, exactly two places (quantized, never rounded)
    currency: str
    session_id: str
    occurred_at: datetime  # timezone-aware, UTC

    def to_json(self) -> dict[str, str]:
        """The message as it travels and is logged: the amount stays a string."""
        return {
            "transaction_id": self.transaction_id,
            "account_id": self.account_id,
            "amount": str(self.amount),
            "currency": self.currency,
            "session_id": self.session_id,
            "occurred_at": self.occurred_at.isoformat(),
        }


def _reject_constant(name: str) -> Any:
    raise InvalidMessage(f"{name} is not a number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"amount": "1", "amount": "1000"} means whatever the last parser in the chain thinks:
    # refuse it instead of guessing.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidMessage(f"duplicate field {key}")
        out[key] = value
    return out


def parse_json(body: str | bytes) -> Any:
    """Decode a message body; any non-JSON input raises ``InvalidMessage``."""
    try:
        return json.loads(
            body,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8
        if isinstance(exc, InvalidMessage):
            raise
        raise InvalidMessage("body is not valid JSON") from exc


def _safe_id(data: Mapping[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str) or not SAFE_ID.fullmatch(value):
        raise InvalidMessage(f"{name} must be 1-64 characters of A-Z, a-z, 0-9, _ or -")
    return value


def _currency(data: Mapping[str, Any]) -> str:
    value = data["currency"]
    if not isinstance(value, str) or value not in CURRENCIES:
        raise InvalidMessage("currency must be an active ISO 4217 code in upper case")
    return value


def parse_amount(value: Any, currency: str) -> Decimal:
    if isinstance(value, bool):  # bool is an int subclass: true is not 1.00
        raise InvalidMessage("amount must be a decimal string or number")
    if isinstance(value, str):
        if not DECIMAL_TEXT.fullmatch(value):
            raise InvalidMessage("amount must be a plain decimal such as 12.34")
        amount = Decimal(value)
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:  # float cannot happen through parse_json; refuse it from any other caller too
        raise InvalidMessage("amount must be a decimal string or number")
    if not amount.is_finite():
        raise InvalidMessage("amount must be a finite number")
    if amount <= 0:
        raise InvalidMessage("amount must be greater than 0")
    if amount >= MAX_AMOUNT:
        raise InvalidMessage(f"amount must be below {MAX_AMOUNT:,}")
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - bounded above, cannot overflow
        raise InvalidMessage("amount is out of range") from exc
    # Compare values, not digits: "10.500" is 10.50 exactly; "10.005" would need rounding.
    if cents != amount:
        raise InvalidMessage("amount must have at most 2 decimal places")
    if currency in ZERO_DECIMAL and cents != cents.to_integral_value():
        raise InvalidMessage(f"{currency} amounts have no decimal places")
    return cents


def parse_occurred_at(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidMessage("occurred_at must be an ISO-8601 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidMessage("occurred_at must be an ISO-8601 timestamp") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A local time of an unknown zone would be stored as a guess; ask for the offset.
        raise InvalidMessage("occurred_at must include a UTC offset (e.g. Z or +00:00)")
    return moment.astimezone(UTC)


def parse_transaction(
    data: Any, *, default_occurred_at: datetime, generate_id: bool = False
) -> Transaction:
    """Validate one decoded message.

    ``default_occurred_at`` stands in for a missing ``occurred_at`` (the SQS send time, or
    the API's receive time), so a redelivery of the same message gets the same value.
    ``generate_id``: the HTTP API may omit ``transaction_id``; a UUID4 hex is made up then.
    """
    if not isinstance(data, Mapping):
        raise InvalidMessage("message must be a JSON object")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        # Name the allowed fields, not the unknown ones: those are arbitrary caller input.
        raise InvalidMessage(
            f"{len(unknown)} unknown field(s); allowed: {', '.join(REQUIRED + OPTIONAL)}"
        )
    if generate_id and "transaction_id" not in data:
        data = {**data, "transaction_id": uuid.uuid4().hex}
    missing = [name for name in REQUIRED if data.get(name) is None]
    if missing:
        raise InvalidMessage(f"missing field(s): {', '.join(missing)}")
    currency = _currency(data)
    occurred = data.get("occurred_at")
    return Transaction(
        transaction_id=_safe_id(data, "transaction_id"),
        account_id=_safe_id(data, "account_id"),
        amount=parse_amount(data["amount"], currency),
        currency=currency,
        session_id=_safe_id(data, "session_id"),
        occurred_at=(
            default_occurred_at.astimezone(UTC) if occurred is None else parse_occurred_at(occurred)
        ),
    )
