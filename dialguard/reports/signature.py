"""Detached signatures of report files with the audit signing key (Ed25519).

The signature file is JSON: ``{"v": 1, "algorithm": "ed25519", "key_id", "file", "sha256",
"signed_at", "signature"}``. What is signed is ``dialguard report v1\\n<sha256>\\n<signed_at>``:
the file's digest (so any change to a byte fails) and when it was signed. Anyone holding the
public key (``dialguard audit public-key`` or the key file's public half) can check it with
``dialguard report verify FILE SIG [--public-key PEM]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..audit.checkpoint import SigningKey, key_id_of


class SignatureError(ValueError):
    """The signature file cannot be read, or does not match the file."""


def _message(sha256: str, signed_at: str) -> bytes:
    return f"dialguard report v1\n{sha256}\n{signed_at}".encode()


def sign(data: bytes, name: str, key: SigningKey, at: datetime) -> str:
    """The signature file's text for ``data`` (the report named ``name``)."""
    digest = hashlib.sha256(data).hexdigest()
    signed_at = at.isoformat()
    signature = base64.b64encode(key.sign_bytes(_message(digest, signed_at))).decode()
    body = {
        "v": 1,
        "algorithm": "ed25519",
        "key_id": key.key_id,
        "file": name,
        "sha256": digest,
        "signed_at": signed_at,
        "signature": signature,
    }
    return json.dumps(body, indent=1) + "\n"


@dataclass(frozen=True)
class Verified:
    key_id: str
    signed_at: str
    sha256: str


def verify(data: bytes, signature_text: str, public: Ed25519PublicKey) -> Verified:
    """Check ``data`` against its signature file; raises :class:`SignatureError` naming why."""
    try:
        body = json.loads(signature_text)
        digest, signed_at = str(body["sha256"]), str(body["signed_at"])
        raw = base64.b64decode(body["signature"], validate=True)
        key_id = str(body["key_id"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SignatureError("signature file: not a dialguard report signature") from None
    if key_id != key_id_of(public):
        raise SignatureError(f"signed with key {key_id}, not the one given ({key_id_of(public)})")
    if hashlib.sha256(data).hexdigest() != digest:
        raise SignatureError("the file does not match its signature (it was changed)")
    try:
        public.verify(raw, _message(digest, signed_at))
    except InvalidSignature:
        raise SignatureError("the signature is invalid (the signature file was changed)") from None
    return Verified(key_id, signed_at, digest)
