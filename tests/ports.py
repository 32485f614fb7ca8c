"""Ephemeral ports on 127.0.0.1 for servers the tests start themselves."""

from __future__ import annotations

import socket


def free_ports(n: int) -> list[int]:
    # Held open together, so the n ports differ from one another.
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]
