"""Validation of Login Kit authorize requests (the consent page and its form)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tiktok_emulator.config import REQUIRED_SCOPE, SCOPES, EmulatorConfig

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_REDIRECT_URI_LENGTH = 512


class AuthorizeRejected(Exception):
    """An authorize request that must be answered by an error page, never a redirect."""


@dataclass(frozen=True)
class AuthorizeRequest:
    client_key: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None


def parse_scopes(raw: str) -> tuple[str, ...]:
    """Comma-separated scopes in canonical order; unknown ones are rejected."""
    requested = {item.strip() for item in raw.split(",") if item.strip()}
    unknown = requested.difference(SCOPES)
    if unknown:
        raise AuthorizeRejected(f"Unknown scope: {', '.join(sorted(unknown))}.")
    return tuple(scope for scope in SCOPES if scope in requested)


def check_redirect_uri(uri: str, registered: Sequence[str]) -> None:
    """A non-empty redirect_uri: one of `registered` if any are, else https or local http."""
    if len(uri) >= _MAX_REDIRECT_URI_LENGTH:
        raise AuthorizeRejected("redirect_uri is too long.")
    if "?" in uri or "#" in uri:
        raise AuthorizeRejected("redirect_uri must not have a query or a fragment.")
    if registered:
        if uri not in registered:
            raise AuthorizeRejected("redirect_uri is not registered for this app.")
        # Registered URIs are trusted as given: local setups use hosts like http://api:8000.
        return
    parts = urlsplit(uri)
    local = parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise AuthorizeRejected("redirect_uri must be https (or http on localhost).")


def parse_authorize(params: Mapping[str, str], config: EmulatorConfig) -> AuthorizeRequest:
    """Check an authorize request's parameters, in the order TikTok's page reports them."""
    client_key = params.get("client_key", "")
    if not hmac.compare_digest(client_key.encode(), config.client_key.encode()):
        raise AuthorizeRejected("client_key is missing or unknown.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizeRejected("redirect_uri is required.")
    check_redirect_uri(redirect_uri, config.redirect_uris)
    if params.get("response_type") != "code":
        raise AuthorizeRejected("response_type must be code.")
    scopes = parse_scopes(params.get("scope", ""))
    if REQUIRED_SCOPE not in scopes:
        raise AuthorizeRejected(f"scope must include {REQUIRED_SCOPE}.")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if (challenge is None) != (method is None):
        raise AuthorizeRejected("code_challenge and code_challenge_method go together.")
    if method is not None and method != "S256":
        raise AuthorizeRejected("code_challenge_method must be S256.")
    return AuthorizeRequest(
        client_key=client_key,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=params.get("state"),
        code_challenge=challenge,
        code_challenge_method=method,
    )
