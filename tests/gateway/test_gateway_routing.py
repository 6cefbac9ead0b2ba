"""Requests through the nginx gateway reach the right service, with the prefix stripped, on the real stack."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def test_identity_jwks_is_served_through_the_gateway(gateway, running_network):
    async with httpx.AsyncClient(timeout=30) as client:
        through = await client.get(f"{gateway.api('identity')}/.well-known/jwks.json")
        direct = await client.get(f"{running_network.service_url('identity')}/.well-known/jwks.json")
    assert through.status_code == 200, through.text
    assert through.json() == direct.json()
    assert through.json()["keys"], "identity publishes at least one signing key"


async def test_support_knowledge_base_topics_are_served_through_the_gateway(gateway, running_network):
    async with httpx.AsyncClient(timeout=30) as client:
        through = await client.get(f"{gateway.api('support')}/kb/topics")
        direct = await client.get(f"{running_network.service_url('support')}/kb/topics")
    assert through.status_code == 200, through.text
    assert through.json() == direct.json()


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("invoicing", "/invoices"),
        ("signing", "/archive/documents/00000000-0000-0000-0000-000000000000"),
        ("notifications", "/deliveries"),
        ("identity", "/me"),
        ("support", "/cases"),
    ],
)
async def test_a_services_own_error_answer_passes_through_the_gateway_untouched(
    gateway, running_network, service, path
):
    async with httpx.AsyncClient(timeout=30) as client:
        through = await client.get(f"{gateway.api(service)}{path}")
        direct = await client.get(f"{running_network.service_url(service)}{path}")
    assert through.status_code == direct.status_code == 401, (through.status_code, through.text)
    # The service's body, not a gateway page: same JSON, and no gateway request id inside it.
    assert through.json() == direct.json()
    assert "request_id" not in through.json()
    assert through.headers.get("www-authenticate") == direct.headers.get("www-authenticate")
