"""Resident ID numbers, USCC, mobile numbers and names (SECURITY.md "Input and files")."""
from datetime import date

import pytest
from stdnum.cn import ric

from portal.services.errors import FieldError
from portal.services.identity import check_mobile, check_name, check_resident_id, check_uscc, mask_id, mask_phone


def with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def code_of(raw: str) -> str:
    with pytest.raises(FieldError) as info:
        check_resident_id(raw)
    return info.value.code


def test_valid_number_gives_birth_date_and_sex():
    rid = check_resident_id(with_check("43030219900101123"))
    assert rid.birth_date == date(1990, 1, 1)
    assert rid.sex == "M"  # 17th digit 3 is odd
    assert rid.region_known
    assert check_resident_id(with_check("43030219900101124")).sex == "F"


def test_wrong_check_character_is_refused():
    good = with_check("43030219900101123")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    assert code_of(bad) == "checksum"


@pytest.mark.parametrize("raw", [
    "43030219900101123",            # 17 characters
    "4303021990010112345",          # 19 characters
    "43030219900101123\n",          # stdnum's own digit check lets a newline through; we strip it, see below
    "4303021990010112A5",
    "43030219900101\t123",        # a tab is not a separator (spaces and hyphens are, see below)
    "x" * 18,
])
def test_malformed_numbers_are_format_errors(raw):
    number = with_check("43030219900101123")
    if raw.endswith("\n"):
        # A trailing newline is white space: stripped, then the number is valid.
        assert check_resident_id(number + "\n").number == number
        assert code_of(number[:-1] + "\n" + number[-1]) == "format"
        return
    assert code_of(raw) == "format"


@pytest.mark.parametrize("typed", ["{a} {b} {c}", "{a}-{b}-{c}", " {a}  {b} {c} ", "{a}－{b}－{c}", "{a}\u3000{b}{c}"])
def test_spaces_and_hyphens_between_the_groups_are_taken_out(typed):
    number = with_check("43030219900101123")
    raw = typed.format(a=number[:6], b=number[6:14], c=number[14:])
    assert check_resident_id(raw).number == number


def test_full_width_digits_and_lower_case_x_are_normalised():
    body = next(f"43030219900101{n:03d}" for n in range(1000)
                if ric.calc_check_digit(f"43030219900101{n:03d}0") == "X")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in body) + "x"
    assert check_resident_id(full_width).number == body + "X"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "18991231", "21000101"])
def test_impossible_or_implausible_birth_dates(birth):
    assert code_of(with_check("430302" + birth + "123")) == "birth_date"


def test_birth_date_after_today_is_refused():
    rid = with_check("43030220300101123")
    with pytest.raises(FieldError):
        check_resident_id(rid, today=date(2026, 1, 1))


def test_region_code_never_refuses_a_number():
    # 310115 (Pudong) did not exist before 1993, yet people born earlier hold such numbers.
    pudong = with_check("31011519800101123")
    with pytest.raises(ric.InvalidComponent):
        ric.validate(pudong)  # the trap this rule avoids
    assert check_resident_id(pudong).region_known
    unknown = check_resident_id(with_check("99999919800101123"))
    assert unknown.region_known is False


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hk_macau_taiwan_residence_permits_are_valid(prefix):
    assert check_resident_id(with_check(prefix + "19900101123")).region_known


def test_legacy_fifteen_digit_numbers_are_refused():
    assert code_of("430302900101123") == "legacy_id"


def test_empty_is_required():
    assert code_of("   ") == "required"


@pytest.mark.parametrize("junk", ["\x00" * 18, "😀" * 18, "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨", "\u202e" + "1" * 17])
def test_any_string_gives_a_field_error_not_an_exception(junk):
    with pytest.raises(FieldError):
        check_resident_id(junk)


def test_masking():
    assert mask_id("430302199001011238") == "430302********1238"
    assert mask_phone("13812345678") == "138****5678"


def test_uscc():
    assert check_uscc("91110000600037341L") == "91110000600037341L"
    for bad in ["91110000600037341X", "", "not a code", "9" * 18, "\x00"]:
        with pytest.raises(FieldError):
            check_uscc(bad)


@pytest.mark.parametrize("raw,expected", [("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"),
                                          ("１３８１２３４５６７８", "13812345678")])
def test_mobile_numbers(raw, expected):
    assert check_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "0731-5555555", "abc", ""])
def test_bad_mobile_numbers(raw):
    with pytest.raises(FieldError):
        check_mobile(raw)


@pytest.mark.parametrize("name", ["张三", "阿卜杜·热合曼", "Anna-Maria O'Neil", "José Álvarez"])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["张\u200b三", "\u202e张三", "张三\x07", "张三1", "<script>", "", "a" * 61])
def test_bad_names(name):
    with pytest.raises(FieldError):
        check_name(name)
