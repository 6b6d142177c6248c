"""PKCE for TikTok's authorize step: verifiers and the challenge in each encoding we support.

TikTok documents the challenge as the lowercase hex SHA-256 of the verifier (desktop docs and
its Android SDK), not RFC 7636's base64url; `s256` is the RFC form, `off` sends none.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from typing import Literal, assert_never

PkceEncoding = Literal["hex", "s256", "off"]

# RFC 7636 "unreserved" characters; TikTok accepts 43-128 of them.
VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"
VERIFIER_LENGTH = 64


def new_verifier() -> str:
    return "".join(secrets.choice(VERIFIER_ALPHABET) for _ in range(VERIFIER_LENGTH))


def challenge(verifier: str, encoding: PkceEncoding) -> str | None:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    match encoding:
        case "hex":
            return digest.hex()
        case "s256":
            return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        case "off":
            return None
        case _:
            assert_never(encoding)
