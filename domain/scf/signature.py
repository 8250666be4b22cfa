"""Alma webhook signatures: who may talk to the bridge (rule W2).

Alma signs each webhook with ``base64(HMAC-SHA256(secret, raw body))`` in ``X-Exl-Signature``.
The signature is computed over the bytes exactly as received: re-serialised JSON would differ.
Verification fails closed: anything odd about the header or the secret means "not verified".
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Exl-Signature"


def _as_bytes(value: str | bytes) -> bytes:
    # surrogatepass: a secret or header decoded from JSON can hold lone surrogates; such a value
    # simply fails to match instead of raising.
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Exl-Signature`` value Alma sends for ``body`` with ``secret``."""
    digest = hmac.new(_as_bytes(secret), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str | bytes | None, body: bytes, signature: str | bytes | None) -> bool:
    """Whether ``signature`` proves that Alma, holding ``secret``, sent ``body``.

    A missing secret or header, or a header that is not this body's signature, gives False; it
    never raises. The comparison takes constant time so the header cannot be guessed byte by byte.
    """
    if not secret or not signature:
        return False
    expected = sign(secret, body).encode("ascii")
    return hmac.compare_digest(expected, _as_bytes(signature).strip())
