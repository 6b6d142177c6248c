"""Contact fields from form answers: email, phone (E.164) and a name split in two.

Normalisation never loses anything: a value that does not normalise becomes None here and
stays verbatim in the lead's answers.
"""

from __future__ import annotations

import re

import phonenumbers

MAX_EMAIL_LENGTH = 254
# Deliberately simple: one @, no spaces, a dotted domain. Mailbox syntax is the CRM's job.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SPACES = re.compile(r"\s+")


def normalize_email(value: object) -> str | None:
    """Trimmed and lowercased, or None when it does not look like an address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        return None
    return email


def normalize_phone(value: object) -> str | None:
    """E.164 (`+15088888888`), or None when no valid number can be read.

    TikTok sends numbers with their country code but often without the `+`
    (`15088888888`): the value is tried as given, then with a leading `+` (`00` counts as
    the international prefix).
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    for candidate in (text, "+" + text):
        try:
            number = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def split_name(name: str) -> tuple[str | None, str | None]:
    """`"Jane Doe"` → (`"Jane"`, `"Doe"`); `"Mary Ann Smith"` → (`"Mary"`, `"Ann Smith"`)."""
    first, _, last = _SPACES.sub(" ", name).strip().partition(" ")
    return first or None, last or None


def clean_name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return _SPACES.sub(" ", value).strip() or None
