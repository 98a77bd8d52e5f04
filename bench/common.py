"""What several benchmarks share: a free port, percentiles and terminal padding, starting and
stopping the real server, a fresh database for a run (`bench_database`), and for the
database-heavy ones their own PostgreSQL database and a bulk loader."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
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
    env = {"MALLOC_ARENA_MAX": "2"} | env  # as `python -m server serve` runs itself and its workers
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


@contextmanager
def bench_database(
    name: str, *, pg_url: str | None = None, demo: bool = True, keep: bool = False, repo: Path = ROOT
) -> Iterator[tuple[str, dict, Path]]:
    """A fresh database for one run: PostgreSQL's own database `name` on `pg_url` (dropped at the
    end), else SQLite in a temporary directory; migrated, with the demo tenant unless `demo` is
    off. Yields its URL, the environment a server started on it needs, and the temporary
    directory (logs beside it), removed at the end unless `keep`. Prints the code (of `repo`, the
    checkout whose server runs) and the load."""
    import asyncio

    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    if pg_url:
        asyncio.run(recreate_pg(pg_url, name))
        url = f"{pg_url}/{name}"
    else:
        url = f"sqlite:///{tmp / 'weifu.sqlite3'}"
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": f"bench-{name}", "WEIFU_ENV": "dev", "PYTHONPATH": str(repo)}
    env.pop("REDIS_URL", None)
    env.pop("WEIFU_SQL_LOG", None)
    commit = subprocess.run(["git", "log", "--oneline", "-1"], cwd=repo, capture_output=True, text=True).stdout
    print(f"code {repo} ({commit.strip()[:70]})")
    print(f"database {'PostgreSQL' if pg_url else 'SQLite'}; load average {loadavg()}")
    try:
        run([sys.executable, "-m", "server", "migrate"], repo, env)
        if demo:
            run([sys.executable, "-m", "server", "demo"], repo, env)
        yield url, env, tmp
    finally:
        if pg_url:
            asyncio.run(recreate_pg(pg_url, name, drop_only=True))
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(cmd: list[str], repo: Path, env: dict) -> None:
    result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
