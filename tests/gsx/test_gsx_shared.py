"""What GSX needs shared between server processes: one token exchange however many processes
find the token stale, and the news read once per tenant for all of them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

from server.core.clock import now
from server.gsx import services
from server.gsx.tables import GsxCall, GsxLink, GsxNews
from server.settings import ROOT
from server.system.services import auth
from tests.gsx.helpers import IN_WARRANTY, configure, link

PROCESSES = 3


async def test_a_stale_token_is_exchanged_once_across_processes(client, admin, tenant, fake_gsx, settings, tmp_path):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    row = await GsxLink.select().first()
    await GsxLink.update({"token_used_at": now() - timedelta(minutes=31)}).where(GsxLink.id == row["id"])
    exchanges = fake_gsx.control("/fake/state")["exchanges"]
    fake_gsx.control("/fake/mode", {"mode": "slow", "delay": 0.5})  # an exchange the others run into
    start = tmp_path / "start"
    env = {"SECRET_KEY": settings.secret_key, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.gsx.exchange_worker",
                settings.database_url,
                str(row["user_id"]),
                str(row["tenant_id"]),
                str(start),
            ],
            cwd=ROOT,
            env=__import__("os").environ | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    # each says "ready" once it holds its Ctx; one that dies first says nothing (an empty line)
    for w in workers:
        line = await asyncio.to_thread(w.stdout.readline)
        assert line.strip() == "ready", [w.communicate() for w in workers if w.poll() is not None]
    start.touch()  # all at once
    outputs = [await asyncio.to_thread(w.communicate, timeout=60) for w in workers]
    fake_gsx.control("/fake/mode", {"mode": "ok"})
    assert [w.returncode for w in workers] == [0] * PROCESSES, outputs
    assert all(out.strip().startswith("MacBook Pro") for out, _ in outputs), outputs
    assert fake_gsx.control("/fake/state")["exchanges"] == exchanges + 1
    after = await GsxLink.select().first()
    assert after["status"] == "linked" and after["refresh_claimed_until"] is None
    exchanged = await GsxCall.select().where(GsxCall.endpoint == "authenticate/token")
    assert len(exchanged) == 2  # the link's and the one refresh


async def test_concurrent_refreshes_in_one_process_exchange_once(client, admin, tenant, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    row = await GsxLink.select().first()
    await GsxLink.update({"token_used_at": now() - timedelta(minutes=31)}).where(GsxLink.id == row["id"])
    ctx = await auth.ctx_for(row["user_id"], row["tenant_id"])
    exchanges = fake_gsx.control("/fake/state")["exchanges"]
    answers = await asyncio.gather(*[services.check_coverage(ctx, IN_WARRANTY) for _ in range(4)])
    assert all(a["coverage"]["product_description"].startswith("MacBook Pro") for a in answers)
    assert fake_gsx.control("/fake/state")["exchanges"] == exchanges + 1


async def test_news_is_read_once_for_every_process(client, admin, tenant, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    first = await client.get("/api/v1/gsx/news", headers=admin)
    assert first.status_code == 200 and len(first.json()) == 2
    kept = await GsxNews.select().first()
    assert kept["tenant_id"] == tenant.tenant_id and kept["fetched_at"] is not None
    fake_gsx.control("/fake/mode", {"mode": "down"})  # another process (no memory of its own) is served the row
    again = await client.get("/api/v1/gsx/news", headers=admin)
    assert again.status_code == 200 and again.json() == first.json()
    assert [c["endpoint"] for c in await GsxCall.select()].count("content/article/lookup") == 1
    await GsxNews.update({"fetched_at": now() - services.NEWS_LIFE - timedelta(seconds=1)}).where(GsxNews.id > 0)
    stale = await client.get("/api/v1/gsx/news", headers=admin)
    assert stale.status_code == 503 and stale.json()["code"] == "gsx_unavailable"
    fake_gsx.control("/fake/mode", {"mode": "ok"})
    assert (await client.get("/api/v1/gsx/news", headers=admin)).status_code == 200
    assert len(await GsxNews.select()) == 1  # read again into the same row
