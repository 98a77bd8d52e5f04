"""Consistent snapshots: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from server.core.db import sqlite_path


def backup(database_url: str, target: str) -> None:
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    path = sqlite_path(database_url)
    if path:
        with sqlite3.connect(path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", database_url])
    print(f"backup written to {target}")


def restore(database_url: str, source: str) -> None:
    if not Path(source).exists():
        raise SystemExit(f"错误：备份文件 {source} 不存在")
    path = sqlite_path(database_url)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={database_url}", source])
    print(f"restored from {source}")


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise SystemExit(f"错误：找不到 {command[0]}，请安装 PostgreSQL 客户端")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"错误：{command[0]} 失败：{result.stderr.strip()}")
