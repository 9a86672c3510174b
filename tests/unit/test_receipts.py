"""Receipt numbers (portal/services/receipts.py): short, unguessable, with a check character."""
from __future__ import annotations

import pytest

from portal.services import receipts

SAMPLE = [receipts.new_receipt() for _ in range(300)]


def test_a_new_receipt_has_the_documented_shape():
    for number in SAMPLE:
        assert len(number) == receipts.LENGTH
        assert set(number) <= set(receipts.ALPHABET)
        assert receipts.normalise(number) == number


def test_every_single_character_change_is_caught():
    missed = []
    for number in SAMPLE:
        for i, original in enumerate(number):
            for c in receipts.ALPHABET:
                if c != original:
                    typo = number[:i] + c + number[i + 1:]
                    if receipts.normalise(typo) is not None:
                        missed.append((number, typo))
    assert missed == []


# Over a 32-symbol alphabet ISO 7064's hybrid system is MOD 33,32 and misses about 1 in 250 swaps of
# neighbours; the 30-symbol alphabet (MOD 31,30, 31 prime) catches them all.
def test_every_adjacent_transposition_is_caught():
    sample = SAMPLE + [receipts.new_receipt() for _ in range(3000)]  # large enough to meet the bug every run
    missed = []
    for number in sample:
        for i in range(len(number) - 1):
            if number[i] != number[i + 1]:
                swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
                if receipts.normalise(swapped) is not None:
                    missed.append((number, swapped))
    assert missed == []


@pytest.mark.parametrize("typed", [
    lambda n: n.lower(),
    receipts.display,                                     # XXXX-XXXX-XX, as printed
    lambda n: receipts.display(n).lower(),
    lambda n: " ".join([n[:4], n[4:8], n[8:]]),
    lambda n: "-".join(n),
])
def test_normalise_accepts_what_people_type(typed):
    for number in SAMPLE[:50]:
        assert receipts.normalise(typed(number)) == number


def test_normalise_reads_look_alike_letters_as_digits():
    number = next(n for n in SAMPLE if "0" in n or "1" in n)
    typed = number.replace("0", "o").replace("1", "l")
    assert receipts.normalise(typed) == number


@pytest.mark.parametrize("raw", ["", None, "ABC", "0" * 11, "*" * 10, "ABCD-EFGH-JK-M"])
def test_normalise_refuses_what_is_not_a_receipt(raw):
    assert receipts.normalise(raw) is None


def test_normalise_refuses_a_wrong_length():
    number = SAMPLE[0]
    assert receipts.normalise(number[:-1]) is None
    assert receipts.normalise(number + "0") is None


def test_display_round_trips():
    for number in SAMPLE:
        shown = receipts.display(number)
        assert len(shown) == receipts.LENGTH + 2 and shown.count("-") == 2
        assert receipts.normalise(shown) == number


def test_a_thousand_receipts_are_unique():
    numbers = [receipts.new_receipt() for _ in range(1000)]
    assert len(set(numbers)) == 1000
    assert all(receipts.normalise(n) == n for n in numbers)


def test_bulk_receipts_are_distinct_and_valid():
    many = receipts.new_receipts(5000)
    assert len(many) == len(set(many)) == 5000
    assert all(receipts.normalise(r) == r for r in many)


def test_bulk_receipts_are_distinct_even_when_the_random_source_repeats(monkeypatch):
    import os

    # The first two receipts would come out the same: the batch must still hold distinct ones.
    monkeypatch.setattr(receipts.secrets, "token_bytes", lambda k: (bytes(18) + os.urandom(k))[:k])
    made = receipts.new_receipts(50)
    assert len(set(made)) == 50 and made[0].startswith("000000000")
    assert all(receipts.normalise(code) == code for code in made)
