"""Token encryption at rest: AES-256-GCM with rotatable keys and bound associated data.

Keys are given in Fernet format (URL-safe base64 of 32 bytes) in INTEGRATION_ENCRYPTION_KEY,
comma-separated: the first encrypts, all decrypt. Each ciphertext names its key by id, and
the account id plus column name are bound as associated data, so a ciphertext copied to
another row or column fails to decrypt instead of silently yielding another account's token.

Format: `v1.<key id>.<base64url(nonce || ciphertext+tag)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.config import split_csv

VERSION = "v1"
NONCE_BYTES = 12
TAG_BYTES = 16
# Unpadded base64url: a length of 4n+1 cannot come from any byte string.
_PAYLOAD = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")


class CryptoConfigError(ValueError):
    """INTEGRATION_ENCRYPTION_KEY is unusable."""


class DecryptionError(Exception):
    """A ciphertext is corrupt, was moved, or its key is no longer configured."""


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"integration-key-id:" + key).hexdigest()[:8]


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError) as exc:
        raise CryptoConfigError(
            "INTEGRATION_ENCRYPTION_KEY holds a key that is not base64"
        ) from exc
    if len(key) != 32:
        raise CryptoConfigError("INTEGRATION_ENCRYPTION_KEY keys must be 32 bytes (Fernet format)")
    return key


class TokenCipher:
    def __init__(self, keys: str) -> None:
        decoded = [_decode_key(text) for text in split_csv(keys)]
        if not decoded:
            raise CryptoConfigError("INTEGRATION_ENCRYPTION_KEY is empty")
        self._keys = {_key_id(key): AESGCM(key) for key in decoded}
        self.current_key_id = _key_id(decoded[0])

    @staticmethod
    def _aad(account_id: uuid.UUID, field: str) -> bytes:
        return f"{account_id}:{field}".encode()

    def encrypt(self, plaintext: str, *, account_id: uuid.UUID, field: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_key_id].encrypt(
            nonce, plaintext.encode(), self._aad(account_id, field)
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.current_key_id}.{payload}"

    def decrypt(self, ciphertext: str, *, account_id: uuid.UUID, field: str) -> str:
        """The plaintext, or `DecryptionError` for anything that is not a ciphertext this
        cipher sealed for this account and field: malformed, short, truncated, tampered,
        moved, sealed under a key no longer configured, or not UTF-8 inside."""
        parts = ciphertext.split(".", 2)
        if len(parts) != 3 or parts[0] != VERSION:
            raise DecryptionError("malformed ciphertext")
        _, key_id, payload = parts
        aead = self._keys.get(key_id)
        if aead is None:
            raise DecryptionError("ciphertext key is not configured")
        if not _PAYLOAD.fullmatch(payload):
            raise DecryptionError("ciphertext is not base64url")
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is truncated")
        try:
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(account_id, field))
            return plain.decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not belong to this account and field") from exc
        except (ValueError, OverflowError) as exc:  # UnicodeDecodeError is a ValueError
            raise DecryptionError("ciphertext does not decrypt to text") from exc

    def key_id_of(self, ciphertext: str) -> str | None:
        parts = ciphertext.split(".", 2)
        return parts[1] if len(parts) == 3 else None

    def needs_rotation(self, ciphertext: str) -> bool:
        return self.key_id_of(ciphertext) != self.current_key_id
