"""Where a connect attempt sends the browser back, and how.

`POST /accounts/{id}/connect/` may name a `return_to` URL: it must be an http(s) URL under an
allowed frontend origin (`Settings.origin_policy`: `FRONTEND_URL`'s, `FRONTEND_ORIGINS`,
`FRONTEND_ORIGIN_REGEX`), else 422 `return_to_not_allowed` — never an open redirect. The
default is `{FRONTEND_URL}/integrations`. It travels in the signed state (cookie and hop
ticket), and is checked again when the browser comes back, since the allowed origins may
have changed meanwhile; a target no longer allowed falls back to the default.

The result is the same query parameters everywhere: `connected=true|false`, `account_id`
when known, `error=CODE` on failure.

- **redirect** mode (the default): a 302 to the target with those parameters.
- **popup** mode: a small page that posts `{type, connected, account_id, error}` to
  `window.opener`, addressed to an exact, checked origin (never `*`), and closes itself:
  `return_to`'s origin, or without one the origin of the page that asked for the connect
  (its `Origin` header, when allowed; an `Origin` not allowed needs a `return_to`: 422; a
  request without one, from a server, posts to `FRONTEND_URL`'s origin). With no opener
  (the popup was blocked and the frontend navigated its own window instead, or a page on
  the way severed the link), the page goes on to the redirect.

A popup's mode and origin also travel signed in the OAuth state itself
(`StateCodec.new_state`), so a callback without the state cookie (the common cross-site
failure) still answers the opener, at that origin if it is still allowed, and falls back
to the default target. When the attempt cannot be identified at all (no validly signed
cookie or state), the browser returns to the default target by redirect: nothing it carries
can be trusted to choose another.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import html
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.core.config import Settings
from app.core.errors import AppError
from app.core.origins import origin_of, parse_origin

MAX_RETURN_TO_LENGTH = 1024
# Visible ASCII without a backslash (browsers read `\` as `/` in http URLs, a classic way
# to make one host look like another).
RETURN_TO_PATTERN = r"^https?://[\x21-\x5b\x5d-\x7e]+$"
RESULT_PARAMETERS = ("connected", "account_id", "error")
MESSAGE_TYPE = "tiktok-integration:connect"


class ConnectMode(enum.StrEnum):
    redirect = "redirect"
    popup = "popup"


class ReturnToNotAllowed(AppError):
    status_code = 422
    code = "return_to_not_allowed"
    message = "return_to must be an http(s) URL under an allowed frontend origin."


class PopupOriginNotAllowed(ReturnToNotAllowed):
    message = (
        "Popup mode posts the result to the page that asked for the connect, and this "
        "request's Origin is not an allowed frontend origin: send return_to."
    )


@dataclass(frozen=True, slots=True)
class ReturnTarget:
    url: str
    mode: ConnectMode = ConnectMode.redirect
    # Where a popup posts its result when it is not `url`'s origin (a connect without
    # `return_to` started from another allowed origin); checked like `url`.
    post_origin: str | None = None

    @property
    def origin(self) -> str:
        if self.post_origin is not None:
            return self.post_origin
        origin = origin_of(self.url)
        assert origin is not None  # every target is checked to have one
        return origin


def default_target(settings: Settings) -> ReturnTarget:
    return ReturnTarget(f"{settings.frontend_url.rstrip('/')}/integrations")


def _allowed(settings: Settings, url: str) -> bool:
    if len(url) > MAX_RETURN_TO_LENGTH or not url.isascii():
        return False
    if any(char <= " " or char in "\\\x7f" for char in url):
        return False
    origin = origin_of(url)
    return origin is not None and settings.origin_policy.allows(origin)


def _allowed_origin(settings: Settings, value: str | None) -> str | None:
    """`value` when it is an allowed frontend origin (as an `Origin` header sends it)."""
    origin = parse_origin(value) if value else None
    return origin if origin is not None and settings.origin_policy.allows(origin) else None


def checked_return_to(settings: Settings, return_to: str | None) -> str | None:
    """`return_to` when it may be returned to; raises `ReturnToNotAllowed` otherwise."""
    if return_to is not None and not _allowed(settings, return_to):
        raise ReturnToNotAllowed
    return return_to


def popup_origin(settings: Settings, return_to: str | None, request_origin: str | None) -> str:
    """Where a popup started now posts its result: `return_to`'s origin (`return_to`
    already checked); without one, the requesting page's `Origin` when it is an allowed
    frontend origin (`PopupOriginNotAllowed` when it is not); a request with no `Origin`
    (a server's, not a browser's) gets `FRONTEND_URL`'s origin, the default target's."""
    if return_to is not None:
        return ReturnTarget(return_to).origin
    if request_origin is None:
        return default_target(settings).origin
    origin = _allowed_origin(settings, request_origin)
    if origin is None:
        raise PopupOriginNotAllowed
    return origin


def target_of(
    settings: Settings, return_to: str | None, mode: str | None, origin: str | None = None
) -> ReturnTarget:
    """The target a signed state names, checked again against today's settings: its
    `return_to`, else the default URL; a popup posts to `return_to`'s origin, else to
    `origin` (the one checked at connect) while still allowed, else to the default's."""
    url = return_to if return_to and _allowed(settings, return_to) else None
    try:
        chosen = ConnectMode(mode or ConnectMode.redirect)
    except ValueError:
        chosen = ConnectMode.redirect
    if url is not None:
        return ReturnTarget(url, chosen)
    post_origin = _allowed_origin(settings, origin) if chosen == ConnectMode.popup else None
    return ReturnTarget(default_target(settings).url, chosen, post_origin)


