"""What a worker loads at start (issue 14: RSS per worker): black, which Piccolo's app registry
imports to format new migration files, and openpyxl, which only an export or an import uses, are
loaded when something uses them."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import server.app
import piccolo.conf.apps as apps
assert "openpyxl" not in sys.modules
assert type(sys.modules["black"]).__name__ == "_Deferred", sys.modules["black"]
assert apps.black.format_str("x=1", mode=apps.black.FileMode(line_length=80)) == "x = 1\\n"
assert type(sys.modules["black"]).__name__ == "module"
"""


def test_a_worker_loads_black_and_openpyxl_only_when_used():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_exports_xml_check_is_openpyxls():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from server.core import xlsx

    assert xlsx.NOT_XML.pattern == ILLEGAL_CHARACTERS_RE.pattern
