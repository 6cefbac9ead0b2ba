"""TOTP (RFC 6238, 30-second steps, 6 digits): provisioning and replay-proof verification."""

from __future__ import annotations

import hmac
import time

import pyotp
import segno

STEP_S = 30
# One step either side tolerates a phone clock a little off.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A 160-bit base32 secret, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps read (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI, ready for an <img src>."""
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code equals `code` (within the drift), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_S)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def secret_label(secret: str) -> str:
    """The secret grouped by four for manual entry."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
