"""Secrets never reach logs."""

from __future__ import annotations

import io
import json
import logging

from app.core.logging import REDACTED, JsonFormatter, configure_logging, redact, scrub_urls


def test_secret_looking_keys_are_redacted_at_any_depth() -> None:
    data = {
        "access_token": "act.1",
        "nested": {"refresh_token": "rft.1", "Authorization": "Bearer x", "ok": 1},
        "items": [{"client_secret": "s"}, {"code_verifier": "v"}],
        "code": "auth-code",
        "error_code": "kept",
    }
    cleaned = redact(data)
    assert cleaned["access_token"] == REDACTED
    assert cleaned["nested"] == {"refresh_token": REDACTED, "Authorization": REDACTED, "ok": 1}
    assert cleaned["items"] == [{"client_secret": REDACTED}, {"code_verifier": REDACTED}]
    assert cleaned["code"] == REDACTED
    assert cleaned["error_code"] == "kept"


def test_formatter_redacts_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "refreshed", "levelname": "INFO", "refresh_token": "rft.secret", "account": "a"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["refresh_token"] == REDACTED
    assert line["account"] == "a"
    assert "rft.secret" not in json.dumps(line)


def test_urls_lose_their_credentials_and_query_values() -> None:
    line = (
        "GET https://business-api.tiktok.com/open_api/v1.3/oauth2/advertiser/get/"
        "?app_id=123&secret=s3cr3t-value and POST https://user:pa55@crm.example/hook?token=abc"
    )
    cleaned = scrub_urls(line)
    assert "s3cr3t-value" not in cleaned
    assert "pa55" not in cleaned
    assert "token=abc" not in cleaned
    assert "/oauth2/advertiser/get/?app_id=[redacted]&secret=[redacted]" in cleaned
    assert "https://[redacted]@crm.example/hook?token=[redacted]" in cleaned


def test_configured_secrets_are_scrubbed_from_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", secrets=["client-secret-0123", 'quo"ted-secret'], stream=stream)
        log = logging.getLogger("app.test")
        log.info("exchanging with client-secret-0123")
        try:
            raise ValueError('bad quo"ted-secret')
        except ValueError:
            log.exception("failed")
        logging.getLogger("httpx").info("HTTP Request: GET https://x.test/?secret=1")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    output = stream.getvalue()
    assert "client-secret-0123" not in output
    assert "quo" not in output
    assert output.count(REDACTED) >= 2
    assert "HTTP Request" not in output  # httpx stays at WARNING even at DEBUG
