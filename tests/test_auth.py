"""CRM authentication: bearer JWTs, service keys, subscription and company scoping."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core import security
from app.core.errors import InvalidToken, SubscriptionInactive, TokenExpired
from app.core.security import principal_from_jwt, principal_from_service_key
from tests.conftest import SERVICE_KEY, make_settings, make_token

API = "/api/integrations/accounts/"


async def test_missing_token_is_401_with_www_authenticate(client) -> None:
    response = await client.get(API)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (make_token(secret="some-other-secret-of-sufficient-length"), "invalid_token"),
        (make_token(ttl=timedelta(seconds=-5)), "token_expired"),
        (make_token(company_id=None), "invalid_token"),
        (make_token(company_id=""), "invalid_token"),
        (make_token(sub=None), "invalid_token"),
        ("not.a.jwt", "invalid_token"),
    ],
    ids=["forged", "expired", "no-company", "blank-company", "no-subject", "garbage"],
)
async def test_bad_tokens_are_401(client, token: str, code: str) -> None:
    response = await client.get(API, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert "WWW-Authenticate" in response.headers


async def test_inactive_subscription_is_403(client, auth) -> None:
    response = await client.get(API, headers=auth(subscription_active=False))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "subscription_inactive"
    created = await client.post(
        API, json={"platform": "tiktok", "name": "x"}, headers=auth(subscription_active=False)
    )
    assert created.status_code == 403


async def test_service_key_acts_for_the_named_company(client, auth) -> None:
    headers = {"X-API-Key": SERVICE_KEY, "X-Company-Id": "acme"}
    created = await client.post(API, json={"platform": "tiktok", "name": "svc"}, headers=headers)
    assert created.status_code == 201
    assert created.json()["created_by"] == "service:crm-backend"
    listed = (await client.get(API, headers=auth("acme"))).json()["items"]
    assert [item["name"] for item in listed] == ["svc"]


async def test_service_key_needs_a_company_and_must_be_known(client) -> None:
    no_company = await client.get(API, headers={"X-API-Key": SERVICE_KEY})
    assert no_company.status_code == 401
    wrong = await client.get(API, headers={"X-API-Key": "nope", "X-Company-Id": "acme"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_token"


def test_company_claim_name_is_configurable() -> None:
    settings = make_settings(auth_company_claim="tenant")
    token = make_token(company_id=None, tenant="globex")
    assert principal_from_jwt(token, settings).company_id == "globex"
    with pytest.raises(InvalidToken):
        principal_from_jwt(make_token(), settings)


def test_issuer_and_audience_are_enforced_when_configured() -> None:
    settings = make_settings(auth_jwt_issuer="crm", auth_jwt_audience="tiktok-service")
    good = make_token(iss="crm", aud="tiktok-service")
    assert principal_from_jwt(good, settings).user_id == "user-1"
    for bad in (make_token(iss="other", aud="tiktok-service"), make_token(iss="crm")):
        with pytest.raises(InvalidToken):
            principal_from_jwt(bad, settings)


def test_rs256_tokens_verify_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = make_settings(
        auth_jwt_secret=None, auth_jwt_public_key=public_pem.decode(), auth_jwt_algorithms="RS256"
    )
    token = jwt.encode(
        {"sub": "u", "company_id": "acme", "exp": 9_999_999_999}, key, algorithm="RS256"
    )
    assert principal_from_jwt(token, settings).company_id == "acme"
    # Only the configured asymmetric algorithm is accepted: an HS256 token is refused.
    with pytest.raises(InvalidToken):
        principal_from_jwt(make_token(), settings)


def test_expired_and_inactive_map_to_their_errors() -> None:
    settings = make_settings()
    with pytest.raises(TokenExpired):
        principal_from_jwt(make_token(ttl=timedelta(seconds=-1)), settings)
    with pytest.raises(SubscriptionInactive):
        principal_from_jwt(make_token(subscription_active=False), settings)


def test_service_principal_actor_names_the_service() -> None:
    principal = principal_from_service_key(SERVICE_KEY, "acme", make_settings())
    assert principal.actor == "service:crm-backend"


# Both credentials at once ------------------------------------------------------------------


async def test_a_client_that_sends_its_bearer_token_in_every_scheme_is_the_bearer(client) -> None:
    """What a generated client configured with one token sends (older @hey-api clients fill
    every declared scheme with it): the same token as bearer, service key and company."""
    token = make_token("acme", user="u-7")
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": token, "X-Company-Id": token}
    created = await client.post(API, json={"platform": "tiktok", "name": "x"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "u-7"
    listed = await client.get(API, headers=headers)
    assert [item["name"] for item in listed.json()["items"]] == ["x"]


async def test_a_bearer_token_and_a_different_service_key_are_ambiguous(client) -> None:
    token = make_token("acme")
    for key in (SERVICE_KEY, "not-a-key"):
        response = await client.post(
            API,
            json={"platform": "tiktok", "name": "x"},
            headers={
                "Authorization": f"Bearer {token}",
                "X-API-Key": key,
                "X-Company-Id": "acme",
            },
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "ambiguous_credentials"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get(API, headers={"Authorization": f"Bearer {token}"})).json()[
        "items"
    ] == []


async def test_each_credential_alone_still_works(client, auth) -> None:
    assert (await client.get(API, headers=auth())).status_code == 200
    service = {"X-API-Key": SERVICE_KEY, "X-Company-Id": "acme"}
    assert (await client.get(API, headers=service)).status_code == 200
    # A non-bearer Authorization header is not a credential of ours: the key decides.
    basic = {"Authorization": "Basic dXNlcjpwdw=="} | service
    assert (await client.get(API, headers=basic)).status_code == 200


def test_a_verified_token_is_remembered_but_its_expiry_is_checked_on_every_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    token = make_token(ttl=timedelta(minutes=5))
    decoded: list[str] = []
    decode = jwt.decode

    def counting_decode(value: str, *args: object, **kwargs: object) -> object:
        decoded.append(value)
        return decode(value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(security.jwt, "decode", counting_decode)
    assert principal_from_jwt(token, settings).company_id == "acme"
    assert principal_from_jwt(token, settings).company_id == "acme"
    assert decoded == [token]  # verified once, then remembered

    # Another key or audience is another verification: nothing is shared across settings.
    with pytest.raises(InvalidToken):
        principal_from_jwt(token, make_settings(auth_jwt_secret="another-secret-" + "x" * 32))
    with pytest.raises(InvalidToken):
        principal_from_jwt(token, make_settings(auth_jwt_audience="someone-else"))

    # Past its expiry the remembered token is refused like any expired one.
    later = time.time() + 600
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(TokenExpired):
        principal_from_jwt(token, settings)


def test_a_token_that_failed_is_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings()
    token = make_token(subscription_active=False)
    calls = 0
    decode = jwt.decode

    def counting_decode(value: str, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return decode(value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(security.jwt, "decode", counting_decode)
    for _ in range(2):
        with pytest.raises(SubscriptionInactive):
            principal_from_jwt(token, settings)
    assert calls == 2
