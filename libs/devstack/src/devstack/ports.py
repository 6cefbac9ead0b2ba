"""Checks that a port is free before a part of the stack tries to listen on it."""

from __future__ import annotations

import errno
import socket

from devstack.config import LOCALHOST, PortSpec
from devstack.errors import port_in_use


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """True when nothing listens on host:port (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR ignores sockets in TIME_WAIT from a stack just stopped, yet a live
        # listener (even on 0.0.0.0) still makes bind fail on Linux.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def ensure_port_free(spec: PortSpec, host: str = LOCALHOST) -> None:
    """Raise a one-line StackError naming the part, the port and the variable to change."""
    if not port_is_free(spec.port, host):
        raise port_in_use(spec.part, spec.port, spec.env_var, host)


def port_accepts(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
