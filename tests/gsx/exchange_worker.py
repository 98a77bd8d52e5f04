"""One process of tests/gsx/test_gsx_shared.py's token refresh across processes: on the test's
database, as the linked user, it says "ready" on its first line, waits for the start file and then
asks GSX for a coverage — with a stale token, so it needs an exchange first. Prints the answer's
product."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def main(url: str, user_id: int, tenant_id: int, start: Path) -> None:
    import server.domains  # noqa: F401  (every domain's tables, as the server registers them)
    from server.core import db
    from server.gsx import services
    from server.system.services import auth

    db.configure(url)
    ctx = await auth.ctx_for(user_id, tenant_id)
    print("ready", flush=True)
    while not start.exists():
        await asyncio.sleep(0.01)
    answer = await services.check_coverage(ctx, "C02XK0AAJG5H")
    print(answer["coverage"]["product_description"], flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
