"""What several benchmarks share: a free port, percentiles and terminal padding, starting and
stopping the real server, and for the database-heavy ones (credit, stock) their own PostgreSQL
database and a bulk loader."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def cpu_seconds(root: int) -> float:
    total = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def server_command(server: str, port: int, workers: int = 1, options: tuple[str, ...] = ()) -> list[str]:
    """granian or uvicorn with `workers` processes, as this interpreter's environment has them:
    no access log, warnings only, sockets without per-message deflate, a backlog for thousands
    of sockets connecting at once; `options` are more of the server's own (e.g. granian's
    `--runtime-mode st`)."""
    if server == "granian":
        return [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
            *("--no-access-log", "--log-level", "warning", "--backlog", "4096", *options),
            "server.app:create_app",
        ]
    return [
        *(sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--no-access-log", "--log-level", "warning", "--backlog", "4096"),
        *("--ws", "websockets-sansio", "--ws-per-message-deflate", "false", *options),
    ]


def start_server(
    port: int,
    env: dict,
    log,
    server: str = "uvicorn",
    workers: int = 1,
    cwd: Path = ROOT,
    options: tuple[str, ...] = (),
) -> subprocess.Popen:
    """The server (`server_command`) in its own process group, once /healthz answers; `log`
    takes its output. `cwd` serves another checkout's code (bench/http.py --repo)."""
    cmd = server_command(server, port, workers, options)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}, see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    stop_server(proc)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL to the whole process group (workers that ignore SIGTERM included)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def recreate_pg(server_url: str, name: str, drop_only: bool = False) -> None:
    """Drop (and create) the bench's own database; never any other."""
    import asyncpg

    conn = await asyncpg.connect(f"{server_url}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class Loader:
    """Bulk load of explicit rows: COPY on PostgreSQL, one executemany transaction on SQLite
    (the datetime adapters Piccolo registers with sqlite3 store timestamps as the app does)."""

    def __init__(self, url: str) -> None:
        from server.core import db

        self.url, self.path, self.conn = url, db.sqlite_path(url), None

    async def __aenter__(self) -> Loader:
        if self.path:
            self.conn = sqlite3.connect(self.path)
            self.conn.execute("PRAGMA synchronous = OFF")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.url)
        return self

    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.path:
            names = ", ".join(f'"{c}"' for c in columns)
            self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)
        else:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def __aexit__(self, *exc) -> None:
        if self.path:
            if exc[0] is None:
                self.conn.commit()
            self.conn.close()
        else:
            await self.conn.close()
