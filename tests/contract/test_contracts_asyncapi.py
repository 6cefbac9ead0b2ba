"""The committed AsyncAPI documents match what the services' code declares."""

import json

import pytest

from factora_testing.asyncapi_docs import ASYNCAPI_DIR, SERVICES, render

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_document_is_up_to_date(service):
    path = ASYNCAPI_DIR / f"{service}.json"
    assert path.exists(), f"no AsyncAPI document for {service}: run `make asyncapi` and commit"
    assert path.read_text() == render(service), f"{service}'s AsyncAPI is stale: run `make asyncapi` and commit"


def test_invoicing_documents_the_payload_of_what_it_publishes():
    document = json.loads((ASYNCAPI_DIR / "invoicing.json").read_text())
    channels = json.dumps(document["channels"])
    assert "invoicing.invoice-issued.v1" in channels
    assert "InvoiceIssued" in json.dumps(document["components"])
