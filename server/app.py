"""The one wiring point: plugins, stores, middleware, guards and every domain's routes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from litestar import Litestar, Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template import TemplateConfig
from redis.asyncio import Redis

import realtime
from realtime.plugin import channels_plugin
from realtime.ws import live
from server import (
    domains,  # noqa: F401  (registers every domain's codes, topics and hooks)
    worker,
)
from server.core import authcache, db, jobs, links, logs, permissions, secrets, templating, throttle, uploads
from server.core.admission import AdmissionMiddleware
from server.core.headers import JSONBodyMiddleware, SecurityHeaders
from server.core.idempotency import IdempotencyMiddleware
from server.core.input import RefuseNulMiddleware
from server.core.openapi import ApiResponses
from server.core.sessions import SessionConfig, SessionFileStore
from server.core.throttle import REDIS_TIMEOUTS
from server.core.web import EXCEPTION_HANDLERS, AuthMiddleware, BearerAwareCSRFMiddleware
from server.credit import api as credit_api
from server.credit import pages as credit_pages
from server.dashboard import api as dashboard_api
from server.dashboard import pages as dashboard_pages
from server.gsx import api as gsx_api
from server.gsx import pages as gsx_pages
from server.gsx import poller as gsx_poller
from server.inventory import api as inventory_api
from server.inventory import pages as inventory_pages
from server.logistics import api as logistics_api
from server.logistics import pages as logistics_pages
from server.masterdata import api as masterdata_api
from server.masterdata import pages as masterdata_pages
from server.notices import api as notices_api
from server.notices import pages as notices_pages
from server.printing import api as printing_api
from server.printing import pages as printing_pages
from server.queue import api as queue_api
from server.queue import pages as queue_pages
from server.queue.services import devices as queue_devices
from server.quotes import api as quotes_api
from server.quotes import pages as quotes_pages
from server.selfservice import api as selfservice_api
from server.selfservice import pages as selfservice_pages
from server.settings import ROOT, Settings
from server.system import api as system_api
from server.system import pages as system_pages
from server.system.services import auth
from server.workorders import api as workorders_api
from server.workorders import pages as workorders_pages

SESSION_MAX_AGE = 12 * 3600
# Requests with no ambient credential to forge: a kiosk's carry its token in the URL.
CSRF_EXEMPT = ["^/static/", "^/ws", "^/api/v1/auth/token$", "^/queue/(kiosk|tv)/", "^/dashboard/tv/"]


@get("/healthz", opt={"public": True}, include_in_schema=False)
async def healthz() -> dict:
    """Liveness: the process answers (it touches nothing else, so a database outage does not
    get healthy workers restarted)."""
    return {"ok": True}


READY_TIMEOUT = 2.0


@get("/readyz", opt={"public": True}, include_in_schema=False)
async def readyz(request: Request) -> Response:
    """Readiness: the database and, when configured, Redis answer now; else 503 and which one."""
    checks = {"database": db.ping()}
    if request.app.state.redis_url:
        checks["redis"] = request.app.stores.get("sessions").exists("readyz")
    results = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, READY_TIMEOUT)
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready", and says which
            results[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in results.values())
    return Response({"ready": ready, **results}, status_code=200 if ready else 503)


def _stores(settings: Settings) -> tuple[StoreRegistry, Redis | None]:
    """The stores, and their Redis client when there is one (its connections are closed at
    shutdown, so an app started again on another event loop opens new ones)."""
    if settings.redis_url:
        # bounded waits: an unreachable Redis is a quick 503, not a request hanging on TCP timeouts
        client = Redis.from_url(settings.redis_url, **REDIS_TIMEOUTS)
        root = RedisStore(redis=client, namespace=settings.redis_prefix)
        return StoreRegistry(default_factory=root.with_namespace), client
    # made here, whatever the settings: FileStore creates its own folder but not the parents
    Path(settings.session_dir).mkdir(parents=True, exist_ok=True)
    return StoreRegistry({"sessions": SessionFileStore(Path(settings.session_dir))}), None


async def _token_ctx(token: str):
    """A queue device's token, or a person's API token."""
    if queue_devices.is_device_token(token):
        return await queue_devices.ctx_for_token(token)
    return await auth.ctx_for_token(token)


# A kiosk's page posts carry its token in the path (the screen has no session and sends no header)
DEVICE_PATH = re.compile(r"^/queue/kiosk/([^/]+)/")


async def _idempotency_caller(scope):
    """Whose `Idempotency-Key` it is: the caller AuthMiddleware resolved, or the kiosk whose token
    is in the path."""
    ctx = scope.get("state", {}).get("ctx")
    match = DEVICE_PATH.match(scope["path"]) if ctx is None else None
    if match and queue_devices.is_device_token(match.group(1)):
        ctx = await queue_devices.ctx_for_token(match.group(1))
    return ctx


async def _session_ctx(session: dict):
    if not session.get("uid"):
        return None
    return await auth.ctx_for(session["uid"], session["tid"], session.get("ep", 0))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    logs.install()
    db.configure(settings.database_url, settings.db_timeouts)
    secrets.bind(settings.secret_key)  # tenant secrets (GSX certificates, tokens) are sealed with it
    links.bind(settings.public_url)  # the status page links on receipts
    channels = channels_plugin(settings.redis_url)
    stores, stores_redis = _stores(settings)
    session_config = SessionConfig(
        max_age=SESSION_MAX_AGE, secure=settings.is_prod, samesite="lax", httponly=True, exclude=["^/static/"]
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.is_prod,
        cookie_samesite="lax",
        exclude=CSRF_EXEMPT,
    )

    drainer: list[asyncio.Task] = []
    queues: list = []

    async def on_startup() -> None:
        if settings.db_pool:
            await db.start(settings.db_pool_size)
            gsx_poller.start()  # a served app only (tests build theirs without a pool)
            if settings.redis_url and settings.jobs_queue == "saq":  # `python -m server worker` runs them
                queues.append(worker.queue(settings.redis_url))
                await queues[0].connect()
                jobs.bind_queue(queues[0])
            drainer.append(asyncio.get_running_loop().create_task(jobs.keep_draining(), name="job drainer"))
        realtime.bind(channels, settings.channel_prefix)
        throttle.bind(
            throttle.RedisCounter(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else throttle.MemoryCounter()
        )
        authcache.bind(
            authcache.RedisGenerations(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else authcache.FileGenerations(Path(settings.session_dir).parent / "authgen")
        )

    async def on_shutdown() -> None:
        for task in drainer:
            task.cancel()
        await jobs.drain(retries=False)  # a running job finishes before the database goes away
        jobs.bind_queue(None)
        for q in queues:
            await q.disconnect()
        await gsx_poller.stop()
        realtime.bind(None)
        await authcache.unbind()
        await throttle.counter().close()
        if stores_redis is not None:
            await stores_redis.connection_pool.disconnect()
        await db.stop()

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            live,
            *system_api.ROUTES,
            *uploads.ROUTES,
            *masterdata_api.ROUTES,
            *masterdata_pages.ROUTES,
            *credit_api.ROUTES,
            *credit_pages.ROUTES,
            *inventory_api.ROUTES,
            *inventory_pages.ROUTES,
            *logistics_api.ROUTES,
            *logistics_pages.ROUTES,
            *queue_api.ROUTES,
            *queue_pages.ROUTES,
            *workorders_api.ROUTES,
            *workorders_pages.ROUTES,
            *printing_api.ROUTES,
            *printing_pages.ROUTES,
            *dashboard_api.ROUTES,
            *dashboard_pages.ROUTES,
            *gsx_api.ROUTES,
            *gsx_pages.ROUTES,
            *selfservice_api.ROUTES,
            *selfservice_pages.ROUTES,
            *quotes_api.ROUTES,
            *quotes_pages.ROUTES,
            *notices_api.ROUTES,
            *notices_pages.ROUTES,
            *system_pages.ROUTES,
            create_static_files_router(
                path="/static", directories=[ROOT / "static"], opt={"public": True}, include_in_schema=False
            ),
        ],
        middleware=[
            DefineMiddleware(AdmissionMiddleware, limit=settings.max_in_flight, wait=settings.admission_wait),
            RefuseNulMiddleware,
            JSONBodyMiddleware,
            session_config.middleware,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf),
            DefineMiddleware(AuthMiddleware, session_resolver=_session_ctx, token_resolver=_token_ctx),
            DefineMiddleware(IdempotencyMiddleware, caller=_idempotency_caller),
        ],
        guards=[permissions.guard],
        plugins=[channels, HTMXPlugin(), ApiResponses()],
        stores=stores,
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=templating.setup
        ),
        openapi_config=OpenAPIConfig(
            title="Weifu API",
            version="1.0.0",
            path="/schema",
            # the schema's own pages are not operations of the API
            openapi_router=Router("/schema", route_handlers=[], opt={"public": True}, include_in_schema=False),
        ),
        # a hook, not a middleware: it also sees the router's own 404/405 answers
        before_send=[SecurityHeaders(hsts=settings.is_prod)],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State(
            {
                "trusted_proxies": settings.trusted_proxies,
                "redis_url": settings.redis_url,
                "secure_cookies": settings.is_prod,
            }
        ),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
    )
    if problems := permissions.undeclared(permissions.handlers(app)):
        raise RuntimeError("every route must declare who may call it:\n" + "\n".join(problems))
    return app
