"""A process that imports the app once and forks each live server of its pytest worker from there.

A browser or WebSocket test starts a real server (`tests.conftest.LiveServer`); started as
`python -m uvicorn`, every one paid the imports of the whole app again (about 1.5 s of CPU, a
few hundred times a run). Forked from here, a server starts with them done; then it runs exactly
what the command would (uvicorn's own command line, the test's environment, its log file).

Protocol: one JSON request a line on stdin (`args`, `env`, `cwd`, `log`), the new server's pid a
line on stdout. Nothing but imports has run here, and no thread: a fork copies no lock held and
no connection. Ignoring SIGCHLD lets the kernel reap the servers, so a stopped one is gone."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback

import uvicorn.main

import server.app  # noqa: F401  (the imports every server would pay)


def serve(request: dict) -> int:
    """In the forked child: uvicorn as `python -m uvicorn <args>` would run it."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    try:
        uvicorn.main.main(request["args"], prog_name="uvicorn")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    if threading.active_count() != 1:
        raise SystemExit("live zygote: a thread runs after the imports; forking would copy its locks")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = serve(request)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
