"""The authenticated API: the caller the load balancer vouches for must own the account.

OIDC tokens are made here as the ALB makes them (ES256, ``signer``/``kid``/``exp`` in the
header, base64url segments with padding) with keys from ``cryptography``, which also serves as
the oracle for the pure-Python ES256 verifier."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from txnproc import auth, es256
from txnproc.config import load_processor
from txnproc.errors import ConfigError
from txnproc_helpers import REGION, Stack, alb_event, message

ALB_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/app/txn/50dc6c495c0c9188"
)
KID = "3f1e0c1a-6d1b-4c55-9a43-0d6b2b8c5e11"


# --------------------------------------------------------------------------- helpers


def received(stack: Stack) -> list[dict[str, Any]]:
    answer = stack.client("sqs").receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10)
    return list(answer.get("Messages", []))


def post(stack: Stack, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    event = alb_event("POST", "/transactions", json.dumps(message(**body)))
    event["headers"].update(headers)
    return stack.invoke(event)


def raw_signature(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()  # padded, as the ALB does


class Signer:
    """The load balancer's side: a key pair per kid and tokens signed with it."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.fetched: list[tuple[str, str]] = []

    def fetch(self, region: str, kid: str) -> str:
        self.fetched.append((region, kid))
        return pem_of(self.key)

    def token(self, claims: dict[str, Any] | None = None, **header: Any) -> str:
        head = {
            "alg": "ES256",
            "kid": KID,
            "signer": ALB_ARN,
            "iss": "https://idp.example.com",
            "client": "client-1",
            "exp": int(time.time()) + 600,
            **header,
        }
        body = {"sub": "user-1", "account_id": "acct-42", **(claims or {})}
        signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(body).encode())}"
        return f"{signing_input}.{b64(raw_signature(self.key, signing_input.encode()))}"


@pytest.fixture
def signer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Signer]:
    made = Signer()
    monkeypatch.setattr(auth, "FETCH_KEY", made.fetch)
    monkeypatch.setattr(auth, "_keys", {})
    yield made


def mtls_headers(cn: str = "acct-42", validity: str | None = None) -> dict[str, str]:
    return {
        "x-amzn-mtls-clientcert-subject": f"CN={cn},OU=Payments,O=Example Corp,C=US",
        "x-amzn-mtls-clientcert-issuer": "CN=Example Client CA,O=Example Corp,C=US",
        "x-amzn-mtls-clientcert-serial-number": "0A1B2C3D",
        "x-amzn-mtls-clientcert-validity": validity
        or "NotBefore=2020-01-01T00:00:00Z;NotAfter=2099-01-01T00:00:00Z",
        "x-amzn-mtls-clientcert-leaf": "-----BEGIN%20CERTIFICATE-----%0A...",
    }


# --------------------------------------------------------------------------- mtls


def test_mtls_match_is_accepted(stack: Stack) -> None:
    stack.set_env(API_AUTH="mtls")
    assert post(stack, mtls_headers())["statusCode"] == 202
    assert len(received(stack)) == 1


def test_mtls_mismatch_is_403(stack: Stack) -> None:
    stack.set_env(API_AUTH="mtls")
    response = post(stack, mtls_headers(cn="acct-7"))
    assert response["statusCode"] == 403
    assert json.loads(response["body"]) == {"error": "account does not belong to the caller"}
    assert received(stack) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-amzn-mtls-clientcert-subject": "O=Example Corp,C=US"},
        {"x-amzn-mtls-clientcert-subject": "CN=acct-42,CN=acct-7"},
        {"x-amzn-mtls-clientcert-subject": "CN=acct 42\\, Inc"},
        mtls_headers(validity="NotBefore=2020-01-01T00:00:00Z;NotAfter=2021-01-01T00:00:00Z"),
        {"x-amzn-mtls-clientcert-subject": "CN=acct-42"},  # no validity: not our ALB
    ],
    ids=["missing", "no-cn", "two-cns", "not-an-account", "expired", "no-validity"],
)
def test_mtls_missing_or_unusable_identity_is_401(stack: Stack, headers: dict[str, str]) -> None:
    stack.set_env(API_AUTH="mtls")
    response = post(stack, headers)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == {"error": "unauthenticated"}
    assert received(stack) == []


