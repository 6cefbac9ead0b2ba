"""The gateway's API reference page: static HTML generated from its OpenAPI document (no script, no CDN)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from devstack.config import SERVICES

METHODS = ("get", "post", "put", "patch", "delete")
_CODE = re.compile(r"`([^`]+)`")


def _text(value: str | None) -> str:
    """Escaped prose: `code` spans kept, blank lines make paragraphs."""
    if not value:
        return ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
    return "".join(f"<p>{_inline(p)}</p>" for p in paragraphs)


def _inline(value: str | None) -> str:
    """Escaped one-line prose with `code` spans."""
    return _CODE.sub(r"<code>\1</code>", html.escape(value or ""))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _short(name: str) -> str:
    # Component names are "<service>_<Name>"; the page shows Name inside the service's section.
    return name.split("_", 1)[1] if name.split("_", 1)[0] in SERVICES else name


def type_html(schema: Any) -> str:
    """A schema as a short readable type: links for references, `array of`, unions, enums."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f'<a href="#schema-{html.escape(name)}">{html.escape(_short(name))}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            joiner = " &amp; " if key == "allOf" else " | "
            return joiner.join(type_html(s) for s in schema[key])
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{html.escape(str(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{html.escape(str(schema['const']))}</code>"
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return " | ".join(type_html({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"array of {type_html(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_html(schema['additionalProperties'])}"
    fmt = f" ({html.escape(schema['format'])})" if "format" in schema else ""
    return f"{html.escape(str(kind))}{fmt}"


def _rows(header: Iterable[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _content(content: dict[str, Any]) -> str:
    return "; ".join(
        f"<code>{html.escape(media)}</code> {type_html(body.get('schema'))}" for media, body in content.items()
    )


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    anchor = html.escape(op.get("operationId") or f"{method}-{path}")
    parts = [
        f'<section class="op" id="op-{anchor}">',
        f'<h3><span class="method {method}">{method.upper()}</span> <code>{html.escape(path)}</code></h3>',
        f'<p class="summary">{_inline(op.get("summary"))}</p>',
        _text(op.get("description")),
    ]
    params = [
        [
            f"<code>{html.escape(p.get('name', ''))}</code>",
            html.escape(p.get("in", "")),
            "yes" if p.get("required") else "",
            type_html(p.get("schema")),
            _inline(p.get("description")),
        ]
        for p in op.get("parameters", [])
    ]
    if params:
        parts += ["<h4>Parameters</h4>", _rows(("name", "in", "required", "type", "description"), params)]
    if body := op.get("requestBody"):
        parts += ["<h4>Request body</h4>", f"<p>{_content(body.get('content', {}))}</p>"]
    responses = [
        [f"<code>{html.escape(code)}</code>", _inline(r.get("description")), _content(r.get("content", {}))]
        for code, r in op.get("responses", {}).items()
    ]
    if responses:
        parts += ["<h4>Responses</h4>", _rows(("status", "meaning", "body"), responses)]
    parts.append("</section>")
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [
        [
            f"<code>{html.escape(prop)}</code>",
            type_html(spec),
            "yes" if prop in required else "",
            _inline(spec.get("description") if isinstance(spec, dict) else None),
        ]
        for prop, spec in schema.get("properties", {}).items()
    ]
    return (
        f'<section class="schema" id="schema-{html.escape(name)}"><h4>{html.escape(_short(name))}</h4>'
        f"{_text(schema.get('description'))}"
        + (_rows(("field", "type", "required", "description"), rows) or f"<p>{type_html(schema)}</p>")
        + "</section>"
    )


def render_docs(document: dict[str, Any]) -> str:
    """The whole page for the gateway's merged OpenAPI document."""
    info = document.get("info", {})
    by_service: dict[str, list[str]] = {s: [] for s in SERVICES}
    counts: dict[str, int] = dict.fromkeys(SERVICES, 0)
    for path, item in document.get("paths", {}).items():
        service = path.split("/")[2] if path.startswith("/api/") else ""
        for method in METHODS:
            if method in item and service in by_service:
                by_service[service].append(_operation(path, method, item[method]))
                counts[service] += 1
    schemas = document.get("components", {}).get("schemas", {})
    nav = "".join(f'<li><a href="#service-{s}">{s}</a> ({counts[s]})</li>' for s in SERVICES)
    sections = []
    for service in SERVICES:
        about = next((t["description"] for t in document.get("tags", []) if t["name"].startswith(f"{service}")), "")
        own = [_schema(n, s) for n, s in schemas.items() if n.startswith(f"{service}_")]
        sections.append(
            f'<section class="service" id="service-{service}"><h2>{service} <code>/api/{service}</code></h2>'
            f"{_text(about)}{''.join(by_service[service])}"
            f"<details><summary>{service} schemas ({len(own)})</summary>{''.join(own)}</details></section>"
        )
    title = html.escape(info.get("title", "API"))
    gateway_schemas = [_schema(n, s) for n, s in schemas.items() if not any(n.startswith(f"{x}_") for x in SERVICES)]
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} reference</title>"
        '<link rel="stylesheet" href="/docs.css"></head><body>'
        "<!-- Generated by `make gateway-openapi` from services/*/openapi.json; do not edit. -->"
        f"<header><h1>{title} <small>{html.escape(info.get('version', ''))}</small></h1>"
        f'{_text(info.get("description"))}<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>'
        f"<nav><ul>{nav}</ul></nav></header><main>{''.join(sections)}"
        f'<section class="service" id="gateway-errors"><h2>Gateway errors</h2>{"".join(gateway_schemas)}</section>'
        "</main></body></html>\n"
    )
