"""Password rules and hashing (SECURITY.md "Authentication")."""
import pytest
from argon2 import PasswordHasher

from portal.services import passwords
from portal.services.errors import FieldError


def refused(password, **kw) -> str:
    with pytest.raises(FieldError) as info:
        passwords.check_new_password(password, **kw)
    return info.value.code


def test_length_limits():
    assert refused("Sh0rt-pass!") == "too_short"
    assert refused("x" * 129) == "too_long"
    long_ok = "correct horse battery staple " * 4 + "x" * 11
    assert len(long_ok) == 127
    assert passwords.check_new_password(long_ok) == long_ok


def test_common_and_guessable_passwords_are_refused():
    assert refused("1qaz2wsx3edc") == "common"
    assert refused("aaaaaaaaaaaa") == "guessable"
    assert refused("password1234") in ("common", "guessable")


def test_personal_data_in_password_is_refused():
    assert refused("zz13812345678zz", user_inputs=("13812345678",)) == "personal"


def test_argon2id_and_no_truncation():
    long = "a-very-long-passphrase-" * 5  # 115 characters, far beyond bcrypt's 72 bytes
    stored = passwords.hash_password(long)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, long)
    assert not passwords.verify_password(stored, long[:-1] + "X")
    assert not passwords.verify_password(None, long)
    assert not passwords.verify_password("not a hash", long)


def test_rehash_needed_when_parameters_change():
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse battery staple")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery staple"))
