"""Message validation (no database, no AWS)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from txnproc.currencies import CURRENCIES, ZERO_DECIMAL
from txnproc.errors import InvalidMessage
from txnproc.message import parse_json, parse_transaction
from txnproc_helpers import message

DEFAULT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def parse(body: Any, **kw: Any) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return parse_transaction(parse_json(text), default_occurred_at=DEFAULT, **kw)


def test_valid_message() -> None:
    txn = parse(message())
    assert txn.transaction_id == "txn-0001"
    assert txn.account_id == "acct-42"
    assert txn.amount == Decimal("125.50") and str(txn.amount) == "125.50"
    assert txn.currency == "USD"
    assert txn.session_id == "sess-a"
    assert txn.occurred_at == datetime(2024, 5, 17, 9, 15, tzinfo=UTC)
    assert txn.to_json() == {
        "transaction_id": "txn-0001",
        "account_id": "acct-42",
        "amount": "125.50",
        "currency": "USD",
        "session_id": "sess-a",
        "occurred_at": "2024-05-17T09:15:00+00:00",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"7"', "7.00"),
        ('"0.01"', "0.01"),
        ('"10.500"', "10.50"),  # the same value, no rounding needed
        ("12", "12.00"),
        ("19.99", "19.99"),  # a JSON number: parsed as Decimal, never float
        ("0.1", "0.10"),
        ("1E+2", "100.00"),  # a JSON number in exponent form is still a number
        ('"999999999999.99"', "999999999999.99"),
    ],
)
def test_amounts_accepted(raw: str, expected: str) -> None:
    body = json.dumps(message(amount="PLACEHOLDER")).replace('"PLACEHOLDER"', raw)
    assert str(parse(body).amount) == expected


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("-5.00", "greater than 0"),
        ("0", "greater than 0"),
        ("0.00", "greater than 0"),
        ("10.005", "at most 2 decimal places"),
        ("1000000000000", "below"),
        ("1e3", "plain decimal"),
        ("NaN", "plain decimal"),
        ("Infinity", "plain decimal"),
        (" 5", "plain decimal"),
        ("1_000", "plain decimal"),
        ("", "plain decimal"),
        (True, "decimal string or number"),
        ([1], "decimal string or number"),
        ({"v": 1}, "decimal string or number"),
    ],
)
def test_amounts_rejected(amount: Any, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse(message(amount=amount))


@pytest.mark.parametrize("raw", ["-1", "1.001", "1e-5", "NaN", "-Infinity", "1e400"])
def test_json_number_amounts_rejected(raw: str) -> None:
    body = json.dumps(message(amount="PLACEHOLDER")).replace('"PLACEHOLDER"', raw)
    with pytest.raises(InvalidMessage):
        parse(body)


def test_zero_decimal_currency() -> None:
    assert str(parse(message(currency="JPY", amount="1500")).amount) == "1500.00"
    with pytest.raises(InvalidMessage, match="JPY amounts have no decimal places"):
        parse(message(currency="JPY", amount="1500.50"))


@pytest.mark.parametrize("currency", ["usd", "XXX", "US", "USDD", "ABC", 840, "", None])
def test_currency_rejected(currency: Any) -> None:
    with pytest.raises(InvalidMessage, match=r"currency|missing"):
        parse(message(currency=currency))


def test_currency_list() -> None:
    assert {"USD", "EUR", "GBP", "JPY", "CHF", "CNY", "CAD", "AUD", "INR", "BRL"} <= CURRENCIES
    assert len(CURRENCIES) >= 150
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in CURRENCIES)
    assert ZERO_DECIMAL <= CURRENCIES
    assert not {"XXX", "XTS", "XAU", "HRK", "USN"} & CURRENCIES


@pytest.mark.parametrize("name", ["transaction_id", "account_id", "session_id"])
@pytest.mark.parametrize("value", ["", "a b", "x" * 65, "semi;colon", "ü", "../etc", 17])
def test_ids_rejected(name: str, value: Any) -> None:
    with pytest.raises(InvalidMessage, match=name):
        parse(message(**{name: value}))


@pytest.mark.parametrize("name", ["transaction_id", "account_id", "amount", "currency"])
def test_missing_field(name: str) -> None:
    body = message()
    del body[name]
    with pytest.raises(InvalidMessage, match=f"missing field\\(s\\): {name}"):
        parse(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ('{"amount": "1", "amount": "2"}', "duplicate field amount"),
    ],
)
def test_bad_bodies(body: str, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse(body)


def test_invalid_utf8() -> None:
    with pytest.raises(InvalidMessage, match="not valid JSON"):
        parse_json(b'{"a": "\xff"}')


def test_unknown_field_not_echoed() -> None:
    with pytest.raises(InvalidMessage, match="1 unknown field") as info:
        parse(message(**{"<script>": "x"}))
    assert "<script>" not in str(info.value)


def test_occurred_at() -> None:
    txn = parse(message(occurred_at="2024-05-17T11:15:00+02:00"))
    assert txn.occurred_at == datetime(2024, 5, 17, 9, 15, tzinfo=UTC)
    assert txn.occurred_at.utcoffset() == timedelta(0)
    assert parse(message(occurred_at=None)).occurred_at == DEFAULT
    other = datetime(2024, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    no_time = parse_transaction(message(occurred_at=None), default_occurred_at=other)
    assert no_time.occurred_at == datetime(2024, 1, 2, 4, 0, tzinfo=UTC)
    for bad in ("2024-05-17T09:15:00", "yesterday", "2024-13-01T00:00:00Z", 1715938000):
        with pytest.raises(InvalidMessage, match="occurred_at"):
            parse(message(occurred_at=bad))


def test_generated_id() -> None:
    body = message()
    del body["transaction_id"]
    txn = parse(body, generate_id=True)
    assert re.fullmatch(r"[0-9a-f]{32}", txn.transaction_id)
    assert parse(message(), generate_id=True).transaction_id == "txn-0001"
