"""Authenticated encryption of single field values, and keyed blind indexes for exact search.

Ciphertext format (ASCII, fits a TextField): ``v1:<key id>:<base64(nonce || AES-GCM ciphertext+tag)>``.
The key id names the key that sealed the value, so a rotation can re-encrypt row by row while
both keys are configured. Each value is bound to its purpose (e.g. "resident.id_number") as
associated data, so a ciphertext copied into another column does not decrypt.

Keys live outside the database: GRIDGOV_FIELD_KEY (current, base64 of 32 bytes),
GRIDGOV_FIELD_KEYS_PREVIOUS (comma-separated, only needed during a rotation) and
GRIDGOV_INDEX_KEY (HMAC key of the blind index). Tests derive fixed keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12


class FieldCryptoError(RuntimeError):
    """A value could not be decrypted: wrong or missing key, or the ciphertext was altered."""


@dataclass(frozen=True)
class FieldKeys:
    current_id: str
    by_id: dict[str, bytes]
    index_key: bytes


def _decode_key(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to exactly 32 bytes (got {len(key)})")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"gridgov-key-id:" + key).hexdigest()[:8]


def _test_key(label: str) -> bytes:
    return hashlib.sha256(f"gridgov-test-{label}".encode()).digest()


@lru_cache(maxsize=1)
def keys() -> FieldKeys:
    field_raw = os.environ.get("GRIDGOV_FIELD_KEY", "")
    index_raw = os.environ.get("GRIDGOV_INDEX_KEY", "")
    testing = bool(getattr(settings, "TESTING", False))
    if field_raw:
        current = _decode_key("GRIDGOV_FIELD_KEY", field_raw)
    elif testing:
        current = _test_key("field")
    else:
        raise ImproperlyConfigured("GRIDGOV_FIELD_KEY is not set: personal data cannot be encrypted.")
    if index_raw:
        index_key = _decode_key("GRIDGOV_INDEX_KEY", index_raw)
    elif testing:
        index_key = _test_key("index")
    else:
        raise ImproperlyConfigured("GRIDGOV_INDEX_KEY is not set: personal data cannot be indexed.")
    by_id = {key_id(current): current}
    for i, raw in enumerate(k for k in os.environ.get("GRIDGOV_FIELD_KEYS_PREVIOUS", "").split(",") if k.strip()):
        old = _decode_key(f"GRIDGOV_FIELD_KEYS_PREVIOUS[{i}]", raw)
        by_id.setdefault(key_id(old), old)
    return FieldKeys(current_id=key_id(current), by_id=by_id, index_key=index_key)


def reset_keys() -> None:
    """Forget the cached keys (after the environment changed, e.g. in a rotation test)."""
    keys.cache_clear()
    _aead.cache_clear()


@lru_cache(maxsize=8)
def _aead(key: bytes) -> AESGCM:
    # One cipher object per key: building it costs more than sealing a short value.
    return AESGCM(key)


def encrypt(plaintext: str, *, purpose: str) -> str:
    k = keys()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(k.by_id[k.current_id]).encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())
    return f"{VERSION}:{k.current_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def sealed_key_id(ciphertext: str) -> str:
    parts = ciphertext.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise FieldCryptoError("not a GridGov field ciphertext")
    return parts[1]


def decrypt(ciphertext: str, *, purpose: str) -> str:
    kid = sealed_key_id(ciphertext)
    key = keys().by_id.get(kid)
    if key is None:
        raise FieldCryptoError(f"no key with id {kid} is configured")
    try:
        blob = base64.b64decode(ciphertext.split(":", 2)[2], validate=True)
        plain = _aead(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise FieldCryptoError("ciphertext was altered or sealed for another field") from exc
    return plain.decode("utf-8")


def needs_rotation(ciphertext: str) -> bool:
    return sealed_key_id(ciphertext) != keys().current_id


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed digest for exact-match search; equal inputs give equal digests, nothing else leaks."""
    return hmac.digest(keys().index_key, f"{purpose}\x00{value}".encode(), "sha256").hex()
