"""JSON Web Tokens: decode the claims to scrub them, re-encode and re-sign the result."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import string
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["JwtParts", "decode_jwt", "rewrite_jwt"]


class JwtParts(NamedTuple):
    """The decoded header and claims of a token (its signature stays encoded)."""

    header: dict[str, Any]
    claims: Any
    signature: str


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_jwt(token: str) -> JwtParts | None:
    """The parts of ``token``, or None when it does not decode as a JWT."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        header = json.loads(_b64decode(pieces[0]))
        claims = json.loads(_b64decode(pieces[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    return JwtParts(header, claims, pieces[2])


def rewrite_jwt(
    token: str,
    replace_claims: Callable[[str], str],
    signing_key: bytes,
    rng: random.Random,
) -> str:
    """The token with its claims rewritten by ``replace_claims`` (on the claims' JSON text).

    HS256 tokens are re-signed with ``signing_key`` (the replay key, derived from the dataset
    key), so a rebuilt service holding that key accepts them; other algorithms get a random
    signature of the same length (the real private key is not ours to use), and unsigned or
    truncated tokens stay unsigned.
    """
    parts = decode_jwt(token)
    if parts is None:
        return token
    head, payload, signature = token.split(".")
    new_payload = _b64encode(replace_claims(_b64decode(payload).decode("utf-8")).encode("utf-8"))
    signed = f"{head}.{new_payload}"
    if not signature:
        return signed + "."
    if parts.header.get("alg") == "HS256":
        mac = hmac.new(signing_key, signed.encode("ascii"), hashlib.sha256).digest()
        return f"{signed}.{_b64encode(mac)}"
    alphabet = string.ascii_letters + string.digits + "-_"
    return f"{signed}." + "".join(rng.choice(alphabet) for _ in signature)