def result_url(target: ReturnTarget, account_id: str | None, error: str | None) -> str:
    """The target with the result's parameters (replacing any of the same name)."""
    parts = urlsplit(target.url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in kept if k not in RESULT_PARAMETERS]
    result = [("connected", "false" if error else "true")]
    if account_id is not None:
        result.append(("account_id", account_id))
    if error:
        result.append(("error", error))
    return urlunsplit(parts._replace(query=urlencode(kept + result)))


# Static, so the page's Content-Security-Policy can allow exactly this script by its hash;
# the result travels beside it as a JSON data block (which no browser executes).
_POPUP_SCRIPT = """(function () {
  var data = JSON.parse(document.getElementById("connect-result").textContent);
  var opener = null;
  try { opener = window.opener; } catch (error) { opener = null; }
  if (opener && !opener.closed) {
    opener.postMessage(data.message, data.target_origin);
    window.close();
    setTimeout(function () { window.location.replace(data.fallback_url); }, 500);
  } else {
    window.location.replace(data.fallback_url);
  }
})();"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_POPUP_SCRIPT.encode()).digest()).decode()
POPUP_CSP = (
    f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _json_for_html(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def popup_page(target: ReturnTarget, account_id: str | None, error: str | None) -> HTMLResponse:
    fallback = result_url(target, account_id, error)
    data = {
        "message": {
            "type": MESSAGE_TYPE,
            "connected": error is None,
            "account_id": account_id,
            "error": error,
        },
        "target_origin": target.origin,
        "fallback_url": fallback,
    }
    outcome = "Connected." if error is None else "The connection did not complete."
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Connecting…</title></head><body>"
        f'<p>{outcome} <a href="{html.escape(fallback)}">Continue</a></p>'
        f'<script type="application/json" id="connect-result">{_json_for_html(data)}</script>'
        f"<script>{_POPUP_SCRIPT}</script></body></html>"
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": POPUP_CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def respond(target: ReturnTarget, account_id: str | None, error: str | None) -> Response:
    """The callback's (or the hop's) answer: a redirect, or the popup page."""
    if target.mode == ConnectMode.popup:
        return popup_page(target, account_id, error)
    return RedirectResponse(result_url(target, account_id, error), status_code=302)
