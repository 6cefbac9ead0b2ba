"""What the nginx gateway itself answers on the real stack: JSON errors, limits, CORS, headers, request ids."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid

import httpx
import pytest

from devstack.pytest_gateway import free_port, start_gateway, stop_gateway

pytestmark = pytest.mark.e2e

PORTAL = "http://localhost:5173"
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_gateway_error(response: httpx.Response, status: int, code: str) -> dict:
    """A gateway error: the status, JSON of the services' shape, and the answer's own request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == body["code"] == code, body
    assert body["detail"] and body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture(scope="module")
def tight_gateway(running_network, test_stack_dir):
    """A second gateway on the same services, allowing one sign-in request a minute (the shared one allows 10/s)."""
    overrides = {"FACTORA_GATEWAY_AUTH_RATE": "1r/m", "FACTORA_GATEWAY_AUTH_BURST": "1"}
    instance = start_gateway(
        name="gateway-tight",
        stack_dir=test_stack_dir,
        port=free_port(),
        service_ports=running_network.ports,
        overrides=overrides,
    )
    yield instance
    stop_gateway(instance, test_stack_dir, "gateway-tight")


async def test_an_unknown_path_is_a_json_404(gateway):
    async with httpx.AsyncClient(timeout=30) as client:
        nowhere = await client.get(f"{gateway.url}/wp-login.php")
        unknown_service = await client.get(f"{gateway.url}/api/payroll/runs")
        unknown_in_service = await client.get(f"{gateway.api('support')}/no-such-thing")
    assert "/api/<service>/" in assert_gateway_error(nowhere, 404, "not_found")["detail"]
    assert "identity, invoicing" in assert_gateway_error(unknown_service, 404, "unknown_service")["detail"]
    # Inside a service the service answers its own 404: the gateway does not replace it.
    assert unknown_in_service.status_code == 404 and "request_id" not in unknown_in_service.json()


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics"])
async def test_health_checks_and_metrics_are_not_exposed_through_the_gateway(gateway, running_network, path):
    async with httpx.AsyncClient(timeout=30) as client:
        for service in ("identity", "support"):
            through = await client.get(f"{gateway.api(service)}{path}")
            assert_gateway_error(through, 404, "not_exposed")
            # Operators still read them on the service port.
            direct = await client.get(f"{running_network.service_url(service)}{path}")
            assert direct.status_code == 200


async def test_a_body_over_one_megabyte_is_refused_with_a_json_413(gateway):
    async with httpx.AsyncClient(timeout=60) as client:
        refused = await client.post(
            f"{gateway.api('identity')}/login",
            content=b"{" + b" " * (1024 * 1024) + b"}",
            headers={"content-type": "application/json"},
        )
    assert "(1 MB)" in assert_gateway_error(refused, 413, "body_too_large")["detail"]


async def test_attachments_may_be_larger_but_not_beyond_their_own_limit(gateway):
    two_mb = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)
    path = f"{gateway.api('support')}/cases/SUP-0000-000000/attachments"
    async with httpx.AsyncClient(timeout=120) as client:
        # Within the attachment limit: the request reaches support, which wants a signed-in caller.
        reached = await client.post(path, files={"file": ("big.pdf", two_mb, "application/pdf")})
        assert reached.status_code != 413, reached.text
        assert "request_id" not in reached.json(), "support answered, not the gateway"
        too_big = await client.post(
            path, content=b"0" * (12 * 1024 * 1024), headers={"content-type": "application/pdf"}
        )
    assert "(11 MB)" in assert_gateway_error(too_big, 413, "body_too_large")["detail"]


async def test_signing_verify_takes_files_above_the_default_limit(gateway):
    async with httpx.AsyncClient(timeout=120) as client:
        answered = await client.post(
            f"{gateway.api('signing')}/verify",
            content=b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024),
            headers={"content-type": "application/pdf"},
        )
    # signing itself judged the upload (not a PDF it can check): the gateway let 2 MB through.
    assert answered.status_code != 413, answered.text
    assert "request_id" not in answered.text


async def test_too_many_sign_in_attempts_from_one_address_get_a_json_429(tight_gateway):
    url = f"{tight_gateway.url}/api/identity/login"
    credentials = {"email": f"nobody-{uuid.uuid4().hex[:8]}@atelier-lumiere.example", "password": "not the password"}
    async with httpx.AsyncClient(timeout=60) as client:
        answers = [await client.post(url, json=credentials) for _ in range(4)]
        other = await client.get(f"{tight_gateway.url}/api/identity/.well-known/jwks.json")
    statuses = [a.status_code for a in answers]
    # The rate (1/min) plus the burst (1) let two through to identity; the rest stop at the gateway.
    assert 429 not in statuses[:2] and all("request_id" not in a.json() for a in answers[:2]), statuses
    assert statuses[2:] == [429, 429]
    body = assert_gateway_error(answers[-1], 429, "rate_limited")
    assert answers[-1].headers["retry-after"] == "60" and body["retry_after_s"] == 60
    assert "wait 60 s" in body["detail"]
    # Only the sign-in and recovery endpoints are limited.
    assert other.status_code == 200


async def test_the_shared_gateway_lets_a_normal_burst_of_sign_ins_through(gateway):
    credentials = {"email": f"nobody-{uuid.uuid4().hex[:8]}@atelier-lumiere.example", "password": "not the password"}
    url = f"{gateway.api('identity')}/login"
    async with httpx.AsyncClient(timeout=120) as client:
        answers = await asyncio.gather(*(client.post(url, json=credentials) for _ in range(10)))
    # identity may throttle the account itself; the gateway's own limit (10/s, burst 30) must not trip.
    assert not [a for a in answers if a.status_code == 429 and "request_id" in a.json()]