def test_subject_parsing_honours_escapes() -> None:
    assert auth._rdn_values("CN=a\\,b,O=x", "CN") == ["a,b"]
    assert auth._rdn_values("cn = acct-1 , o=x", "CN") == ["acct-1"]


# --------------------------------------------------------------------------- oidc


def oidc(stack: Stack, **env: str) -> None:
    stack.set_env(API_AUTH="oidc", ALB_ARN=ALB_ARN, **env)


def test_oidc_match_is_accepted(stack: Stack, signer: Signer) -> None:
    oidc(stack)
    response = post(stack, {"x-amzn-oidc-data": signer.token(), "x-amzn-oidc-identity": "user-1"})
    assert response["statusCode"] == 202
    assert signer.fetched == [(REGION, KID)]
    assert (
        post(stack, {"x-amzn-oidc-data": signer.token()}, transaction_id="t2")["statusCode"] == 202
    )
    assert signer.fetched == [(REGION, KID)]  # cached per sandbox
    assert len(received(stack)) == 2


def test_oidc_mismatch_is_403(stack: Stack, signer: Signer) -> None:
    oidc(stack)
    response = post(stack, {"x-amzn-oidc-data": signer.token({"account_id": "acct-7"})})
    assert response["statusCode"] == 403
    assert received(stack) == []


def test_oidc_claim_name_is_configurable(stack: Stack, signer: Signer) -> None:
    oidc(stack, API_ACCOUNT_CLAIM="custom:account")
    good = signer.token({"custom:account": "acct-42", "account_id": "acct-7"})
    assert post(stack, {"x-amzn-oidc-data": good})["statusCode"] == 202
    bad = signer.token({"account_id": "acct-42"})  # the default claim no longer counts
    assert post(stack, {"x-amzn-oidc-data": bad})["statusCode"] == 401


def tampered(signer: Signer) -> str:
    head, _body, sig = signer.token().split(".")
    forged = b64(json.dumps({"sub": "user-1", "account_id": "acct-42", "x": 1}).encode())
    return f"{head}.{forged}.{sig}"


@pytest.mark.parametrize(
    "make",
    [
        lambda s: None,
        lambda s: "not-a-token",
        lambda s: s.token(signer="arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y"),
        lambda s: s.token(alg="none"),
        lambda s: s.token(exp=int(time.time()) - 3600),
        lambda s: s.token({"exp": int(time.time()) - 3600}),
        lambda s: s.token(exp=None),
        lambda s: s.token(kid="../../evil"),
        lambda s: s.token({"account_id": 42}),
        tampered,
        lambda s: Signer().token(),  # signed by a key that is not the ALB's for that kid
    ],
    ids=[
        "missing",
        "garbage",
        "other-alb",
        "alg-none",
        "expired",
        "claims-expired",
        "no-exp",
        "bad-kid",
        "claim-not-text",
        "tampered",
        "wrong-key",
    ],
)
def test_oidc_missing_or_invalid_token_is_401(stack: Stack, signer: Signer, make: Any) -> None:
    oidc(stack)
    token = make(signer)
    response = post(stack, {} if token is None else {"x-amzn-oidc-data": token})
    assert response["statusCode"] == 401
    assert received(stack) == []


