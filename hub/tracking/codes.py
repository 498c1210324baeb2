"""Tracking codes: short, unguessable, easy to read aloud: `YJ-7KQ4-92MX`.

`YJ` (Yes! Jitu) and eight symbols of Crockford's base32, whose alphabet leaves out I, L, O
and U so that no two symbols sound or look alike; reading it back, `O` is taken as `0` and
`I`/`L` as `1`, case and separators do not matter. Eight symbols are 40 bits from `secrets`:
with a few hundred thousand needs open, a guess hits one in about three million, and the
endpoint allows a handful of guesses a minute per address.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "YJ"
SYMBOLS = 8
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"(?:{PREFIX})?([{ALPHABET}]{{{SYMBOLS}}})")


def new_code(rng: random.Random | None = None) -> str:
    """A fresh code from `secrets`; a seeded `rng` only for synthetic data (`hub seed`)."""
    pick = rng.choice if rng is not None else secrets.choice
    return format_code("".join(pick(ALPHABET) for _ in range(SYMBOLS)))


def format_code(symbols: str) -> str:
    """`7KQ492MX` as it is written for the citizen: `YJ-7KQ4-92MX`."""
    return f"{PREFIX}-{symbols[:4]}-{symbols[4:]}"


def normalise(text: str) -> str | None:
    """The eight symbols of a code as typed or read back (`yj 7kq4 92mx`), or None."""
    cleaned = re.sub(r"[\s\-_.]", "", text.upper()).translate(_READ_AS)
    match = _SHAPE.fullmatch(cleaned)
    return match.group(1) if match else None


def digest(symbols: str) -> str:
    """The stored form of a normalised code."""
    return hashlib.sha256(f"{PREFIX}-{symbols}".encode()).hexdigest()
