"""The API gateway (nginx) of the local stack: its settings, its rendered configuration and its process."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES
from devstack.errors import StackError
from devstack.procs import ManagedProcess, last_line, telling_line

DEFAULT_PORTAL_ORIGIN = "http://localhost:5173"
TEMPLATES = ("nginx.conf", "routes.conf")  # each rendered from <name>.j2

# Above the services' own limits (support max_attachment_bytes 10 MiB, signing verify_max_bytes
# 20 MiB), so a file just over their limit reaches them and gets their specific answer.
UPLOAD_MAX_BODY = "11m"
VERIFY_MAX_BODY = "21m"
DEFAULT_MAX_BODY = "1m"

# Endpoints that take a password, a code or an e-mail address from someone not signed in:
# the ones a guesser or a mailbox flooder hammers. Paths are the service's own (prefix stripped).
RATE_LIMITED: dict[str, str] = {
    "identity": (
        r"/(login|login/mfa/.+|signup|signup/.+|password/forgot|password/reset|username/forgot"
        r"|token/refresh|invitations/accept)"
    ),
    "support": r"/cases/by-email",
}
UPLOADS: tuple[tuple[str, str, str], ...] = (
    ("support", r"/(desk/)?cases/[^/]+/attachments", UPLOAD_MAX_BODY),
    ("signing", r"/verify", VERIFY_MAX_BODY),
)

UNAVAILABLE = (
    (502, "service_unreachable", "is not reachable (stopped or restarting)"),
    (503, "service_unavailable", "is unavailable"),
    (504, "service_timeout", "did not answer in time"),
)

_RATE = re.compile(r"^(\d+)r/([sm])$")
_SIZE = re.compile(r"^(\d+)([kKmM]?)$")


def gateway_dir(root: Path) -> Path:
    """deploy/gateway of the repository (FACTORA_GATEWAY_DIR overrides it)."""
    if explicit := os.environ.get("FACTORA_GATEWAY_DIR"):
        return Path(explicit).resolve()
    return root / "deploy" / "gateway"


def nginx_binary(env: Mapping[str, str] | None = None) -> str | None:
    """The nginx executable (FACTORA_NGINX_BIN, else on PATH or /usr/sbin); None when there is none."""
    env = os.environ if env is None else env
    if explicit := env.get("FACTORA_NGINX_BIN", "").strip():
        return explicit if Path(explicit).is_file() else None
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)


def size_text(size: str) -> str:
    """nginx's "11m" as a person reads it: "11 MB"."""
    match = _SIZE.match(size)
    if not match:
        raise StackError(f"body size {size!r} is not an nginx size (bytes, or a number with k or m)")
    unit = {"": " bytes", "k": " KB", "m": " MB"}[match.group(2).lower()]
    return f"{match.group(1)}{unit}"


def retry_after_seconds(rate: str) -> int:
    """Seconds until the limiter lets one more request through at this rate ("10r/s" → 1)."""
    match = _RATE.match(rate)
    if not match:
        raise StackError(f"rate {rate!r} is not an nginx rate such as 10r/s or 30r/m")
    per, unit = int(match.group(1)), match.group(2)
    if per <= 0:
        raise StackError(f"rate {rate!r} must allow at least one request")
    return max(1, math.ceil((1 if unit == "s" else 60) / per))


