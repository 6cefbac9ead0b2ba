"""The CloudEvents envelope round-trips through Kafka headers and rejects incomplete ones."""

import pytest

from contracts.envelope import Envelope, EnvelopeError

pytestmark = pytest.mark.unit


def test_envelope_round_trips_through_kafka_headers():
    env = Envelope.new(source="/factora/invoicing", type="invoicing.invoice-issued.v1", subject="inv-1", tenant="c-1")
    raw = [(k, v.encode()) for k, v in env.to_headers().items()]
    assert Envelope.from_headers(raw) == env


def test_missing_headers_are_named_in_the_error():
    headers = Envelope.new(source="/x", type="t").to_headers()
    del headers["ce_id"], headers["ce_time"]
    with pytest.raises(EnvelopeError, match="ce_id, ce_time"):
        Envelope.from_headers(headers)


def test_wrong_spec_version_is_refused():
    headers = Envelope.new(source="/x", type="t").to_headers() | {"ce_specversion": "0.3"}
    with pytest.raises(EnvelopeError, match=r"ce_specversion must be 1\.0"):
        Envelope.from_headers(headers)
