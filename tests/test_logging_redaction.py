"""Secrets never reach logs."""

from __future__ import annotations

import json
import logging

from app.core.logging import REDACTED, JsonFormatter, redact


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
