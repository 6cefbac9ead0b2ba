"""JSON log lines: one object per record, with the service name and the trace of the active span."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from servicekit.logging import JsonFormatter

pytestmark = pytest.mark.unit


def _record(msg: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("invoicing.handlers", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_a_log_line_is_one_json_object_with_the_service_level_logger_and_message():
    line = JsonFormatter("invoicing").format(_record("invoice %s issued for %s", "F-1", "Zoë"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["service"] == "invoicing"
    assert entry["level"] == "warning"
    assert entry["logger"] == "invoicing.handlers"
    assert entry["message"] == "invoice F-1 issued for Zoë"
    assert entry["time"].endswith("+00:00")
    assert "trace_id" not in entry  # no active span


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids():
    tracer = TracerProvider().get_tracer("servicekit-tests")
    with tracer.start_as_current_span("consume") as span:
        entry = json.loads(JsonFormatter("signing").format(_record("sealing")))
        context = span.get_span_context()
    assert entry["trace_id"] == f"{context.trace_id:032x}"
    assert entry["span_id"] == f"{context.span_id:016x}"


def test_an_exception_is_logged_inside_the_same_json_object():
    try:
        raise RuntimeError("seal failed\nsecond line")
    except RuntimeError:
        record = _record("boom", exc_info=sys.exc_info())
    line = JsonFormatter("signing").format(record)
    assert "\n" not in line
    assert "RuntimeError: seal failed" in json.loads(line)["error"]
