"""Contact fields from form answers: which question asks for one, and its value normalised
(email, phone as E.164, a name split in two).

A question is recognised by TikTok's field name (`phone_number`, `First Name`) or by a
heading in English, Spanish, French, Portuguese or German (case, accents and punctuation
ignored: `Correo electrónico`, `Número de teléfono`, `Prénom`), whichever way the lead came
(webhook or export). Normalisation never loses anything: a value that does not normalise
becomes None here and stays verbatim in the lead's answers.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

MAX_EMAIL_LENGTH = 254
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
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


def heading_key(heading: str) -> str:
    """A question or column heading compared loosely: accents dropped, case folded,
    punctuation and `_` to single spaces."""
    decomposed = unicodedata.normalize("NFKD", heading.replace("\ufeff", ""))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_ALNUM.sub(" ", plain.casefold()).strip()


# Question headings (keys) that ask for a contact detail, as the webhook's field for it.
_CONTACT_HEADINGS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "full name", "your name", "nombre", "nombre completo", "nombre y apellido",
        "nombre y apellidos", "nom complet", "nom et prenom", "prenom et nom", "nome",
        "nome completo", "vollstandiger name", "vor und nachname", "vorname und nachname",
    ),
    "first_name": (
        "first name", "given name", "nombre de pila", "prenom", "primeiro nome", "vorname",
    ),
    # French forms ask "Prénom" and "Nom": there "Nom" is the family name.
    "last_name": (
        "last name", "surname", "family name", "apellido", "apellidos", "nom", "nom de famille",
        "sobrenome", "ultimo nome", "apelido", "nachname", "familienname",
    ),
    "email": (
        "email", "e mail", "email address", "e mail address", "correo", "correo electronico",
        "direccion de correo electronico", "adresse e mail", "adresse email", "courriel",
        "adresse courriel", "endereco de email", "endereco de e mail", "e mail adresse",
        "email adresse", "mail",
    ),
    "work_email": (
        "work email", "business email", "correo electronico del trabajo",
        "correo electronico laboral", "correo corporativo", "e mail professionnel",
        "email professionnel", "email corporativo", "e mail corporativo", "email comercial",
        "geschaftliche e mail", "geschaftliche e mail adresse",
    ),
    "phone_number": (
        "phone", "phone number", "mobile", "mobile number", "mobile phone",
        "mobile phone number", "telefono", "numero de telefono", "telefono movil", "movil",
        "celular", "numero de celular", "telephone", "numero de telephone",
        "telephone portable", "portable", "numero de portable", "telefone", "numero de telefone",
        "telemovel", "numero de telemovel", "telefon", "telefonnummer", "handynummer", "handy",
        "mobilnummer", "mobiltelefon",
    ),
    "work_phone_number": (
        "work phone", "work phone number", "business phone", "business phone number",
        "telefono del trabajo", "telefono laboral", "telephone professionnel",
        "telefone comercial", "telefone do trabalho", "geschaftliche telefonnummer",
    ),
}  # fmt: skip
_CONTACT: dict[str, str] = {
    key: field_name for field_name, keys in _CONTACT_HEADINGS.items() for key in keys
}
# Longer headings still mean an email or a phone when they hold one of these words
# ("Tu correo electrónico", "Best phone to reach you").
_EMAIL_WORDS = frozenset({"email", "mail", "correo", "courriel"})
_PHONE_WORDS = frozenset(
    (
        "phone", "telefono", "telephone", "telefone", "telefon", "telefonnummer", "celular",
        "movil", "mobile", "handy", "handynummer", "telemovel",
    )
)  # fmt: skip
_MAX_WORDS_FOR_KEYWORDS = 5


# A form asks the same few questions of every lead: each heading is read once.
@functools.lru_cache(maxsize=1024)
def contact_field(heading: str) -> str | None:
    """The webhook's field (`name`, `first_name`, `last_name`, `email`, `work_email`,
    `phone_number`, `work_phone_number`) of a question that asks for a contact detail."""
    key = heading_key(heading)
    if key in _CONTACT:
        return _CONTACT[key]
    words = key.split()
    if not words or len(words) > _MAX_WORDS_FOR_KEYWORDS:
        return None
    if "e mail" in key or _EMAIL_WORDS.intersection(words):
        return "email"
    if _PHONE_WORDS.intersection(words):
        return "phone_number"
    return None
