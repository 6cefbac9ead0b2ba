"""Random tokens and codes, and the one-way forms we store instead of them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

RECOVERY_CODE_COUNT = 10
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_token() -> str:
    """A 256-bit URL-safe token for links, refresh tokens and device tokens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 hex of a high-entropy token; enough because such tokens cannot be guessed."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_numeric_code(digits: int = 6) -> str:
    """A one-time code for SMS or e-mail."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_hash(salt: str, code: str) -> str:
    """Hash of a short code bound to the record it belongs to (a code of one record fails on another)."""
    return hashlib.sha256(f"{salt}:{code.strip()}".encode()).hexdigest()


def codes_equal(expected_hash: str | None, salt: str, code: str) -> bool:
    """Constant-time comparison of a typed code with a stored hash."""
    return expected_hash is not None and hmac.compare_digest(expected_hash, code_hash(salt, code))


def new_recovery_code() -> str:
    """80 random bits as four groups of four base32 letters, e.g. 7kq2-mpxa-r4tz-c9wd."""
    raw = "".join(secrets.choice(_BASE32) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_recovery_code(code: str) -> str:
    """Lower case without separators or spaces, as the user may type it."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_hash(code: str) -> str:
    """SHA-256 of the normalised code (80 random bits: no salt or slow hash needed)."""
    return token_hash(normalise_recovery_code(code))
