"""Tokens at rest: AES-256-GCM, key ids, rotation, and ciphertexts bound to row and column."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.crypto import CryptoConfigError, DecryptionError, TokenCipher

OLD = "b2xkLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
NEW = "bmV3LWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    cipher = TokenCipher(NEW)
    account = uuid.uuid4()
    sealed = cipher.encrypt("act.secret-value", account_id=account, field="access_token")
    assert "secret-value" not in sealed
    assert sealed.startswith("v1.")
    assert cipher.decrypt(sealed, account_id=account, field="access_token") == "act.secret-value"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    cipher = TokenCipher(NEW)
    account = uuid.uuid4()
    first = cipher.encrypt("x", account_id=account, field="access_token")
    assert first != cipher.encrypt("x", account_id=account, field="access_token")


def test_ciphertext_moved_to_another_account_fails_to_decrypt() -> None:
    cipher = TokenCipher(NEW)
    sealed = cipher.encrypt("rft.1", account_id=uuid.uuid4(), field="refresh_token")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, account_id=uuid.uuid4(), field="refresh_token")


def test_ciphertext_moved_to_another_column_fails_to_decrypt() -> None:
    cipher = TokenCipher(NEW)
    account = uuid.uuid4()
    sealed = cipher.encrypt("rft.1", account_id=account, field="refresh_token")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, account_id=account, field="access_token")


def test_old_keys_still_decrypt_and_the_first_key_encrypts() -> None:
    account = uuid.uuid4()
    sealed_old = TokenCipher(OLD).encrypt("t", account_id=account, field="access_token")
    rotated = TokenCipher(f"{NEW},{OLD}")
    assert rotated.decrypt(sealed_old, account_id=account, field="access_token") == "t"
    assert rotated.needs_rotation(sealed_old)
    sealed_new = rotated.encrypt("t", account_id=account, field="access_token")
    assert not rotated.needs_rotation(sealed_new)
    with pytest.raises(DecryptionError):
        TokenCipher(OLD).decrypt(sealed_new, account_id=account, field="access_token")


@pytest.mark.parametrize("tampered", ["", "v1.abc", "v2.x.y", "v1.00000000.AAAA", "garbage"])
def test_malformed_or_unknown_ciphertexts_fail_cleanly(tampered: str) -> None:
    with pytest.raises(DecryptionError):
        TokenCipher(NEW).decrypt(tampered, account_id=uuid.uuid4(), field="access_token")


@pytest.mark.parametrize("keys", ["", "not base64!", "c2hvcnQ="])
def test_unusable_keys_are_refused_at_start(keys: str) -> None:
    with pytest.raises(CryptoConfigError):
        TokenCipher(keys)


def _undecryptable(kind: str, cipher: TokenCipher, account: uuid.UUID) -> str:
    key_id = cipher.current_key_id
    sealed = cipher.encrypt("act.secret-value", account_id=account, field="access_token")
    if kind == "not_utf8":  # sealed correctly, but the plaintext is not text
        nonce = os.urandom(12)
        inner = AESGCM(base64.urlsafe_b64decode(NEW)).encrypt(
            nonce, b"\xff\xfe token", f"{account}:access_token".encode()
        )
        return f"v1.{key_id}." + base64.urlsafe_b64encode(nonce + inner).decode().rstrip("=")
    return {
        "short": f"v1.{key_id}.AAAA",  # the case: a nonce of 3 bytes
        "empty_payload": f"v1.{key_id}.",
        "nonce_only": f"v1.{key_id}." + base64.urlsafe_b64encode(bytes(12)).decode(),
        "nonce_and_part_of_the_tag": sealed[: len(f"v1.{key_id}.") + 30],
        "truncated": sealed[:-4],
        "one_char_too_many": sealed + "A",
        "not_base64": f"v1.{key_id}.!!!!",
        "non_ascii": f"v1.{key_id}.ÄÖÜß",
        "standard_base64_alphabet": sealed.replace("-", "+").replace("_", "/") + "+/",
        "extra_dot": sealed + ".x",
        "no_key_id": f"v1..{sealed.split('.', 2)[2]}",
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "short",
        "empty_payload",
        "nonce_only",
        "nonce_and_part_of_the_tag",
        "truncated",
        "one_char_too_many",
        "not_base64",
        "non_ascii",
        "standard_base64_alphabet",
        "extra_dot",
        "no_key_id",
        "not_utf8",
    ],
)
def test_every_undecryptable_value_is_a_decryption_error(kind: str) -> None:
    cipher = TokenCipher(NEW)
    account = uuid.uuid4()

    with pytest.raises(DecryptionError):
        cipher.decrypt(
            _undecryptable(kind, cipher, account), account_id=account, field="access_token"
        )