@dataclass(frozen=True)
class GatewaySettings:
    """What the rendered nginx.conf depends on."""

    port: int
    service_ports: Mapping[str, int]
    listen_host: str = LOCALHOST
    upstream_host: str = LOCALHOST
    portal_origins: Sequence[str] = (DEFAULT_PORTAL_ORIGIN,)
    # Lenient enough for a journey test's dozens of sign-ins from 127.0.0.1, tight enough to turn
    # a password-guessing script into a trickle; identity also throttles per account behind it.
    auth_rate: str = "10r/s"
    auth_burst: int = 30
    max_body: str = DEFAULT_MAX_BODY
    upload_max_body: str = UPLOAD_MAX_BODY
    verify_max_body: str = VERIFY_MAX_BODY
    connect_timeout: str = "5s"
    read_timeout: str = "60s"
    worker_processes: str = "1"
    # Extra files included in the http block, e.g. an HTTPS server built on tls.example.conf.
    extra_includes: Sequence[str] = ()

    @classmethod
    def from_env(
        cls, port: int, service_ports: Mapping[str, int], env: Mapping[str, str] | None = None
    ) -> GatewaySettings:
        """Settings with FACTORA_PORTAL_ORIGIN and FACTORA_GATEWAY_* taken from the environment."""
        env = os.environ if env is None else env
        origins = [
            o.strip().rstrip("/") for o in re.split(r"[,\s]+", env.get("FACTORA_PORTAL_ORIGIN", "")) if o.strip()
        ]
        burst_raw = env.get("FACTORA_GATEWAY_AUTH_BURST", "").strip()
        try:
            burst = int(burst_raw) if burst_raw else cls.auth_burst
        except ValueError:
            raise StackError(f"FACTORA_GATEWAY_AUTH_BURST={burst_raw!r} is not a number") from None
        return cls(
            port=port,
            service_ports=dict(service_ports),
            listen_host=env.get("FACTORA_GATEWAY_LISTEN", "").strip() or LOCALHOST,
            portal_origins=tuple(origins) or (DEFAULT_PORTAL_ORIGIN,),
            auth_rate=env.get("FACTORA_GATEWAY_AUTH_RATE", "").strip() or cls.auth_rate,
            auth_burst=burst,
            max_body=env.get("FACTORA_GATEWAY_MAX_BODY", "").strip() or cls.max_body,
            upload_max_body=env.get("FACTORA_GATEWAY_UPLOAD_MAX_BODY", "").strip() or cls.upload_max_body,
            verify_max_body=env.get("FACTORA_GATEWAY_VERIFY_MAX_BODY", "").strip() or cls.verify_max_body,
            extra_includes=tuple(p for p in env.get("FACTORA_GATEWAY_INCLUDE", "").split(os.pathsep) if p.strip()),
        )


@dataclass(frozen=True)
class GatewayPaths:
    """Where one gateway instance keeps its rendered config, pid, temp files and logs."""

    home: Path
    static_dir: Path
    access_log: Path
    error_log: str = "stderr"

    @property
    def config(self) -> Path:
        """The rendered nginx.conf (routes.conf sits next to it)."""
        return self.home / "nginx.conf"


def _limits(settings: GatewaySettings) -> tuple[list[dict], list[dict], list[dict]]:
    sizes = {UPLOAD_MAX_BODY: settings.upload_max_body, VERIFY_MAX_BODY: settings.verify_max_body}
    uploads = [
        {
            "service": service,
            "pattern": f"^/api/{service}{path}$",
            "location": f"^/api/{service}(?<upstream_path>{path})$",
            "max_body_nginx": sizes[default],
            "max_body": size_text(sizes[default]),
        }
        for service, path, default in UPLOADS
    ]
    zones = [
        {"name": f"{service}_auth", "rate": settings.auth_rate, "burst": settings.auth_burst}
        for service in RATE_LIMITED
    ]
    limited = [
        {"service": service, "zone": zone, "location": f"^/api/{service}(?<upstream_path>{path})$"}
        for (service, path), zone in zip(RATE_LIMITED.items(), zones, strict=True)
    ]
    return uploads, zones, limited