def test_oidc_keys_unavailable_is_503(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    oidc(stack)
    monkeypatch.setattr(auth, "_keys", {})

    def down(region: str, kid: str) -> str:
        raise OSError("no route to public-keys.auth.elb")

    monkeypatch.setattr(auth, "FETCH_KEY", down)
    response = post(stack, {"x-amzn-oidc-data": Signer().token()})
    assert response["statusCode"] == 503
    assert received(stack) == []


def test_multi_value_headers_must_not_repeat_the_identity(stack: Stack) -> None:
    stack.set_env(API_AUTH="mtls")
    event = alb_event("POST", "/transactions", json.dumps(message()))
    event["multiValueHeaders"] = {k: [v] for k, v in mtls_headers().items()}
    assert stack.invoke(event)["statusCode"] == 202
    event["multiValueHeaders"]["x-amzn-mtls-clientcert-subject"].append("CN=acct-7")
    assert stack.invoke(event)["statusCode"] == 401


# --------------------------------------------------------------------------- none


def test_none_checks_no_identity(stack: Stack) -> None:
    assert stack.env["API_AUTH"] == "none"
    assert post(stack, {}, account_id="anyone")["statusCode"] == 202
    assert post(stack, mtls_headers(cn="acct-7"), transaction_id="t2")["statusCode"] == 202


def test_api_auth_config() -> None:
    env = {
        "AWS_REGION": REGION,
        "DB_HOST": "h",
        "DB_NAME": "d",
        "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x",
        "QUEUE_URL": "q",
        "SESSIONS_TABLE": "t",
        "LOG_BUCKET": "b",
    }
    with pytest.raises(ConfigError, match="API_AUTH must be one of mtls, oidc, none"):
        load_processor(env)
    assert load_processor({**env, "API_AUTH": "mtls"}).api_auth == "mtls"
    with pytest.raises(ConfigError, match="ALB_ARN"):
        load_processor({**env, "API_AUTH": "oidc"})
    config = load_processor({**env, "API_AUTH": "oidc", "ALB_ARN": ALB_ARN})
    assert (config.alb_arn, config.account_claim) == (ALB_ARN, "account_id")
    with pytest.raises(ConfigError, match="API_ACCOUNT_CLAIM"):
        load_processor({**env, "API_AUTH": "none", "API_ACCOUNT_CLAIM": "a b"})


# --------------------------------------------------------------------------- ES256 itself


def test_es256_agrees_with_openssl() -> None:
    for _ in range(16):
        key = ec.generate_private_key(ec.SECP256R1())
        point = es256.public_key_from_pem(pem_of(key))
        data = os.urandom(40)
        sig = raw_signature(key, data)
        assert es256.verify(data, sig, point)
        assert not es256.verify(data + b"x", sig, point)
        flipped = bytes([sig[0] ^ 1]) + sig[1:]
        r, s = int.from_bytes(flipped[:32], "big"), int.from_bytes(flipped[32:], "big")
        with pytest.raises(InvalidSignature):  # the oracle refuses it, and so do we
            key.public_key().verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        assert not es256.verify(data, flipped, point)
        other = ec.generate_private_key(ec.SECP256R1())
        assert not es256.verify(data, raw_signature(other, data), point)


def test_es256_rejects_the_classic_forgeries() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    point = es256.public_key_from_pem(pem_of(key))
    data = b"payload"
    sig = raw_signature(key, data)
    s = int.from_bytes(sig[32:], "big")
    # (r, n - s) is the same signature mirrored: valid for ECDSA, and for OpenSSL too.
    mirrored = sig[:32] + (es256.N - s).to_bytes(32, "big")
    assert es256.verify(data, mirrored, point)
    key.public_key().verify(
        encode_dss_signature(int.from_bytes(sig[:32], "big"), es256.N - s),
        data,
        ec.ECDSA(hashes.SHA256()),
    )
    zero = (0).to_bytes(32, "big")
    for bad in (
        zero + sig[32:],
        sig[:32] + zero,
        es256.N.to_bytes(32, "big") + sig[32:],
        sig[:32] + es256.N.to_bytes(32, "big"),
        sig[:63],
        b"",
    ):
        assert not es256.verify(data, bad, point)
    assert not es256.verify(data, sig, (point[0], (point[1] + 1) % es256.P))  # off the curve


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ],
    ids=["text", "not-base64", "too-short"],
)
def test_es256_refuses_what_is_not_a_p256_key(pem: str) -> None:
    with pytest.raises(es256.BadKey):
        es256.public_key_from_pem(pem)


def test_es256_refuses_other_curves_and_points_off_the_curve() -> None:
    p384 = pem_of(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(es256.BadKey):
        es256.public_key_from_pem(p384)
    key = ec.generate_private_key(ec.SECP256R1())
    der = bytearray(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    der[-1] ^= 1  # y no longer matches x
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(bytes(der)).decode()
        + "\n-----END PUBLIC KEY-----"
    )
    with pytest.raises(es256.BadKey, match="not on P-256"):
        es256.public_key_from_pem(pem)
