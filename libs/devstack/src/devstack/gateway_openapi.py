"""One OpenAPI document for the gateway: every service's paths under /api/<service>, names namespaced.

`python -m devstack.gateway_openapi --write` (`make gateway-openapi`) rewrites deploy/gateway/openapi.json
and the reference page deploy/gateway/docs.html from services/*/openapi.json; `--check` exits 1 when
they are stale.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.config import SERVICES, repo_root
from devstack.gateway import gateway_dir

HIDDEN_PATH = re.compile(r"^/(health(/.*)?|metrics/?)$")
_REF = re.compile(r"^#/components/(?P<kind>[A-Za-z]+)/(?P<name>.+)$")

GATEWAY_ERROR = {
    "title": "GatewayError",
    "type": "object",
    "description": "What the gateway itself answers (unknown path, body too large, rate limit, service down). "
    "`error` and `code` hold the same stable id, so clients reading either services' shape find it.",
    "required": ["error", "code", "detail", "request_id"],
    "properties": {
        "error": {"type": "string", "description": "Stable id, e.g. rate_limited, body_too_large, not_found."},
        "code": {"type": "string", "description": "The same id as `error`."},
        "detail": {"type": "string", "description": "What happened and what to do."},
        "request_id": {"type": "string", "description": "The X-Request-ID of the answer; quote it to support."},
        "retry_after_s": {"type": "integer", "description": "For 429 and 502-504: seconds to wait."},
        "service": {"type": "string", "description": "For 502-504: the service that did not answer."},
    },
}

DESCRIPTION = """Every Factora service behind one address. `/api/<service>/<path>` reaches that service's `/<path>`.

Sign in with `POST /api/identity/login` (then `/api/identity/login/mfa/verify`) and send the access token as
`Authorization: Bearer <token>` to the other services. Each answer carries an `X-Request-ID` (yours when you
sent a well-formed one); quote it when you contact support.

The gateway answers some errors itself, as `GatewayError`: 404 for an unknown path, 413 when a body is over the
endpoint's limit (1 MB, 11 MB for support attachments, 21 MB for signing /verify), 429 with `Retry-After` when
sign-in and recovery endpoints are called too often from one address, 502/503/504 when a service is down or
too slow. Health checks and metrics are not served here."""


def _rename_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and (match := _REF.match(value)):
                out[key] = f"#/components/{match['kind']}/{service}_{match['name']}"
            else:
                out[key] = _rename_refs(value, service)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, service) for item in node]
    return node


def _namespaced_security(requirements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [{f"{service}_{name}": scopes for name, scopes in req.items()} for req in requirements]


def merge(documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's document from each service's: prefixed paths, namespaced ids, tags and components."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {"schemas": {"GatewayError": GATEWAY_ERROR}}
    tags: list[dict[str, str]] = []
    for service in SERVICES:
        if service not in documents:
            continue
        doc = _rename_refs(copy.deepcopy(documents[service]), service)
        info = doc.get("info", {})
        seen_tags: list[str] = []
        for path, item in doc.get("paths", {}).items():
            if HIDDEN_PATH.match(path):
                continue
            for method, operation in item.items():
                if not isinstance(operation, dict) or method.startswith("x-") or method == "parameters":
                    continue
                if "operationId" in operation:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
                operation["tags"] = [f"{service}: {t}" for t in operation.get("tags") or []] or [service]
                seen_tags += [t for t in operation["tags"] if t not in seen_tags]
                if "security" in operation:
                    operation["security"] = _namespaced_security(operation["security"], service)
            paths[f"/api/{service}{path}"] = item
        for kind, entries in doc.get("components", {}).items():
            bucket = components.setdefault(kind, {})
            for name, value in entries.items():
                bucket[f"{service}_{name}"] = value
        about = info.get("description") or info.get("title") or service
        tags += [{"name": t, "description": about} for t in sorted(seen_tags)]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Factora API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "the gateway"}],
        "tags": tags,
        "paths": paths,
        "components": components,
    }


def service_documents(root: Path) -> dict[str, dict[str, Any]]:
    """services/<name>/openapi.json of every service, parsed."""
    return {s: json.loads((root / "services" / s / "openapi.json").read_text(encoding="utf-8")) for s in SERVICES}


def dumps(document: dict[str, Any]) -> str:
    """The committed form: two-space indent, UTF-8 kept, final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def expected_files(root: Path) -> dict[Path, str]:
    """What deploy/gateway/openapi.json and docs.html should hold for the current service documents."""
    from devstack.gateway_docs import render_docs

    document = merge(service_documents(root))
    target = gateway_dir(root)
    return {target / "openapi.json": dumps(document), target / "docs.html": render_docs(document)}


def main(argv: list[str] | None = None) -> int:
    """--write rewrites the files, --check exits 1 when one is stale."""
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway_openapi", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite deploy/gateway/openapi.json and docs.html")
    mode.add_argument("--check", action="store_true", help="exit 1 when they differ from the services' documents")
    args = parser.parse_args(argv)
    root = repo_root()
    stale = []
    for path, text in expected_files(root).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(root)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(root)) for p in stale)
        print(f"stale: {names}; run `make gateway-openapi` and commit", file=sys.stderr)
        return 1
    if not stale:
        print("deploy/gateway/openapi.json and docs.html are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
