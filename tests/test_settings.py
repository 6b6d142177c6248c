"""Settings: production refuses unsafe configuration and says which setting is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings

SAFE_PRODUCTION = {
    "app_env": "production",
    "secret_key": "a-real-secret-key-0123456789abcdef",
    "integration_encryption_key": "cmVhbC1wcm9kdWN0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
    "auth_jwt_secret": "a-real-jwt-secret-0123456789abcdef",
    "api_base_url": "https://tiktok.crm.example",
}


def test_safe_production_settings_start() -> None:
    settings = make_settings(**SAFE_PRODUCTION)
    assert settings.is_production


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"secret_key": "dev-insecure-secret-key-change-me"}, "SECRET_KEY"),
        ({"secret_key": ""}, "SECRET_KEY"),
        (
            {"integration_encryption_key": "ZGV2LWluc2VjdXJlLWtleS1jaGFuZ2UtbWUtMDAwMDA="},
            "INTEGRATION_ENCRYPTION_KEY",
        ),
        ({"auth_jwt_secret": None}, "AUTH_JWT_SECRET"),
        ({"api_base_url": "http://tiktok.crm.example"}, "API_BASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict, named: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_settings(**(SAFE_PRODUCTION | override))
    assert named in str(excinfo.value)


def test_production_accepts_a_public_key_instead_of_a_jwt_secret() -> None:
    settings = make_settings(
        **(SAFE_PRODUCTION | {"auth_jwt_secret": None, "auth_jwt_public_key": "-----BEGIN..."})
    )
    assert settings.jwt_secret is None


def test_secrets_do_not_print() -> None:
    settings = make_settings(**SAFE_PRODUCTION)
    assert "a-real-secret-key" not in repr(settings)
    assert "a-real-jwt-secret" not in str(settings.model_dump())


def test_lists_and_service_keys_parse_from_comma_separated_values() -> None:
    settings = make_settings(auth_jwt_algorithms="RS256, HS256", service_api_keys="a:k1,k2")
    assert settings.auth_jwt_algorithms == ["RS256", "HS256"]
    assert settings.service_keys == {"k1": "a", "k2": "service-2"}


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import Settings

    monkeypatch.setenv("AUTH_JWT_ALGORITHMS", "RS256,ES256")
    monkeypatch.setenv("TIKTOK_API_BASE_URL", "http://emulator.test")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.auth_jwt_algorithms == ["RS256", "ES256"]
    assert settings.tiktok_api_base_url == "http://emulator.test"
