"""The committed OpenAPI document (services/invoicing/openapi.json) is what the app serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invoicing.bootstrap import build_app

pytestmark = pytest.mark.unit

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    return json.dumps(build_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_committed_openapi_document_is_up_to_date():
    assert COMMITTED.exists(), "run: uv run python -m invoicing.openapi --write"
    assert COMMITTED.read_text(encoding="utf-8") == render(), "stale: run `uv run python -m invoicing.openapi --write`"


def test_every_business_endpoint_is_documented_with_a_summary():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path}"
    assert {"/invoices", "/relationships", "/billing/purchases", "/invoices/{invoice_id}/ubl"} <= set(document["paths"])
