"""A Redis of the test's own, on a free port, that the test may kill and start again (the shared
Redis on 6379 is never touched). No persistence unless asked, like the test pass's Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

REDIS_SERVER = shutil.which("redis-server")

needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="Redis fault tests need redis-server (apt-get install -y redis-server)"
)


class ThrowawayRedis:
    """`persistent`: an append-only file in `directory`, so data outlives a kill and restart (as
    the README asks of production's Redis, which holds the sessions)."""

    def __init__(self, directory: Path, persistent: bool = False) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None

    def start(self) -> ThrowawayRedis:
        """Start (again, on the same port) and wait until it answers PING."""
        assert REDIS_SERVER is not None and self.proc is None
        log = open(self.directory / f"redis-{self.port}.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes" if self.persistent else "no", "--appendfilename", f"redis-{self.port}.aof"]
            + ["--daemonize", "no", "--dir", str(self.directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        """Gone at once, as in a crash: every client's connection is cut."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> str:
        """One command through redis-cli (its own connection)."""
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
