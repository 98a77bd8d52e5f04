"""One Settings object, read from the environment once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from server.core.db import PG_POOL_SIZE, Timeouts

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def _secret_key() -> str:
    """SECRET_KEY, or one generated into var/secret on first run so restarts keep sessions valid."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR / "secret"
    if path.exists():
        return path.read_text().strip()
    VAR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def trusted_proxies() -> tuple[IPv4Network | IPv6Network, ...]:
    """WEIFU_TRUSTED_PROXIES: comma-separated addresses or networks of the load balancers whose
    X-Forwarded-For is believed; none by default."""
    raw = os.environ.get("WEIFU_TRUSTED_PROXIES", "")
    return tuple(ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())


def db_timeouts() -> Timeouts:
    """DB_CONNECT_TIMEOUT, DB_POOL_TIMEOUT, DB_STATEMENT_TIMEOUT, DB_IDLE_IN_TRANSACTION_TIMEOUT,
    SQLITE_BUSY_TIMEOUT (seconds; 0 is no limit), each defaulting to `Timeouts`."""
    names = {
        "connect": "DB_CONNECT_TIMEOUT",
        "acquire": "DB_POOL_TIMEOUT",
        "statement": "DB_STATEMENT_TIMEOUT",
        "idle_in_transaction": "DB_IDLE_IN_TRANSACTION_TIMEOUT",
        "busy": "SQLITE_BUSY_TIMEOUT",
    }
    return Timeouts(**{key: float(os.environ[env]) for key, env in names.items() if os.environ.get(env)})


def public_url() -> str:
    """WEIFU_PUBLIC_URL without its trailing slash; by default what `make run` serves."""
    return (os.environ.get("WEIFU_PUBLIC_URL") or "http://localhost:8000").rstrip("/")


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{VAR / 'weifu.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url)
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    # Prefix of every Redis key and channel, so several deployments (or test workers) can share one Redis.
    redis_prefix: str = field(default_factory=lambda: os.environ.get("WEIFU_REDIS_PREFIX", "WEIFU"))
    # JOBS_QUEUE=saq (with REDIS_URL): background jobs go to `python -m server worker` through
    # Redis; otherwise the server process runs them itself (a deployment without a worker too)
    jobs_queue: str = field(default_factory=lambda: os.environ.get("JOBS_QUEUE", ""))
    secret_key: str = field(default_factory=_secret_key)
    env: str = field(default_factory=lambda: os.environ.get("WEIFU_ENV", "dev"))
    tz_default: str = field(default_factory=lambda: os.environ.get("TZ_DEFAULT", "Asia/Shanghai"))
    # PostgreSQL connection pool; tests turn it off because the test client runs the app in
    # another event loop than the test's own queries.
    db_pool: bool = True
    # PostgreSQL connections per server process at most (DB_POOL_SIZE); times the workers it must
    # stay under the server's max_connections
    db_pool_size: int = field(default_factory=lambda: int(os.environ.get("DB_POOL_SIZE") or PG_POOL_SIZE))
    session_dir: Path = field(default_factory=lambda: VAR / "sessions")
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = field(default_factory=trusted_proxies)
    db_timeouts: Timeouts = field(default_factory=db_timeouts)
    # requests of one process in flight, and how long one waits for a place before a 503
    max_in_flight: int = field(default_factory=lambda: int(os.environ.get("WEIFU_MAX_IN_FLIGHT", "64")))
    admission_wait: float = field(default_factory=lambda: float(os.environ.get("WEIFU_ADMISSION_WAIT", "5")))
    # where customers reach the site: the status page links printed on receipts are made from it
    public_url: str = field(default_factory=public_url)

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def channel_prefix(self) -> str:
        """Of every live channel: the app that serves the sockets and the worker whose jobs emit
        publish under the same names on a shared Redis (in-process channels need none)."""
        return f"{self.redis_prefix}:" if self.redis_url else ""
