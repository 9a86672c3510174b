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
    assert refused("password1234") in ("common", "guessable", "predictable")


# The weak passwords an attack run found accepted, and what each is refused for.
@pytest.mark.parametrize(("password", "code"), [
    ("demo-password-2026", "portal_words"),  # the demo password, published in the README
    ("Summer2026!!", "predictable"),
    ("$ummer-2026-!!", "predictable"),
    ("Xiangtan2026!", "place"),
    ("yuhu-police-2026", "portal_words"),
    ("P0l1ce-station-99", "portal_words"),
    ("公安局长 river stone 1", "portal_words"),
    ("Portal#2026#river", "portal_words"),
])
def test_the_portals_own_words_places_and_predictable_patterns_are_refused(password, code):
    names = ("湘潭市公安局雨湖分局", "湖南省湘潭市雨湖区", "韶山中路")
    places = [w for name in names for w in passwords.place_pieces(name)]
    assert refused(password, places=places) == code


def test_places_are_cut_to_their_names_and_spelled_in_pinyin():
    assert passwords.place_pieces("湘潭市公安局雨湖分局") == ["湘潭", "雨湖", "xiangtan", "yuhu"]
    assert passwords.place_pieces("云塘第一警务区") == ["云塘", "yuntang"]
    assert passwords.place_pieces("城正街派出所") == ["城正", "chengzheng"]
    assert passwords.place_pieces("韶山中路") == ["韶山", "shaoshan"]
    assert refused("yuhu moonlight 77 ok", places=passwords.place_pieces("雨湖区")) == "place"
    assert refused("雨湖 moonlight 77 ok", places=passwords.place_pieces("雨湖区")) == "place"


def test_the_users_name_in_chinese_or_pinyin_is_refused():
    assert refused("zhangsan-garden-77", user_inputs=("张三",)) == "personal"
    assert refused("张三 garden river 77", user_inputs=("张三",)) == "personal"


@pytest.mark.parametrize("password", ["correct horse battery staple", "violet harbour ladder 7",
                                      "lantern orchard pebble 42", "marigold-tundra-4471",
                                      "我的密码是很长的一句话啊"])
def test_good_passphrases_pass(password):
    places = passwords.place_pieces("湘潭市公安局雨湖分局")
    assert passwords.check_new_password(password, user_inputs=("13812345678", "张三"), places=places) == password


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
