"""The committed OpenAPI document of the signing API matches the code."""

from __future__ import annotations

import pytest

from signing.openapi_doc import OPENAPI_PATH, render

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_is_current():
    committed = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
    assert committed == render(), (
        "services/signing/openapi.json is stale: run `uv run python -m signing.openapi_doc --write` and commit it"
    )


def test_the_document_describes_the_archive_bundle_and_verification_routes():
    import json

    paths = json.loads(render())["paths"]
    assert {"/archive/documents/{archive_id}/bundle", "/verify"} <= set(paths)
    assert set(paths["/verify"]["post"]["requestBody"]["content"]) == {"application/pdf", "multipart/form-data"}
