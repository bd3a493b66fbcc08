"""Password hashing (argon2id) and the password policy.

See docs/security.md#password-hashing and docs/security.md#password-policy.

Policy: at least 12 characters, long ones accepted, no composition rules, no truncation,
no case folding; common passwords and passwords built on the person's own identifiers
are refused.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

from portal.services.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256

#: argon2id, 64 MiB, 3 passes: above the OWASP minimum (46 MiB, t=1).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2, hash_len=32,
                        salt_len=16, type=Type.ID)

#: a valid hash of a random string, verified when the account is unknown so that
#: unknown identifiers and wrong passwords take the same time.
_DUMMY_HASH_SEED = "portail-dummy-password-never-valid"


@cache
def dummy_hash() -> str:
    return HASHER.hash(_DUMMY_HASH_SEED)


def hash_password(password: str) -> str:
    return HASHER.hash(_normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work verification; a missing hash still costs one argon2 verification."""
    try:
        if not stored_hash:
            HASHER.verify(dummy_hash(), password + "\x00")
            return False
        return HASHER.verify(stored_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


def _normalise(password: str) -> str:
    # NFC only: the same characters typed on two keyboards give the same password.
    return unicodedata.normalize("NFC", password)


def _guessable(password: str, personal: tuple[str, ...]) -> bool:
    """Sequences, repeats, keyboard walks and dates (zxcvbn score 0 or 1)."""
    from zxcvbn import zxcvbn

    # The estimate is for the start of the password: long passphrases are never weak here.
    return int(zxcvbn(password[:64], user_inputs=[p for p in personal if p])["score"]) <= 1


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words: set[str] = set(FREQUENCY_LISTS["passwords"])
    # A few French favourites that long-password lists rank highly.
    words.update({
        "motdepasse", "motdepasse123", "azertyuiop", "azertyuiop123", "1234567890ab",
        "soleil123456", "bonjour12345", "bonjour123456", "motdepasse1234",
        "jetaime123456", "marseille123", "qwertyuiop12",
    })
    return frozenset(w.lower() for w in words)


def check_policy(password: str, *, personal: tuple[str, ...] = ()) -> None:
    """Raise ``ValidationFailed`` with a plain-French reason if the password is refused."""
    length = len(_normalise(password))
    if length < MIN_LENGTH:
        raise ValidationFailed("password_too_short",
                               str(_l("Le mot de passe doit avoir au moins 12 caractères.")))
    if length > MAX_LENGTH:
        raise ValidationFailed("password_too_long",
                               str(_l("Le mot de passe doit avoir au plus 256 caractères.")))
    lowered = password.lower()
    squeezed = "".join(lowered.split())
    if (lowered in _common_passwords() or squeezed in _common_passwords()
            or _guessable(password, personal)):
        raise ValidationFailed(
            "password_common",
            str(_l("Ce mot de passe est trop connu. Choisissez une petite phrase à vous.")),
        )
    for item in personal:
        item = (item or "").lower().replace("-", "")
        if len(item) >= 4 and item in squeezed.replace("-", ""):
            raise ValidationFailed(
                "password_personal",
                str(_l("Le mot de passe ne doit pas contenir votre nom ou votre identifiant.")),
            )
