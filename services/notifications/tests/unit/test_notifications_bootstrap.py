"""The composition root: what the environment switches on, and the committed OpenAPI document."""

from __future__ import annotations

import pytest

from notifications.adapters.documents import SigningArchive
from notifications.bootstrap import build_app
from notifications.openapi import OPENAPI_PATH, render
from notifications.settings import Settings

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_is_up_to_date() -> None:
    assert OPENAPI_PATH.exists(), "run `uv run python -m notifications.openapi --write` and commit openapi.json"
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(), (
        "the HTTP API changed: run `uv run python -m notifications.openapi --write` and commit openapi.json"
    )


def test_the_operator_endpoints_are_documented_with_their_refusals() -> None:
    import json

    paths = json.loads(render())["paths"]

    for path in ("/deliveries", "/deliveries/summary"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "401", "403"} <= set(responses), path
    parameters = {p["name"] for p in paths["/deliveries"]["get"]["parameters"]}
    assert {"recipient", "idempotency_key", "event_id", "limit"} <= parameters


def test_settings_come_from_the_service_and_stack_variables(monkeypatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "relay.example.net")
    monkeypatch.setenv("SMTP_CONNECTIONS", "2")
    monkeypatch.setenv("SIGNING_BASE_URL", "https://signing.internal")
    monkeypatch.setenv("IDENTITY_JWKS_URL", "https://identity.internal/.well-known/jwks.json")
    monkeypatch.setenv("NOTIFICATIONS_SIGNING_TOKEN", "svc-token")
    monkeypatch.setenv("NOTIFICATIONS_ATTACHMENT_MAX_BYTES", "2048")

    settings = Settings()

    assert (settings.smtp.host, settings.smtp.connections) == ("relay.example.net", 2)
    assert settings.signing_base_url == "https://signing.internal"
    assert settings.jwks_url == "https://identity.internal/.well-known/jwks.json"
    assert settings.signing_token is not None and settings.signing_token.get_secret_value() == "svc-token"
    assert "svc-token" not in repr(settings)
    assert settings.attachment_max_bytes == 2048


def test_without_a_signing_token_documents_are_linked_never_fetched(monkeypatch) -> None:
    monkeypatch.delenv("NOTIFICATIONS_SIGNING_TOKEN", raising=False)

    app = build_app(Settings())

    assert app.state.dispatcher.documents is None


def test_with_a_signing_token_documents_are_fetched_from_signing(monkeypatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_SIGNING_TOKEN", "svc-token")

    app = build_app(Settings())

    assert isinstance(app.state.dispatcher.documents, SigningArchive)
