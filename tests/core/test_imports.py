"""What a worker loads at start (issue 14: RSS per worker): black, which Piccolo's app registry
imports to format new migration files, is loaded only when something uses it."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import server.app
import piccolo.conf.apps as apps
assert type(sys.modules["black"]).__name__ == "_Deferred", sys.modules["black"]
assert apps.black.format_str("x=1", mode=apps.black.FileMode(line_length=80)) == "x = 1\\n"
assert type(sys.modules["black"]).__name__ == "module"
"""


def test_a_worker_loads_black_only_when_a_migration_file_is_written():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
