"""ES256 (ECDSA over NIST P-256 with SHA-256) signature *verification*, in pure Python.

Why by hand: the Lambda zip is pure Python (the ``cryptography`` wheel is native), and this is
the only primitive we need: checking the signature the load balancer puts on
``x-amzn-oidc-data`` with the public key it publishes. Verification handles public data only,
so constant time does not matter; what matters is exactness, which the tests check against
``cryptography`` (OpenSSL) as the oracle on random keys and messages, tampering, and the
classic mistakes (r or s zero or out of range, a key off the curve, the point at infinity).

The algorithm is FIPS 186-4 §6.4.2; the curve constants are from SEC 2 (secp256r1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
# DER SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1, up to the uncompressed point.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")

Point = tuple[int, int]
Jacobian = tuple[int, int, int]  # Z == 0: the point at infinity
INFINITY: Jacobian = (1, 1, 0)


class BadKey(ValueError):
    """Not a P-256 public key in the form the load balancer publishes."""


def on_curve(point: Point) -> bool:
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def public_key_from_pem(pem: str) -> Point:
    """The point of a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo) on P-256, validated."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN PUBLIC KEY-----":
        raise BadKey("not a PEM public key")
    if lines[-1] != "-----END PUBLIC KEY-----":
        raise BadKey("not a PEM public key")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadKey("PEM body is not base64") from exc
    if len(der) != len(SPKI_PREFIX) + 65 or not der.startswith(SPKI_PREFIX):
        raise BadKey("not an uncompressed P-256 public key")
    raw = der[len(SPKI_PREFIX) :]
    if raw[0] != 4:
        raise BadKey("not an uncompressed P-256 public key")
    point = (int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big"))
    if not on_curve(point):
        raise BadKey("the point is not on P-256")
    return point


def _double(pt: Jacobian) -> Jacobian:
    x, y, z = pt
    if z == 0 or y == 0:
        return INFINITY
    delta = z * z % P
    gamma = y * y % P
    beta = x * gamma % P
    alpha = 3 * (x - delta) * (x + delta) % P  # a = -3
    x3 = (alpha * alpha - 8 * beta) % P
    z3 = ((y + z) ** 2 - gamma - delta) % P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % P
    return (x3, y3, z3)


def _add(p1: Jacobian, p2: Jacobian) -> Jacobian:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    if h == 0:
        return _double(p1) if r == 0 else INFINITY
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = z1 * z2 * h % P
    return (x3, y3, z3)


def _affine_x(pt: Jacobian) -> int | None:
    x, _y, z = pt
    if z == 0:
        return None
    zinv = pow(z, -1, P)
    return x * zinv * zinv % P


def _combination(u1: int, u2: int, q: Point) -> Jacobian:
    """u1·G + u2·Q by Shamir's trick: one pass over the bits of both scalars."""
    g: Jacobian = (G[0], G[1], 1)
    qj: Jacobian = (q[0], q[1], 1)
    table = {(1, 0): g, (0, 1): qj, (1, 1): _add(g, qj)}
    acc = INFINITY
    for bit in range(max(u1.bit_length(), u2.bit_length()) - 1, -1, -1):
        acc = _double(acc)
        pick = ((u1 >> bit) & 1, (u2 >> bit) & 1)
        if pick != (0, 0):
            acc = _add(acc, table[pick])
    return acc


def verify(message: bytes, signature: bytes, key: Point) -> bool:
    """Whether ``signature`` (JOSE form: r and s, 32 bytes each, big-endian) is a valid
    ES256 signature of ``message`` under ``key`` (a point from ``public_key_from_pem``)."""
    if len(signature) != 64 or not on_curve(key):
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")  # 256 bits: no truncation
    w = pow(s, -1, N)
    x = _affine_x(_combination(e * w % N, r * w % N, key))
    return x is not None and x % N == r