async def test_a_stopped_service_answers_a_json_502_and_comes_back(gateway, running_network):
    url = f"{gateway.api('support')}/kb/topics"
    await running_network.stop_service("support")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            down = await client.get(url)
            other = await client.get(f"{gateway.api('identity')}/.well-known/jwks.json")
        body = assert_gateway_error(down, 502, "service_unreachable")
        assert body["service"] == "support" and "support service" in body["detail"]
        assert down.headers["retry-after"] == "5"
        assert other.status_code == 200
    finally:
        await running_network.start_service("support")
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await client.get(url)).status_code == 200


def _raw_request(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def test_a_malformed_request_is_a_json_400(gateway):
    # HTTP/1.1 without a Host header is malformed.
    status, headers, body = await asyncio.to_thread(
        _raw_request, gateway.port, b"GET /api/identity/.well-known/jwks.json HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    parsed = json.loads(body)
    assert parsed["code"] == "bad_request" and parsed["request_id"] == headers["x-request-id"]


async def test_a_preflight_from_the_portal_is_allowed(gateway):
    async with httpx.AsyncClient(timeout=30) as client:
        preflight = await client.options(
            f"{gateway.api('invoicing')}/invoices",
            headers={
                "Origin": PORTAL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        actual = await client.get(f"{gateway.api('support')}/kb/topics", headers={"Origin": PORTAL})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == PORTAL
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed
    assert "Origin" in preflight.headers["vary"]
    assert actual.status_code == 200 and actual.headers["access-control-allow-origin"] == PORTAL
    assert "X-Request-ID" in actual.headers["access-control-expose-headers"]


async def test_a_preflight_from_another_origin_is_refused(gateway):
    async with httpx.AsyncClient(timeout=30) as client:
        preflight = await client.options(
            f"{gateway.api('invoicing')}/invoices",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        actual = await client.get(f"{gateway.api('support')}/kb/topics", headers={"Origin": "https://evil.example"})
    assert "member portal" in assert_gateway_error(preflight, 403, "cors_origin_not_allowed")["detail"]
    for answer in (preflight, actual):
        assert not [h for h in answer.headers if h.startswith("access-control-")], answer.headers


async def test_security_headers_are_on_every_answer(gateway):
    async with httpx.AsyncClient(timeout=30) as client:
        answers = {
            "proxied": await client.get(f"{gateway.api('identity')}/.well-known/jwks.json"),
            "service error": await client.get(f"{gateway.api('identity')}/me"),
            "gateway error": await client.get(f"{gateway.url}/nope"),
            "docs": await client.get(f"{gateway.url}/docs"),
        }
    for what, answer in answers.items():
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (what, name)
        assert "permissions-policy" in answer.headers, what
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], what
        assert answer.headers["server"] == "nginx", "server_tokens off: no version"
    assert answers["proxied"].headers["content-security-policy"].startswith("default-src 'none'")
    assert "style-src 'self'" in answers["docs"].headers["content-security-policy"]
    assert "strict-transport-security" not in answers["proxied"].headers, "HSTS only over HTTPS"


async def test_a_well_formed_request_id_is_kept_and_a_malformed_one_replaced(gateway, running_network):
    mine = f"portal-{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=30) as client:
        kept = await client.get(f"{gateway.api('support')}/kb/topics", headers={"X-Request-ID": mine})
        replaced = await client.get(f"{gateway.api('support')}/kb/topics", headers={"X-Request-ID": 'bad id "x"'})
        generated = await client.get(f"{gateway.api('support')}/kb/topics")
    assert kept.headers["x-request-id"] == mine
    assert HEX_ID.match(replaced.headers["x-request-id"]) and HEX_ID.match(generated.headers["x-request-id"])
    assert replaced.headers["x-request-id"] != generated.headers["x-request-id"]
    # The access log is JSON, one request a line, with the id and the service that answered.
    await asyncio.sleep(0.2)
    entries = [json.loads(line) for line in gateway.access_log_path.read_text(encoding="utf-8").splitlines()]
    mine_logged = [e for e in entries if e["request_id"] == mine]
    assert len(mine_logged) == 1
    assert mine_logged[0]["service"] == "support" and mine_logged[0]["status"] == 200
    assert mine_logged[0]["upstream_addr"] == f"127.0.0.1:{running_network.ports['support']}"


async def test_the_merged_openapi_document_and_the_docs_page_are_served(gateway):
    from devstack.config import repo_root
    from devstack.gateway import gateway_dir

    committed = json.loads((gateway_dir(repo_root()) / "openapi.json").read_text(encoding="utf-8"))
    async with httpx.AsyncClient(timeout=30) as client:
        spec = await client.get(f"{gateway.url}/openapi.json")
        docs = await client.get(f"{gateway.url}/docs")
        css = await client.get(f"{gateway.url}/docs.css")
    assert spec.status_code == 200 and spec.headers["content-type"].startswith("application/json")
    assert spec.json() == committed
    assert "/api/identity/login" in spec.json()["paths"]
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert 'id="service-support"' in docs.text and "/api/support/kb/topics" in docs.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_the_gateway_answers_its_own_health_check(gateway):
    async with httpx.AsyncClient(timeout=30) as client:
        health = await client.get(f"{gateway.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
