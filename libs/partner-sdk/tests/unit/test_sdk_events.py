"""Partner SDK: a Python dict becomes a contract-valid partner submission, or an error naming the field."""

from __future__ import annotations

import json

import pytest

from contracts.examples import sample_partner_invoice
from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner import InvoiceDataError, build_submission

pytestmark = pytest.mark.unit


def sample_dict() -> dict:
    return json.loads(sample_partner_invoice(external_id="ERP-1").model_dump_json())


def test_a_dict_in_the_contract_shape_becomes_a_submission_that_validates_against_the_contract():
    event = build_submission(sample_dict(), partner_id="erp-7")

    assert isinstance(event, PartnerInvoiceSubmitted)
    assert PartnerInvoiceSubmitted.model_validate_json(event.model_dump_json()) == event
    assert (event.partner_id, event.external_id, len(event.lines)) == ("erp-7", "ERP-1", 2)


def test_a_missing_field_is_named_with_its_path_and_what_to_do():
    data = sample_dict()
    del data["lines"][1]["unit_price"]

    with pytest.raises(InvoiceDataError) as caught:
        build_submission(data)

    assert caught.value.field == "lines[1].unit_price"
    assert "required" in caught.value.hint and "<dict>" in str(caught.value)


def test_a_bad_value_is_named_with_the_value_given():
    data = sample_dict() | {"currency": "EURO"}

    with pytest.raises(InvoiceDataError) as caught:
        build_submission(data)

    assert caught.value.field == "currency" and "'EURO'" in caught.value.hint


def test_an_invoice_without_lines_is_refused():
    with pytest.raises(InvoiceDataError) as caught:
        build_submission(sample_dict() | {"lines": []})

    assert caught.value.field == "lines"
