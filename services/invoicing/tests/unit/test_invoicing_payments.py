"""The test payment provider behaves like a card processor: authorisation, declines, idempotency keys."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoicing.adapters.payments import IdempotencyConflict, PaymentProvider, TestPaymentProvider

pytestmark = pytest.mark.unit


async def authorise(provider: PaymentProvider, key: str, method: str = "pm_card_visa", amount: str = "48.00"):
    return await provider.authorise(
        idempotency_key=key, amount=Decimal(amount), currency="EUR", payment_method=method, description="credits"
    )


async def test_a_good_card_is_authorised_then_captured():
    provider = TestPaymentProvider()
    result = await authorise(provider, "k1")
    assert result.status == "authorised" and result.reference.startswith("pay_")
    captured = await provider.capture(reference=result.reference, idempotency_key="k1")
    assert captured.status == "captured" and provider.captured(result.reference)


@pytest.mark.parametrize(
    ("method", "code"),
    [("pm_card_declined", "card_declined"), ("pm_card_insufficient_funds", "insufficient_funds"),
     ("pm_card_expired", "expired_card"), ("pm_unknown", "invalid_payment_method")],
)  # fmt: skip
async def test_test_cards_are_declined_with_the_processors_code(method, code):
    result = await authorise(TestPaymentProvider(), "k", method)
    assert (result.status, result.decline_code) == ("declined", code) and result.message


async def test_the_same_idempotency_key_returns_the_first_answer_without_a_second_authorisation():
    provider = TestPaymentProvider()
    first = await authorise(provider, "same")
    again = await authorise(provider, "same")
    assert again == first and provider.authorisations == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused():
    provider = TestPaymentProvider()
    await authorise(provider, "same")
    with pytest.raises(IdempotencyConflict):
        await authorise(provider, "same", amount="9.99")


async def test_nothing_is_captured_without_an_authorisation():
    result = await TestPaymentProvider().capture(reference="pay_nothing", idempotency_key="x")
    assert (result.status, result.decline_code) == ("declined", "no_authorisation")
