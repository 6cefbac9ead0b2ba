"""The gateway's nginx configuration and OpenAPI document, checked without a running stack."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import html as lxml_html

from devstack.config import SERVICES, repo_root
from devstack.errors import StackError
from devstack.gateway import (
    RATE_LIMITED,
    UPLOADS,
    GatewayPaths,
    GatewaySettings,
    gateway_dir,
    nginx_binary,
    nginx_test,
    render_config,
    retry_after_seconds,
    size_text,
)
from devstack.gateway_openapi import expected_files, merge, service_documents

pytestmark = pytest.mark.unit

ROOT = repo_root()
GATEWAY_DIR = gateway_dir(ROOT)
PORTS = dict(zip(SERVICES, range(41001, 41006), strict=True))


def _nginx() -> str:
    binary = nginx_binary()
    assert binary, "nginx is not installed (apt-get install nginx); .ci/run installs it"
    return binary


def _render(tmp_path: Path, settings: GatewaySettings) -> Path:
    paths = GatewayPaths(home=tmp_path, static_dir=GATEWAY_DIR, access_log=tmp_path / "access.log")
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    for name, text in render_config(settings, paths, GATEWAY_DIR).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return paths.config


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.factora.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("api.factora.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_the_rendered_gateway_configuration_passes_nginx_t(tmp_path):
    config = _render(tmp_path, GatewaySettings(port=41080, service_ports=PORTS))
    checked = nginx_test(_nginx(), config, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_nginx_t_rejects_a_broken_configuration_so_the_check_can_fail(tmp_path):
    config = _render(tmp_path, GatewaySettings(port=41080, service_ports=PORTS))
    config.write_text(config.read_text(encoding="utf-8").replace("server_tokens off;", "server_tokens maybe;"))
    assert nginx_test(_nginx(), config, tmp_path).returncode != 0


def test_the_tls_example_passes_nginx_t_with_a_throwaway_certificate(tmp_path):
    cert, key = _self_signed(tmp_path)
    example = (GATEWAY_DIR / "tls.example.conf").read_text(encoding="utf-8")
    assert "/etc/ssl/factora/fullchain.pem" in example and "/etc/ssl/factora/privkey.pem" in example
    local = tmp_path / "tls.conf"
    local.write_text(
        example.replace("/etc/ssl/factora/fullchain.pem", str(cert)).replace("/etc/ssl/factora/privkey.pem", str(key)),
        encoding="utf-8",
    )
    config = _render(tmp_path, GatewaySettings(port=41080, service_ports=PORTS, extra_includes=(str(local),)))
    checked = nginx_test(_nginx(), config, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_tls_example_allows_only_modern_protocols_and_redirects_plain_http():
    example = (GATEWAY_DIR / "tls.example.conf").read_text(encoding="utf-8")
    protocols = re.search(r"^\s*ssl_protocols ([^;]+);", example, re.M)
    assert protocols and protocols.group(1).split() == ["TLSv1.2", "TLSv1.3"]
    assert re.search(r"^\s*return 301 https://\$host\$request_uri;", example, re.M)
    headers = (GATEWAY_DIR / "headers.conf").read_text(encoding="utf-8")
    assert "Strict-Transport-Security $factora_hsts" in headers


def test_every_location_sends_the_security_headers():
    routes = (GATEWAY_DIR / "routes.conf.j2").read_text(encoding="utf-8")
    blocks = re.findall(r"^location [^{]+\{(.*?)^\}", routes, re.M | re.S)
    assert len(blocks) > 10
    for block in blocks:
        assert "headers.conf" in block or "json_error(" in block, block


def test_the_portal_origin_and_rate_limit_come_from_the_environment(tmp_path):
    env = {
        "FACTORA_PORTAL_ORIGIN": "https://portal.factora.example, https://app.factora.example",
        "FACTORA_GATEWAY_AUTH_RATE": "30r/m",
        "FACTORA_GATEWAY_AUTH_BURST": "5",
    }
    settings = GatewaySettings.from_env(41080, PORTS, env)
    config = _render(tmp_path, settings)
    main, routes = config.read_text(encoding="utf-8"), (tmp_path / "routes.conf").read_text(encoding="utf-8")
    assert '"https://portal.factora.example" $http_origin;' in main
    assert '"https://app.factora.example" $http_origin;' in main
    assert "http://localhost:5173" not in main
    assert "rate=30r/m" in main and "burst=5 nodelay" in routes
    assert "add_header Retry-After 2 always;" in routes


def test_the_default_portal_origin_is_the_local_portal():
    assert GatewaySettings.from_env(41080, PORTS, {}).portal_origins == ("http://localhost:5173",)


@pytest.mark.parametrize("bad", [{"FACTORA_GATEWAY_AUTH_RATE": "fast"}, {"FACTORA_GATEWAY_MAX_BODY": "1 GB"}])
def test_a_malformed_limit_is_refused_with_its_value(tmp_path, bad):
    with pytest.raises(StackError, match="is not an nginx"):
        _render(tmp_path, GatewaySettings.from_env(41080, PORTS, bad))


def test_retry_after_and_sizes_are_worded_for_people():
    assert retry_after_seconds("10r/s") == 1
    assert retry_after_seconds("6r/m") == 10
    assert size_text("11m") == "11 MB" and size_text("512k") == "512 KB"


def test_upload_limits_sit_just_above_the_services_own_limits():
    from signing.settings import Settings as SigningSettings
    from support.settings import Settings as SupportSettings

    limits = {service: _bytes(size) for service, _, size in UPLOADS}
    support = SupportSettings.model_fields["max_attachment_bytes"].default
    signing = SigningSettings.model_fields["verify_max_bytes"].default
    # Above: a file just over the service's limit reaches it and gets its specific answer.
    assert support < limits["support"] <= support + 2 * 1024 * 1024
    assert signing < limits["signing"] <= signing + 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("identity", "/login"),
        ("identity", "/login/mfa/verify"),
        ("identity", "/login/mfa/send-code"),
        ("identity", "/signup"),
        ("identity", "/signup/verify-email"),
        ("identity", "/password/forgot"),
        ("identity", "/password/reset"),
        ("identity", "/username/forgot"),
        ("identity", "/token/refresh"),
        ("identity", "/invitations/accept"),
        ("support", "/cases/by-email"),
    ],
)
def test_each_sign_in_and_recovery_endpoint_exists_and_is_rate_limited(service, path):
    assert path in service_documents(ROOT)[service]["paths"], f"{service} no longer has {path}: update RATE_LIMITED"
    assert re.fullmatch(RATE_LIMITED[service], path)


@pytest.mark.parametrize(
    ("service", "path"), [("identity", "/me"), ("identity", "/company/users"), ("support", "/cases")]
)
def test_ordinary_endpoints_are_not_rate_limited(service, path):
    assert not re.fullmatch(RATE_LIMITED[service], path)


def test_the_committed_gateway_openapi_document_and_docs_page_are_up_to_date():
    for path, text in expected_files(ROOT).items():
        assert path.exists(), f"{path} is missing: run `make gateway-openapi`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make gateway-openapi` and commit"


def test_the_merged_document_prefixes_every_path_and_namespaces_every_name():
    documents = service_documents(ROOT)
    merged = merge(documents)
    for service, doc in documents.items():
        for path in doc["paths"]:
            hidden = path.startswith("/health") or path.startswith("/metrics")
            assert (f"/api/{service}{path}" in merged["paths"]) is not hidden, (service, path)
    operation_ids = [
        op["operationId"] for item in merged["paths"].values() for op in item.values() if "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert all(op_id.split("_", 1)[0] in SERVICES for op_id in operation_ids)
    schemas = merged["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(merged)))
    assert refs and refs <= set(schemas), refs - set(schemas)
    # Two services may both define e.g. HTTPValidationError: both survive, under their own names.
    assert all(name == "GatewayError" or name.split("_", 1)[0] in SERVICES for name in schemas)


def test_the_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere():
    page = (GATEWAY_DIR / "docs.html").read_text(encoding="utf-8")
    tree = lxml_html.fromstring(page)
    merged = json.loads((GATEWAY_DIR / "openapi.json").read_text(encoding="utf-8"))
    for service in SERVICES:
        assert tree.xpath(f'//section[@id="service-{service}"]'), service
    anchors = {a.get("id") for a in tree.xpath('//section[@class="op"]')}
    for item in merged["paths"].values():
        for op in item.values():
            assert f"op-{op['operationId']}" in anchors
    assert not tree.xpath("//script")
    external = [
        el.get(attr)
        for el in tree.iter()
        for attr in ("src", "href")
        if (el.get(attr) or "").startswith(("http:", "https:", "//"))
    ]
    assert external == []
