"""Password policy (NIST SP 800-63B style): long enough, not common, no composition rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

MIN_LENGTH = 12
# Long passphrases are welcome; the cap only keeps one hash request from being abused.
MAX_LENGTH = 256
COMMON_LIST = Path(__file__).with_name("common_passwords.txt")
PRODUCT_WORDS = ("factora",)

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused: the rule broken and what to do instead."""

    rule: str
    detail: str


def normalise(password: str) -> str:
    """NFKC form, so the same passphrase typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords and first names, lower case."""
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _is_run(text: str) -> bool:
    """abcdef..., 987654..., 1234567890123 (digits wrap around), or one character repeated."""
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return bool(steps) and (steps in ({0}, {1}, {-1}) or (text.isdigit() and steps in ({1, -9}, {-1, 9})))


def _repeated_unit(text: str) -> str | None:
    """The shortest unit `text` repeats (abcabcabc -> abc), or None."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def _looks_common(text: str) -> bool:
    common = common_passwords()
    base = _EDGES.sub("", text)
    candidates = {text, base, base.translate(_LEET), text.translate(_LEET)}
    if any(c in common for c in candidates if c):
        return True
    if _is_run(text) or (base and _is_run(base)):
        return True
    unit = _repeated_unit(text)
    return unit is not None and (len(unit) <= 4 or _looks_common(unit))


def password_problem(password: str, *, email: str | None = None) -> PasswordProblem | None:
    """The first rule the password breaks, or None when it is acceptable."""
    value = normalise(password)
    if len(value) < MIN_LENGTH:
        return PasswordProblem(
            "min_length",
            f"use at least {MIN_LENGTH} characters; a short sentence you can remember is a good choice",
        )
    if len(value) > MAX_LENGTH:
        return PasswordProblem("max_length", f"use at most {MAX_LENGTH} characters")
    lowered = value.lower()
    if _looks_common(lowered):
        return PasswordProblem(
            "common_password",
            "this password is on the list of common or easily guessed passwords; choose something less predictable",
        )
    if email:
        local = email.split("@", 1)[0].lower()
        if lowered == email.lower() or (len(local) >= 4 and _EDGES.sub("", lowered) == local):
            return PasswordProblem("contains_username", "do not build the password from your e-mail address")
    if any(_EDGES.sub("", lowered).translate(_LEET) == word for word in PRODUCT_WORDS):
        return PasswordProblem("contains_service_name", "do not build the password from the name of the service")
    return None
