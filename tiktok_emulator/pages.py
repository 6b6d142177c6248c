"""HTML pages and SVG images the emulator serves (no external assets: works offline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from tiktok_emulator.authorize import AuthorizeRequest
from tiktok_emulator.business_seed import FakeAdvertiser
from tiktok_emulator.seed import FakeUser, FakeVideo

SCOPE_LABELS: dict[str, str] = {
    "user.info.basic": "Your profile info (avatar and display name)",
    "user.info.profile": "Your profile details (bio, username, verified badge)",
    "user.info.stats": "Your statistics (followers, following, likes, video count)",
    "video.list": "Your public videos",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f4f5;
color:#161823;margin:0;padding:2rem 1rem}
main{max-width:34rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;
box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.4rem 0 .5rem}
.brand{color:#fe2c55;font-weight:700;letter-spacing:.02em;font-size:.85rem}
.note{color:#6b6b70;font-size:.85rem}
fieldset{border:1px solid #e3e3e6;border-radius:8px;padding:.5rem 1rem;margin:0 0 1rem}
legend{font-weight:600;padding:0 .3rem}
label{display:flex;align-items:center;gap:.6rem;padding:.4rem 0;cursor:pointer}
img.avatar{width:36px;height:36px;border-radius:50%}
.who{display:flex;align-items:center;gap:.6rem}
.buttons{display:flex;gap:.8rem;margin-top:1.2rem}
button{flex:1;padding:.7rem;border-radius:6px;font-size:1rem;cursor:pointer;
border:1px solid #d0d0d4;background:#fff}
button#approve{background:#fe2c55;border-color:#fe2c55;color:#fff;font-weight:600}
.error{border-left:4px solid #fe2c55;padding:.5rem 1rem;background:#fff1f3}
code{background:#f1f1f2;padding:.1rem .3rem;border-radius:4px;font-size:.85em}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .4rem;
border-bottom:1px solid #eee;font-size:.9rem;vertical-align:top}
ul.videos{list-style:none;padding:0;display:grid;grid-template-columns:repeat(3,1fr);gap:.5rem}
ul.videos img{width:100%;border-radius:6px}
"""


def _layout(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f'<body><main><div class="brand">Sandbox TikTok</div>{body}</main></body></html>'
    )


def _hidden(name: str, value: str | None) -> str:
    if value is None:
        return ""
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def _user_label(user: FakeUser, avatar_url: str) -> str:
    badge = " ✔" if user.is_verified else ""
    return (
        f'<img class="avatar" src="{escape(avatar_url)}" alt="">'
        f"<span><strong>{escape(user.display_name)}</strong>{badge}<br>"
        f'<span class="note">@{escape(user.username)} · {user.follower_count:,} followers'
        "</span></span>"
    )


def error_page(message: str) -> str:
    body = (
        "<h1>This authorization request is not valid</h1>"
        f'<p class="error">{escape(message)}</p>'
        '<p class="note">The app sent parameters TikTok would refuse, so you are not sent back '
        "to it. Check the client key, redirect URI and scopes.</p>"
    )
    return _layout("Sandbox TikTok — authorization error", body)


def consent_page(
    request: AuthorizeRequest, users: Sequence[tuple[FakeUser, str]], action: str
) -> str:
    """The consent form; `users` pairs each fake user with its avatar URL."""
    scope_rows = "".join(
        f'<label><input type="checkbox" name="scope" value="{escape(scope)}" checked'
        f"{' disabled' if scope == 'user.info.basic' else ''}>"
        f"<span>{escape(SCOPE_LABELS[scope])} <code>{escape(scope)}</code></span></label>"
        for scope in request.scopes
    )
    user_rows = "".join(
        f'<label><input type="radio" name="user" value="{escape(user.open_id)}"'
        f"{' checked' if index == 0 else ''}>{_user_label(user, avatar)}</label>"
        for index, (user, avatar) in enumerate(users)
    )
    hidden = "".join(
        (
            _hidden("client_key", request.client_key),
            _hidden("response_type", "code"),
            _hidden("redirect_uri", request.redirect_uri),
            _hidden("requested_scopes", ",".join(request.scopes)),
            _hidden("state", request.state),
            _hidden("code_challenge", request.code_challenge),
            _hidden("code_challenge_method", request.code_challenge_method),
        )
    )
    body = (
        f"<h1>Authorize <code>{escape(request.client_key)}</code></h1>"
        f'<p class="note">After you decide you go back to {escape(request.redirect_uri)}</p>'
        f'<form method="post" action="{escape(action)}">{hidden}'
        f"<fieldset><legend>This app will be able to read</legend>{scope_rows}"
        '<p class="note">user.info.basic is always granted; untick the others to grant less.'
        "</p></fieldset>"
        f"<fieldset><legend>Continue as</legend>{user_rows}</fieldset>"
        '<div class="buttons">'
        '<button type="submit" id="deny" name="decision" value="deny">Deny</button>'
        '<button type="submit" id="approve" name="decision" value="approve">Approve</button>'
        "</div></form>"
    )
    return _layout(f"Sandbox TikTok — authorize {request.client_key}", body)


