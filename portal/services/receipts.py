"""Receipt numbers: short, random, with a check character so a mistyped one is caught at once."""
from __future__ import annotations

import secrets

# Crockford's alphabet (no I, L, O, U) less S, V and Z (read as 5, U and 2): 29 symbols, a prime.
ALPHABET = "0123456789ABCDEFGHJKMNPQRTWXY"
MODULUS = len(ALPHABET)  # 29
LENGTH = 10  # 9 random characters (43 bits) + 1 check character


def _weighted_sum(text: str) -> int:
    """Σ value·2^k mod 29, the last character weighing 1 (ISO 7064 pure system, radix 2).

    29 is prime and 2 is a primitive root modulo 29: all weights differ and neighbouring weights differ by
    a factor of 2, so every single-character change and every swap of neighbours changes the sum.
    """
    total = 0
    for char in text:
        total = (total * 2 + ALPHABET.index(char)) % MODULUS
    return total


def check_character(body: str) -> str:
    return ALPHABET[(-_weighted_sum(body) * 2) % MODULUS]


def new_receipt() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + check_character(body)


def normalise(raw: str) -> str | None:
    """Accept what people type (lower case, dashes, spaces, O for 0, I/L for 1); None if not valid."""
    text = (raw or "").upper().replace("-", "").replace(" ", "")
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1", "Z": "2", "S": "5"}))
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text if _weighted_sum(text) == 0 else None


def display(receipt: str) -> str:
    return f"{receipt[:4]}-{receipt[4:8]}-{receipt[8:]}"


def new_receipts(count: int) -> list[str]:
    """Many distinct receipts at once, for bulk filing (a staff-list import): the random characters are
    drawn from one call to the system's random source instead of one call per character."""
    size = LENGTH - 1
    limit = 256 - 256 % MODULUS  # bytes below it map uniformly onto the alphabet
    out: dict[str, None] = {}
    while len(out) < count:
        chars = [ALPHABET[b % MODULUS] for b in secrets.token_bytes(size * (count - len(out)) * 2) if b < limit]
        for i in range(0, len(chars) - size + 1, size):
            body = "".join(chars[i:i + size])
            out[body + check_character(body)] = None
            if len(out) == count:
                break
    return list(out)
