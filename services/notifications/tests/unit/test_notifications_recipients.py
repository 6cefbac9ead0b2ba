"""One spelling per recipient: in the ledger (so a repeat is recognised) and in operators' look-ups."""

from __future__ import annotations

import pytest

from notifications.service.handlers import canonical_recipient
from notifications.service.queries import recipient_key

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("channel", "raw", "expected"),
    [
        ("email", " Buyer.Name@Example.COM ", "Buyer.Name@example.com"),
        ("email", "not-an-address", "not-an-address"),
        ("sms", "06 12 34 56 78", "+33612345678"),
        ("sms", "+33 (0)6 12 34 56 78", "+33612345678"),
        ("sms", "06 12", "06 12"),
    ],
)
def test_a_recipient_is_recorded_in_its_canonical_spelling(channel: str, raw: str, expected: str) -> None:
    assert canonical_recipient(channel, raw, "FR") == expected


def test_a_number_without_country_code_is_read_in_the_configured_region() -> None:
    assert canonical_recipient("sms", "07911 123456", "GB") == "+447911123456"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Buyer.Name@Example.com", "buyer.name@example.com"),
        ("06 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("unknown thing", "unknown thing"),
    ],
)
def test_an_operator_can_type_a_recipient_the_way_it_was_given(query: str, expected: str) -> None:
    assert recipient_key(query, "FR") == expected
