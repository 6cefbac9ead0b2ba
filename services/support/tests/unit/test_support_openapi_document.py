"""The committed OpenAPI document of the support API matches the code."""

from __future__ import annotations

import json

import pytest

from support.openapi import DOCUMENT, render

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_is_up_to_date():
    assert DOCUMENT.exists(), "no services/support/openapi.json: run `uv run python -m support.openapi` and commit it"
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "services/support/openapi.json is stale: run `uv run python -m support.openapi` and commit it"
    )


def test_the_document_describes_uploads_as_raw_bytes_and_downloads_as_octet_stream():
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    upload = document["paths"]["/cases/{reference}/attachments"]["post"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    download = document["paths"]["/cases/{reference}/attachments/{attachment_id}"]["get"]
    assert list(download["responses"]["200"]["content"]) == ["application/octet-stream"]
    assert {"/desk/queue", "/kb/articles", "/tutorials", "/support-numbers", "/categories"} <= set(document["paths"])
