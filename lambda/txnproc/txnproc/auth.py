"""Who is calling the API, as the load balancer vouches for it (``API_AUTH``).

The function trusts these headers because only the load balancer can invoke it (its
permission names the target group) and the load balancer sets them itself, replacing any a
client sent. What each mode takes as the caller's identity, which must equal the
transaction's ``account_id``:

- ``mtls``: the ALB in mutual-TLS *verify* mode has checked the client certificate against the
  trust store and passes its subject in ``x-amzn-mtls-clientcert-subject`` (RFC 2253, e.g.
  ``CN=acct-42,O=Example,C=US``). The identity is the subject's single ``CN`` (a certificate
  is issued per account). ``x-amzn-mtls-clientcert-validity`` is checked again here.
- ``oidc``: the ALB has authenticated the user with the identity provider and passes the
  claims in ``x-amzn-oidc-data``, a JWT it signs with ES256. The signature is verified with the
  ALB's public key for the token's ``kid`` (fetched from the regional endpoint
  ``https://public-keys.auth.elb.<region>.amazonaws.com/<kid>``, cached per sandbox); the
  token's ``signer`` must be this ALB (``ALB_ARN``) and ``exp`` in the future. The identity is
  the claim named by ``API_ACCOUNT_CLAIM`` (default ``account_id``).
- ``none``: no identity check (an explicit choice in the spec).

A request without the identity, or with one that does not verify, is 401; a verified caller
posting for another account is 403. Nothing is enqueued in either case.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from txnproc import es256
from txnproc.config import ProcessorConfig
from txnproc.message import SAFE_ID

SUBJECT = "x-amzn-mtls-clientcert-subject"
VALIDITY = "x-amzn-mtls-clientcert-validity"
OIDC_DATA = "x-amzn-oidc-data"
KID = re.compile(r"[A-Za-z0-9-]{1,128}")  # it goes into a URL: nothing else gets through
LEEWAY_SECONDS = 60  # clock skew between the ALB and this sandbox
KEY_TIMEOUT = 2.0

KeyFetcher = Callable[[str, str], str]  # (region, kid) -> PEM


class Unauthenticated(Exception):
    """No identity, or one that does not verify: 401. The text goes to the log only."""


class KeysUnavailable(Exception):
    """The ALB's public key could not be fetched: 503 (our problem, not the caller's)."""


@dataclass(frozen=True)
class Caller:
    identity: str
    source: str  # mtls | oidc


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header (the ALB lower-cases names); with multi-value headers on, the
    request must carry it exactly once."""
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        values = multi.get(name) or []
        if len(values) > 1:
            raise Unauthenticated(f"{name} given more than once")
        return str(values[0]) if values else None
    value = (event.get("headers") or {}).get(name)
    return None if value is None else str(value)


# --------------------------------------------------------------------------- mTLS


def _rdn_values(subject: str, attribute: str) -> list[str]:
    """The values of ``attribute`` in an RFC 2253 name (escaped commas honoured)."""
    found = []
    for part in re.split(r"(?<!\\),", subject):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip().upper() == attribute:
            found.append(re.sub(r"\\(.)", r"\1", value.strip()))
    return found


def _check_validity(raw: str | None, now: datetime) -> None:
    if raw is None:  # the ALB always sends it in verify mode; absent means not our ALB
        raise Unauthenticated(f"{VALIDITY} missing")
    fields = dict(part.partition("=")[::2] for part in raw.split(";"))
    try:
        not_before = datetime.fromisoformat(fields["NotBefore"].replace("Z", "+00:00"))
        not_after = datetime.fromisoformat(fields["NotAfter"].replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise Unauthenticated(f"{VALIDITY} unreadable") from exc
    if not not_before <= now <= not_after:
        raise Unauthenticated("client certificate outside its validity period")


def mtls_caller(event: Mapping[str, Any], now: datetime) -> Caller:
    subject = header(event, SUBJECT)
    if not subject:
        raise Unauthenticated(f"{SUBJECT} missing")
    names = _rdn_values(subject, "CN")
    if len(names) != 1 or not SAFE_ID.fullmatch(names[0]):
        raise Unauthenticated(
            "client certificate subject needs exactly one CN that is an account id"
        )
    _check_validity(header(event, VALIDITY), now)
    return Caller(names[0], "mtls")


# --------------------------------------------------------------------------- OIDC


def _b64url(segment: str) -> bytes:
    # The ALB pads its segments with "=", unlike RFC 7515: accept both.
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthenticated("token segment is not base64url") from exc


def _json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url(segment))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthenticated("token segment is not JSON") from exc
    if not isinstance(value, dict):
        raise Unauthenticated("token segment is not a JSON object")
    return value


def fetch_key(region: str, kid: str) -> str:
    url = f"https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=KEY_TIMEOUT) as answer:
        return str(answer.read(4096).decode("ascii"))


_keys: dict[tuple[str, str], es256.Point] = {}
FETCH_KEY: KeyFetcher = fetch_key  # tests replace it


def _public_key(region: str, kid: str) -> es256.Point:
    if (region, kid) not in _keys:
        try:
            pem = FETCH_KEY(region, kid)
        except Exception as exc:
            raise KeysUnavailable(f"public key {kid} unavailable: {exc!r}"[:300]) from exc
        try:
            _keys[(region, kid)] = es256.public_key_from_pem(pem)
        except es256.BadKey as exc:
            raise KeysUnavailable(f"public key {kid} unusable: {exc}") from exc
    return _keys[(region, kid)]


def _check_expiry(exp: Any, now: datetime) -> None:
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise Unauthenticated("token has no expiry")
    if exp + LEEWAY_SECONDS < now.timestamp():
        raise Unauthenticated("token expired")


def oidc_caller(event: Mapping[str, Any], config: ProcessorConfig, now: datetime) -> Caller:
    token = header(event, OIDC_DATA)
    if not token:
        raise Unauthenticated(f"{OIDC_DATA} missing")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("token is not a JWS")
    head = _json(parts[0])
    if head.get("alg") != "ES256":
        raise Unauthenticated("token algorithm is not ES256")
    if head.get("signer") != config.alb_arn:
        raise Unauthenticated("token signed by another load balancer")
    kid = head.get("kid")
    if not isinstance(kid, str) or not KID.fullmatch(kid):
        raise Unauthenticated("token key id malformed")
    key = _public_key(config.region, kid)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    if not es256.verify(signing_input, _b64url(parts[2]), key):
        raise Unauthenticated("token signature does not verify")
    claims = _json(parts[1])
    _check_expiry(head.get("exp"), now)  # the ALB puts it in the header
    if "exp" in claims:
        _check_expiry(claims["exp"], now)
    identity = claims.get(config.account_claim)
    if not isinstance(identity, str) or not SAFE_ID.fullmatch(identity):
        raise Unauthenticated(f"token has no usable {config.account_claim} claim")
    return Caller(identity, "oidc")


# --------------------------------------------------------------------------- the entry


def caller(
    event: Mapping[str, Any], config: ProcessorConfig, now: datetime | None = None
) -> Caller | None:
    """The verified caller, or None with ``API_AUTH=none``; raises ``Unauthenticated``."""
    moment = now or datetime.fromtimestamp(time.time(), UTC)
    if config.api_auth == "mtls":
        return mtls_caller(event, moment)
    if config.api_auth == "oidc":
        return oidc_caller(event, config, moment)
    return None
