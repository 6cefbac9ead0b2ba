"""A tiny OTLP/HTTP trace receiver: the services of a test stack export their spans to it.

It accepts `POST /v1/traces` with an OTLP protobuf body (gzip or not), as the OpenTelemetry
OTLP/HTTP exporter sends it, keeps the spans in memory for the tests, and appends them as JSON
lines to a file so a person can read the traces of a failed run afterwards.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devstack.config import LOCALHOST

TRACES_PATH = "/v1/traces"
_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


@dataclass(frozen=True)
class CollectedSpan:
    """One span as received: ids in lowercase hex, attributes as plain Python values."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """How long the span lasted, in seconds."""
        return (self.end_ns - self.start_ns) / 1e9


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind)


def decode_spans(body: bytes) -> list[CollectedSpan]:
    """The spans of one OTLP ExportTraceServiceRequest (protobuf)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        service = str(resource.get("service.name", "unknown"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    CollectedSpan(
                        service=service,
                        name=span.name,
                        kind=_KINDS.get(span.kind, str(span.kind)),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status=_STATUS.get(span.status.code, str(span.status.code)),
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                    )
                )
    return spans


def _empty_response() -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    return ExportTraceServiceResponse().SerializeToString()


class TraceCollector:
    """OTLP/HTTP receiver on 127.0.0.1:<port> (a free one by default), running in a thread."""

    def __init__(self, *, port: int = 0, spans_file: Path | None = None, max_spans: int = 200_000) -> None:
        self._requested_port = port
        self.spans_file = spans_file
        self._spans: deque[CollectedSpan] = deque(maxlen=max_spans)
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests = 0
        self.rejected = 0

    # ------------------------------------------------------------------ server

    @property
    def port(self) -> int:
        """The port it listens on (after start)."""
        if self._server is None:
            raise RuntimeError("TraceCollector not started")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """Value for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT."""
        return f"http://{LOCALHOST}:{self.port}{TRACES_PATH}"

    def exporter_env(self, schedule_delay_ms: int = 200) -> dict[str, str]:
        """The OTEL_* variables that make a service export every span here, quickly."""
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": str(schedule_delay_ms),
        }

    def start(self) -> None:
        """Listen and serve in a daemon thread."""
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    if self.path.split("?")[0] != TRACES_PATH:
                        raise ValueError(f"unknown path {self.path}")
                    encoding = (self.headers.get("Content-Encoding") or "").lower()
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    if "protobuf" not in (self.headers.get("Content-Type") or ""):
                        raise ValueError("only application/x-protobuf bodies are understood")
                    spans = decode_spans(body)
                except Exception as exc:
                    collector.rejected += 1
                    self.send_error(400, str(exc))
                    return
                collector.add(spans)
                reply = _empty_response()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # every export would print a line in the test output

        self._server = ThreadingHTTPServer((LOCALHOST, self._requested_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (spans received stay readable)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    # ------------------------------------------------------------------ spans

    def add(self, spans: Iterable[CollectedSpan]) -> None:
        """Store spans (what the HTTP handler does with each export)."""
        spans = list(spans)
        with self._lock:
            self.requests += 1
            self._spans.extend(spans)
            if self.spans_file is not None and spans:
                self.spans_file.parent.mkdir(parents=True, exist_ok=True)
                with self.spans_file.open("a", encoding="utf-8") as fh:
                    for span in spans:
                        fh.write(json.dumps(asdict(span), default=str) + "\n")
            self._lock.notify_all()

    def spans(self, predicate: Callable[[CollectedSpan], bool] | None = None) -> list[CollectedSpan]:
        """Every span received so far (or those matching predicate)."""
        with self._lock:
            spans = list(self._spans)
        return [s for s in spans if predicate is None or predicate(s)]

    def trace(self, trace_id: str) -> list[CollectedSpan]:
        """The spans of one trace received so far, in start order."""
        return sorted(self.spans(lambda s: s.trace_id == trace_id), key=lambda s: s.start_ns)

    def wait_for(self, condition: Callable[[list[CollectedSpan]], bool], timeout: float = 30.0) -> list[CollectedSpan]:
        """Block until condition(all spans) holds; returns the spans; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                spans = list(self._spans)
                if condition(spans):
                    return spans
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"spans not as expected after {timeout:.0f}s ({len(spans)} received)")
                self._lock.wait(min(left, 0.5))

    async def wait_for_async(
        self,
        condition: Callable[[list[CollectedSpan]], bool],
        timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline, like SmtpCatcher.wait_for's
    ) -> list[CollectedSpan]:
        """`wait_for` for async tests: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if condition(spans):
                return spans
            if time.monotonic() >= deadline:
                raise TimeoutError(f"spans not as expected after {timeout:.0f}s ({len(spans)} received)")
            await asyncio.sleep(0.1)
