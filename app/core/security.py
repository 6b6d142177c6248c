"""CRM authentication: who is calling, and for which company.

Users send `Authorization: Bearer <JWT issued by the CRM>`; internal services send one of
`SERVICE_API_KEYS` in `X-API-Key` and name the company in `X-Company-Id`.
"""

from __future__ import annotations

import functools
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from app.core.config import Settings
from app.core.errors import InvalidToken, SubscriptionInactive, TokenExpired, Unauthorized

SUBSCRIPTION_CLAIM = "subscription_active"


class AmbiguousCredentials(Unauthorized):
    code = "ambiguous_credentials"
    message = (
        "The request carries both a bearer token and a different service key; send one credential."
    )


MAX_COMPANY_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "service"]
    company_id: str
    user_id: str | None
    service: str | None = None

    @property
    def actor(self) -> str:
        return self.user_id if self.kind == "user" and self.user_id else f"service:{self.service}"


def _verification_key(settings: Settings) -> tuple[str, list[str]]:
    algorithms = settings.auth_jwt_algorithms
    asymmetric = [alg for alg in algorithms if not alg.startswith("HS")]
    if asymmetric and settings.auth_jwt_public_key:
        return settings.auth_jwt_public_key.get_secret_value(), asymmetric
    secret = settings.jwt_secret
    if secret is None:
        raise InvalidToken("The service has no key to verify CRM tokens.")
    return secret, [alg for alg in algorithms if alg.startswith("HS")] or ["HS256"]


def _company_from(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidToken("The token does not name a company.")
    company = str(value).strip()
    if not company or len(company) > MAX_COMPANY_ID_LENGTH:
        raise InvalidToken("The token does not name a company.")
    return company


def principal_from_jwt(token: str, settings: Settings) -> Principal:
    """The CRM user a bearer token names, or a 401/403 error.

    A token that verified is remembered (`VERIFIED_TOKENS` of them, least recently used
    forgotten first) with everything its verification depended on, so the frontend's next
    requests with it cost a dictionary lookup instead of a signature check; its expiry is
    checked on every use. A token that failed is never remembered."""
    key, algorithms = _verification_key(settings)
    principal, expires_at = _verified(
        token,
        key,
        tuple(algorithms),
        settings.auth_jwt_issuer,
        settings.auth_jwt_audience,
        settings.auth_company_claim,
    )
    if expires_at <= time.time():
        raise TokenExpired
    return principal


# Distinct tokens remembered as verified (a token is a few hundred bytes).
VERIFIED_TOKENS = 4096


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(
    token: str,
    key: str,
    algorithms: tuple[str, ...],
    issuer: str | None,
    audience: str | None,
    company_claim: str,
) -> tuple[Principal, float]:
    """Verify a token once for these inputs: the principal and the token's expiry."""
    options = {"require": ["exp", "sub"], "verify_aud": audience is not None}
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            issuer=issuer,
            audience=audience,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken from exc
    company = _company_from(claims.get(company_claim))
    if claims.get(SUBSCRIPTION_CLAIM) is False:
        raise SubscriptionInactive
    principal = Principal(kind="user", company_id=company, user_id=str(claims["sub"]))
    return principal, float(claims["exp"])


def principal_from_service_key(key: str, company: str | None, settings: Settings) -> Principal:
    service = None
    for known, name in settings.service_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            service = name
    if service is None:
        raise InvalidToken("The service key is not valid.")
    if not company:
        raise Unauthorized("A service key must be sent with an X-Company-Id header.")
    return Principal(
        kind="service", company_id=_company_from(company), user_id=None, service=service
    )


def mint_dev_token(
    settings: Settings, company: str, user: str = "dev-user", ttl_seconds: int = 3600
) -> str:
    """A CRM-shaped JWT for local use. Refused in production."""
    if settings.is_production:
        raise RuntimeError("development tokens are not available in production")
    secret = settings.jwt_secret
    if secret is None:
        raise RuntimeError("AUTH_JWT_SECRET is needed to mint a development token")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user,
        settings.auth_company_claim: company,
        SUBSCRIPTION_CLAIM: True,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if settings.auth_jwt_issuer:
        claims["iss"] = settings.auth_jwt_issuer
    if settings.auth_jwt_audience:
        claims["aud"] = settings.auth_jwt_audience
    return jwt.encode(claims, secret, algorithm="HS256")
