"""HTTP access to the network: through the API gateway (`{api}/api/<service>/<path>`) or straight to each service."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from factora_cli.output import ExitCode

SERVICES: tuple[str, ...] = ("identity", "invoicing", "signing", "notifications", "support")
DEFAULT_API = "http://127.0.0.1:8080"
API_ENV = "FACTORA_API_URL"
TOKEN_ENV = "FACTORA_TOKEN"  # noqa: S105 - the name of a variable, not a secret
# Statuses a reverse proxy answers when the service behind it is down or slow.
GATEWAY_UPSTREAM_DOWN = frozenset({502, 503, 504})
# The transport every client of the CLI uses when none is given: None is httpx's own (the network).
# Unit tests put an httpx.MockTransport here to run whole commands without a stack.
DEFAULT_TRANSPORT: httpx.BaseTransport | None = None


class ApiUnreachable(Exception):
    """Nothing answers at the address (connection refused, timeout, DNS)."""

    exit_code = ExitCode.UNREACHABLE


class ApiError(Exception):
    """A service answered with an error status; `message` is its explanation in plain words."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        self.response = response
        self.status = response.status_code
        self.message = f"{what}: HTTP {self.status} {error_detail(response)}".rstrip()
        super().__init__(self.message)

    @property
    def exit_code(self) -> ExitCode:
        """The exit code a command ends with when this error stops it."""
        return exit_code_for_status(self.status)

    @property
    def code(self) -> str | None:
        """The service's stable error code (`error`, `code` or `detail.code`), when it gives one."""
        body = json_or_none(self.response)
        if not isinstance(body, dict):
            return None
        detail = body.get("detail")
        if isinstance(detail, dict) and isinstance(detail.get("code"), str):
            return detail["code"]
        for key in ("error", "code"):
            if isinstance(body.get(key), str):
                return body[key]
        return None


def exit_code_for_status(status: int) -> ExitCode:
    """401/403 → UNAUTHORISED, 404 → NOT_FOUND, a down upstream → UNREACHABLE, anything else → FAILED."""
    if status in (401, 403):
        return ExitCode.UNAUTHORISED
    if status == 404:
        return ExitCode.NOT_FOUND
    if status in GATEWAY_UPSTREAM_DOWN:
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED


def json_or_none(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def error_detail(response: httpx.Response) -> str:
    """The explanation in an error body, whichever of the services' shapes it has."""
    body = json_or_none(response)
    if isinstance(body, dict):
        detail = body.get("detail")
        field = body.get("field")
        if isinstance(detail, dict):  # signing: {"detail": {"code": …, "message": …}}
            text = str(detail.get("message") or detail.get("detail") or detail.get("code") or detail)
        elif isinstance(detail, list):  # FastAPI's request validation errors
            text = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail)
        elif detail is not None:
            text = str(detail)
        else:
            text = str(body.get("error") or body)
        code = body.get("error") or body.get("code")
        prefix = f"({code}) " if isinstance(code, str) and code not in text else ""
        return f"{prefix}{text}" + (f" [field {field}]" if field else "")
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase


def parse_service_urls(pairs: list[str] | None) -> dict[str, str]:
    """`["identity=http://127.0.0.1:8001", …]` → {name: url}; raises ValueError naming the bad pair."""
    urls: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, url = pair.partition("=")
        name = name.strip().lower()
        if not sep or not url.strip() or name not in SERVICES:
            raise ValueError(f"--service-url {pair!r}: expected NAME=URL with NAME one of {', '.join(SERVICES)}")
        urls[name] = url.strip().rstrip("/")
    return urls


def resolve_token(explicit: str | None) -> str | None:
    """--token, else FACTORA_TOKEN."""
    return explicit or os.environ.get(TOKEN_ENV) or None


class Api:
    """One client for the whole network.

    By default every call goes through the gateway, `{api}/api/<service>/<path>`; a service
    given in `service_urls` is called straight at its own address instead (a stack without
    its gateway, or one service run by hand).
    """

    def __init__(
        self,
        api: str,
        *,
        service_urls: Mapping[str, str] | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api = api.rstrip("/")
        self.service_urls = dict(service_urls or {})
        self.token = token
        self._client = httpx.Client(timeout=timeout, transport=transport or DEFAULT_TRANSPORT, follow_redirects=False)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def base(self, service: str) -> str:
        """The base URL a service's paths hang from."""
        return self.service_urls.get(service) or f"{self.api}/api/{service}"

    def url(self, service: str, path: str) -> str:
        """The full URL of `path` on `service`."""
        return f"{self.base(service)}/{path.lstrip('/')}"

    def where(self, service: str) -> str:
        """Words for what was called, for error messages."""
        if service in self.service_urls:
            return f"{service} at {self.service_urls[service]}"
        return f"the gateway at {self.api}"

    def raw(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request to an absolute URL; ApiUnreachable when nothing answers."""
        try:
            return self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ApiUnreachable(f"nothing answers at {url} ({type(exc).__name__})") from exc
        except httpx.TimeoutException as exc:
            raise ApiUnreachable(f"{url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"{url}: {exc!r}") from exc

    def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None = None,
        what: str | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Call `service`; ApiError for a status not in `ok`, ApiUnreachable when nothing answers."""
        all_headers = dict(headers or {})
        bearer = token or self.token
        if bearer:
            all_headers["Authorization"] = f"Bearer {bearer}"
        url = self.url(service, path)
        try:
            response = self.raw(method, url, headers=all_headers, **kwargs)
        except ApiUnreachable as exc:
            raise ApiUnreachable(f"{self.where(service)} is not answering ({exc}): run `make up` first") from exc
        if response.status_code not in ok:
            raise ApiError(response, what or f"{method} {service} {path}")
        return response

    def get_json(self, service: str, path: str, **kwargs: Any) -> Any:
        """GET and decode the JSON answer."""
        return self.request("GET", service, path, **kwargs).json()

    def post_json(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """POST a JSON body and decode the JSON answer (None for an empty one)."""
        response = self.request("POST", service, path, json=body, **kwargs)
        return json_or_none(response)
