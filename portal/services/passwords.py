"""Password rules and hashing: argon2id, 12-128 characters, no common or guessable passwords."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.services.errors import FieldError

MIN_LENGTH = 12
MAX_LENGTH = 128
_hasher = PasswordHasher()
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# A hash of a random password, verified when the user does not exist so both paths take as long.
DUMMY_HASH = _hasher.hash("dummy-password-for-timing-only")


def check_new_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> str:
    """Raise FieldError unless the password is long enough and hard to guess. Never truncates."""
    if len(password) < MIN_LENGTH:
        raise FieldError("too_short", _l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise FieldError("too_long", _l("Use at most %(n)d characters.", n=MAX_LENGTH))
    if password.lower() in _COMMON:
        raise FieldError("common", _l("This password is on a list of common passwords; choose another."))
    inputs = [i for i in user_inputs if i]
    if any(i and i in password for i in inputs):
        raise FieldError("personal", _l("Do not use your phone or ID number in your password."))
    # zxcvbn scores at most 72 characters; a longer password that passed the list checks is long enough.
    if len(password) <= 72 and zxcvbn(password, user_inputs=inputs)["score"] < 3:
        raise FieldError("guessable", _l("This password is too easy to guess; add words or characters."))
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
