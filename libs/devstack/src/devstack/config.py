"""Where the stack lives and which ports it uses, resolved from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from devstack.errors import StackError

SERVICES: tuple[str, ...] = ("identity", "invoicing", "signing", "notifications", "support")

_DEV_SERVICE_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))
_TEST_SERVICE_PORTS = dict(zip(SERVICES, range(28001, 28006), strict=True))

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class PortSpec:
    """One listening port of the stack, with the variable that moves it."""

    part: str
    port: int
    env_var: str


@dataclass(frozen=True)
class Ports:
    """Every port one stack (dev or test) listens on."""

    kafka: PortSpec
    kafka_controller: PortSpec
    postgres: PortSpec
    smtp: PortSpec
    services: dict[str, PortSpec] = field(default_factory=dict)
    gateway: PortSpec = field(default_factory=lambda: PortSpec("API gateway", 8080, "FACTORA_GATEWAY_PORT"))

    def service(self, name: str) -> int:
        """The HTTP port of one service."""
        return self.services[name].port


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a port number") from None


def _spec(env: Mapping[str, str], part: str, var: str, default: int) -> PortSpec:
    return PortSpec(part, _int_env(env, var, default), var)


def dev_ports(env: Mapping[str, str] | None = None) -> Ports:
    """Ports of `factora-stack up`: the defaults of the brief, each movable by env."""
    env = os.environ if env is None else env
    kafka = _spec(env, "Kafka", "FACTORA_KAFKA_PORT", 19092)
    return Ports(
        kafka=kafka,
        kafka_controller=_spec(env, "Kafka controller", "FACTORA_KAFKA_CONTROLLER_PORT", kafka.port + 1),
        postgres=_spec(env, "PostgreSQL", "FACTORA_PG_PORT", 15432),
        smtp=_spec(env, "SMTP catcher", "FACTORA_SMTP_PORT", 2525),
        services={s: _spec(env, f"service {s}", f"{s.upper()}_HTTP_PORT", p) for s, p in _DEV_SERVICE_PORTS.items()},
        gateway=_spec(env, "API gateway", "FACTORA_GATEWAY_PORT", 8080),
    )


def ports_for_tests(env: Mapping[str, str] | None = None) -> Ports:
    """Ports of the pytest stack, apart from the dev ones so both can run at once."""
    env = os.environ if env is None else env
    kafka = _spec(env, "test Kafka", "FACTORA_TEST_KAFKA_PORT", 29092)
    return Ports(
        kafka=kafka,
        kafka_controller=_spec(env, "test Kafka controller", "FACTORA_TEST_KAFKA_CONTROLLER_PORT", kafka.port + 1),
        postgres=_spec(env, "test PostgreSQL", "FACTORA_TEST_PG_PORT", 25432),
        smtp=_spec(env, "test SMTP catcher", "FACTORA_TEST_SMTP_PORT", 22525),
        services={
            s: _spec(env, f"test service {s}", f"FACTORA_TEST_{s.upper()}_HTTP_PORT", p)
            for s, p in _TEST_SERVICE_PORTS.items()
        },
        gateway=_spec(env, "test API gateway", "FACTORA_TEST_GATEWAY_PORT", 28080),
    )


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    try:
        return "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def repo_root() -> Path:
    """The uv workspace root: FACTORA_REPO_ROOT, else the nearest one above cwd or this file."""
    if explicit := os.environ.get("FACTORA_REPO_ROOT"):
        return Path(explicit).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if _is_workspace_root(candidate):
                return candidate
    return Path.cwd().resolve()


def state_dir(root: Path | None = None) -> Path:
    """State folder of `factora-stack`: FACTORA_STATE_DIR or <repo>/.local/stack, absolute."""
    if explicit := os.environ.get("FACTORA_STATE_DIR"):
        return Path(explicit).resolve()
    return (root or repo_root()) / ".local" / "stack"


def stack_dir_for_tests(root: Path | None = None) -> Path:
    """State folder of the pytest stack: FACTORA_TEST_STACK_DIR or <repo>/.local/test-stack."""
    if explicit := os.environ.get("FACTORA_TEST_STACK_DIR"):
        return Path(explicit).resolve()
    return (root or repo_root()) / ".local" / "test-stack"


def kafka_home(root: Path | None = None) -> Path:
    """Folder holding the project's Kafka pom.xml, log4j2.properties and lib/."""
    if explicit := os.environ.get("FACTORA_KAFKA_HOME"):
        return Path(explicit).resolve()
    return (root or repo_root()) / "deploy" / "local" / "kafka"


def database_url(user: str, password: str, port: int, database: str, host: str = LOCALHOST) -> str:
    """SQLAlchemy asyncpg URL, the form every service's <NAME>_DATABASE_URL takes."""
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql+asyncpg://{auth}@{host}:{port}/{database}"