def business_consent_page(
    *,
    app_id: str,
    redirect_uri: str,
    state: str | None,
    advertisers: Sequence[FakeAdvertiser],
    action: str,
) -> str:
    """TikTok for Business's advertiser consent: every advertiser is offered, all ticked."""
    rows = (
        "".join(
            f'<label><input type="checkbox" name="advertiser_id" '
            f'value="{escape(advertiser.advertiser_id)}" checked>'
            f"<span><strong>{escape(advertiser.advertiser_name)}</strong><br>"
            f'<span class="note"><code>{escape(advertiser.advertiser_id)}</code> · lead forms: '
            f"{escape(', '.join(form.title for form in advertiser.forms))}</span></span></label>"
            for advertiser in advertisers
        )
        or '<p class="note">You manage no advertiser account.</p>'
    )
    hidden = "".join(
        (
            _hidden("app_id", app_id),
            _hidden("redirect_uri", redirect_uri),
            _hidden("state", state),
        )
    )
    body = (
        f"<h1>Authorize <code>{escape(app_id)}</code> (TikTok for Business)</h1>"
        f'<p class="note">After you decide you go back to {escape(redirect_uri)}</p>'
        f'<form method="post" action="{escape(action)}">{hidden}'
        "<fieldset><legend>Advertiser accounts this app may manage (ads, lead forms, leads)"
        f"</legend>{rows}</fieldset>"
        '<div class="buttons">'
        '<button type="submit" id="deny" name="decision" value="deny">Deny</button>'
        '<button type="submit" id="approve" name="decision" value="approve">Approve</button>'
        "</div></form>"
    )
    return _layout(f"Sandbox TikTok for Business — authorize {app_id}", body)


@dataclass(frozen=True)
class LandingLinks:
    authorize_example: str
    control: Sequence[tuple[str, str, str]]  # (method, url, what it does)


def landing_page(users: Sequence[tuple[FakeUser, str, str]], links: LandingLinks) -> str:
    """The emulator's front page; `users` pairs each user with avatar and profile URLs."""
    user_rows = "".join(
        f'<tr><td><img class="avatar" src="{escape(avatar)}" alt=""></td>'
        f'<td><a href="{escape(profile)}">{escape(user.display_name)}</a><br>'
        f'<span class="note">@{escape(user.username)}</span></td>'
        f"<td><code>{escape(user.open_id)}</code></td></tr>"
        for user, avatar, profile in users
    )
    control_rows = "".join(
        f"<tr><td><code>{method}</code></td><td><code>{escape(url)}</code></td>"
        f"<td>{escape(what)}</td></tr>"
        for method, url, what in links.control
    )
    body = (
        "<h1>TikTok emulator</h1>"
        "<p>A local stand-in for TikTok's Login Kit and Display API: same paths, same wire "
        "format, same quirks, fake users and videos. Nothing here talks to TikTok.</p>"
        f'<p><a href="{escape(links.authorize_example)}">Try the consent page</a></p>'
        f"<h2>Users</h2><table>{user_rows}</table>"
        f"<h2>Control API</h2><table>{control_rows}</table>"
    )
    return _layout("Sandbox TikTok", body)


def profile_page(user: FakeUser, avatar: str, videos: Sequence[tuple[FakeVideo, str, str]]) -> str:
    """A user's public profile; `videos` pairs each video with its page and cover URLs."""
    items = "".join(
        f'<li><a href="{escape(page)}"><img src="{escape(cover)}" alt="{escape(video.title)}">'
        "</a></li>"
        for video, page, cover in videos
    )
    body = (
        f'<h1 class="who">{_user_label(user, avatar)}</h1>'
        f'<p>{escape(user.bio)}</p><ul class="videos">{items}</ul>'
    )
    return _layout(f"{user.display_name} (@{user.username}) — Sandbox TikTok", body)


def video_page(video: FakeVideo, user: FakeUser, cover: str, profile: str) -> str:
    body = (
        f"<h1>{escape(video.title)}</h1>"
        f'<img src="{escape(cover)}" alt="" style="width:100%;border-radius:8px">'
        f"<p>{escape(video.description)}</p>"
        f'<p class="note">by <a href="{escape(profile)}">@{escape(user.username)}</a> · '
        f"{video.view_count:,} views · {video.like_count:,} likes</p>"
    )
    return _layout(f"{video.title} — Sandbox TikTok", body)


def embed_html(video: FakeVideo, user: FakeUser, share_url: str, profile: str) -> str:
    """TikTok's blockquote embed, minus the external embed.js script."""
    return (
        f'<blockquote class="tiktok-embed" cite="{escape(share_url)}" '
        f'data-video-id="{video.id}" style="max-width:605px;min-width:325px;"><section>'
        f'<a target="_blank" title="@{escape(user.username)}" href="{escape(profile)}">'
        f"@{escape(user.username)}</a> {escape(video.description)}</section></blockquote>"
    )


def _initials(name: str) -> str:
    words = [word for word in name.split() if word[0].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def avatar_svg(user: FakeUser, size: int = 100) -> str:
    half = size // 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><circle cx="{half}" cy="{half}" r="{half}" '
        f'fill="{user.color}"/><text x="50%" y="50%" dy=".35em" text-anchor="middle" '
        f'font-family="sans-serif" font-size="{size * 2 // 5}" fill="#fff">'
        f"{escape(_initials(user.display_name))}</text></svg>"
    )


def cover_svg(video: FakeVideo, user: FakeUser) -> str:
    width, height = video.width // 4, video.height // 4
    # Scaled with the cover, so every cover shows its label at the same relative size.
    font = max(width // 17, 8)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" '
        f'y2="1"><stop offset="0" stop-color="{user.color}"/><stop offset="1" '
        f'stop-color="#161823"/></linearGradient></defs>'
        f'<rect width="{width}" height="{height}" fill="url(#g)"/>'
        f'<text x="{font}" y="{height - font}" font-family="sans-serif" font-size="{font}" '
        f'fill="#fff">'
        f"{escape(video.title)}</text></svg>"
    )
