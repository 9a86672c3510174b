"""Receipt numbers: short, random, with a check character so a mistyped one is caught at once."""
from __future__ import annotations

import secrets

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LENGTH = 10  # 9 random characters (45 bits) + 1 check character


def new_receipt() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + mod_37_36.calc_check_digit(body, alphabet=ALPHABET)


def normalise(raw: str) -> str | None:
    """Accept what people type (lower case, dashes, spaces, O for 0, I/L for 1); None if not valid."""
    text = (raw or "").upper().replace("-", "").replace(" ", "")
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text if mod_37_36.is_valid(text, alphabet=ALPHABET) else None


def display(receipt: str) -> str:
    return f"{receipt[:4]}-{receipt[4:8]}-{receipt[8:]}"