def render_config(settings: GatewaySettings, paths: GatewayPaths, template_dir: Path) -> dict[str, str]:
    """nginx.conf and routes.conf from deploy/gateway's templates, for these ports, limits, origins and paths."""
    import jinja2

    missing = [s for s in SERVICES if s not in settings.service_ports]
    if missing:
        raise StackError(f"the gateway needs the port of every service; missing: {', '.join(missing)}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - nginx configuration, not HTML
    )
    uploads, zones, limited = _limits(settings)
    values = {
        # nginx ignores `user` unless started as root; as root, workers would otherwise be nobody.
        "run_as": "root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "",
        "worker_processes": settings.worker_processes,
        "home": paths.home,
        "error_log": paths.error_log,
        "access_log": paths.access_log,
        "static_dir": paths.static_dir,
        "extra_includes": list(settings.extra_includes),
        "services": {s: settings.service_ports[s] for s in SERVICES},
        "upstream_host": settings.upstream_host,
        "listen": f"{settings.listen_host}:{settings.port}",
        "portal_origins": list(settings.portal_origins),
        "default_max_body_nginx": settings.max_body,
        "default_max_body": size_text(settings.max_body),
        "uploads": uploads,
        "rate_zones": zones,
        "rate_limited": limited,
        "retry_after_s": retry_after_seconds(settings.auth_rate),
        "unavailable": UNAVAILABLE,
        "unavailable_retry_after_s": 5,
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
    }
    return {name: env.get_template(f"{name}.j2").render(**values) for name in TEMPLATES}


def nginx_test(binary: str, config: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a configuration: returncode 0 when nginx accepts it (output in stdout)."""
    argv = [binary, "-t", "-q", "-p", str(prefix), "-c", str(config), "-e", "stderr"]
    return subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)  # noqa: S603


class LocalGateway:
    """nginx as a child process in its own session, configured from the template for this stack."""

    def __init__(
        self,
        *,
        binary: str,
        settings: GatewaySettings,
        home: Path,
        source_dir: Path,
        log_path: Path,
        access_log_path: Path | None = None,
    ) -> None:
        self.binary = binary
        self.settings = settings
        self.source_dir = source_dir
        self.log_path = log_path
        self.paths = GatewayPaths(
            home=home.resolve(),
            static_dir=source_dir.resolve(),
            access_log=(access_log_path or log_path.with_name("gateway-access.log")).resolve(),
        )
        argv = [binary, "-p", str(self.paths.home), "-c", str(self.paths.config), "-e", "stderr"]
        self.process = ManagedProcess("gateway", [*argv, "-g", "daemon off;"], log_path=log_path)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self.settings.port

    @property
    def url(self) -> str:
        """Base URL clients use, e.g. http://127.0.0.1:8080."""
        host = LOCALHOST if self.settings.listen_host in ("0.0.0.0", "*") else self.settings.listen_host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def access_log_path(self) -> Path:
        """The JSON access log (one object a line, with the request id)."""
        return self.paths.access_log

    @property
    def config_path(self) -> Path:
        """The rendered nginx.conf."""
        return self.paths.config

    def write_config(self) -> Path:
        """Render nginx.conf into the instance's folder and check it with `nginx -t`."""
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.paths.home / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        self.paths.access_log.parent.mkdir(parents=True, exist_ok=True)
        for name, text in render_config(self.settings, self.paths, self.source_dir).items():
            (self.paths.home / name).write_text(text, encoding="utf-8")
        checked = nginx_test(self.binary, self.paths.config, self.paths.home)
        if checked.returncode != 0:
            raise StackError(f"nginx rejects {self.paths.config}: {telling_line(checked.stdout + checked.stderr)}")
        return self.paths.config

    async def start(self, timeout: float = 30.0) -> None:
        """Write the config, start nginx and wait until /healthz answers; StackError otherwise."""
        from devstack.services import http_ready

        self.write_config()
        self.process.start()
        deadline = time.monotonic() + timeout
        while not await http_ready(f"{self.url}/healthz"):
            if self.process.returncode is not None:
                raise StackError(f"nginx exited with code {self.process.returncode}: {last_line(self.log_path)}")
            if time.monotonic() >= deadline:
                raise StackError(
                    f"the gateway did not answer {self.url}/healthz in {timeout:.0f} s: {last_line(self.log_path)}"
                )
            await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGQUIT (nginx finishes the requests in flight), SIGKILL of its session after timeout."""
        return await self.process.stop(signal.SIGQUIT, timeout)

    def stop_sync(self, timeout: float = 5.0) -> int | None:
        """Blocking twin of stop(), for atexit."""
        return self.process.stop_sync(signal.SIGQUIT, timeout)
