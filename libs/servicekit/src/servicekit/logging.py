"""Structured JSON logs carrying the service name and the trace and span ids, with secrets masked.

Nothing secret should ever be logged; the masking is the second line of defence for what slips
through anyway (a reset link in an access log's query string, a token in an exception message,
a database URL with its password): JWTs, bearer credentials, passwords in URLs, secret-named
query parameters and key/value pairs, and PEM private keys are replaced before a line is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

REDACTED = "[redacted]"
# Names of fields and parameters whose value is a secret: any `*_token`, `*_secret`, `*_password`…,
# and the codes of MFA, e-mail verification and recovery (but not `status_code`, `country_code`).
_SENSITIVE_FIELDS = (
    r"(?:[a-z0-9]+_)*(?:token|secret|password|passwd|pwd|passphrase|private_key|api_key|apikey|otp)"
    r"|(?:(?:mfa|otp|totp|sms|email|verification|recovery|reset|auth|authorization|one_time)_)?codes?"
)
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "[redacted-private-key]",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # scheme://user:password@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+):[^@\s/]+@"), r"\1:" + REDACTED + "@"),
    # ?token=...&code=... in URLs and form bodies
    (re.compile(rf"(?i)(?<![\w-])({_SENSITIVE_FIELDS})=([^&\s\"'#,;)]+)"), r"\1=" + REDACTED),
    # 'password': '...', "token": "...", secret='...' in reprs, JSON and keyword arguments
    (
        re.compile(rf"(?i)([\"']?(?<![\w-])(?:{_SENSITIVE_FIELDS})[\"']?\s*[:=]\s*)([\"'])(?:\\.|(?!\2).)*\2"),
        r"\1\2" + REDACTED + r"\2",
    ),
    # "recovery_codes": [...]: the whole list
    (re.compile(rf"(?i)([\"']?(?<![\w-])(?:{_SENSITIVE_FIELDS})[\"']?\s*[:=]\s*)\[[^\]]*\]"), r"\1" + REDACTED),
)

# Attributes every LogRecord has; anything else on a record came from `extra=` (FastStream's
# message context, for instance) and is worth keeping.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message", "taskName"}


def redact(text: str) -> str:
    """`text` with credentials and secret-looking values masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never formats arguments that were not passed to it."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key in entry:
                continue
            if isinstance(value, bool | int | float) or value is None:
                entry[key] = value
            else:
                entry[key] = redact(str(value))
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        elif record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class QuietProbes(logging.Filter):
    """Drop uvicorn's access lines for successful health checks and metric scrapes (every few seconds)."""

    _PATHS = ("/health/", "/metrics")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) < 5:
            return True
        path, status = str(args[2]), args[4]
        return not (path.startswith(self._PATHS) and isinstance(status, int) and status < 400)


def setup_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (uvicorn, faststream, warnings, ours) through the JSON formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(QuietProbes())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "faststream.access", "py.warnings"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)
    logging.getLogger("aiokafka").setLevel("WARNING")
