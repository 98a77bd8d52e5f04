"""【排队统计】: the period's figures of one org (cards for the totals, a table by day, service and
counter), filtered by service and counter, live, with the same filters in the xlsx export."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from msgspec.structs import replace

from server.core.errors import BusinessError
from server.core.forms import query_string
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.queue import exports
from server.queue import permissions as P
from server.queue.schemas import StatsFilters
from server.queue.services import setup, stats

CARDS = (
    ("tickets", "取号数", False),
    ("served", "已完成", False),
    ("no_shows", "过号", False),
    ("avg_wait_seconds", "平均等候", True),
    ("p90_wait_seconds", "P90 等候", True),
    ("avg_service_seconds", "平均办理", True),
    ("p90_service_seconds", "P90 办理", True),
)


def duration(seconds: int | None) -> str:
    """A time as staff read it: `m分s秒` (`s秒` under a minute), `—` when there is none."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}分{rest}秒" if minutes else f"{rest}秒"


def rating(figures: dict) -> str:
    """The customers' ratings as staff read them: `4.6 分 / 12 人`, `—` when nobody rated."""
    if not figures["ratings"]:
        return "—"
    return f"{figures['avg_rating']:.1f} 分 / {figures['ratings']} 人"


def _filters(request: Request) -> StatsFilters:
    """The page's filters, trimmed (a blank field filters nothing)."""
    query = request.query_params
    return StatsFilters.from_query({name: query.get(name, "").strip() for name in StatsFilters.__struct_fields__})


async def _choices(ctx: Ctx, org_id: int) -> tuple[list[dict], list[dict]]:
    """The service and counter filters' options: the org's own lists."""
    services = [{"id": s["id"], "label": f"{s['prefix']} {s['name']}"} for s in await setup.services(ctx, org_id)]
    counters = [{"id": c["id"], "label": c["label"]} for c in await setup.counters(ctx, org_id)]
    return services, counters


class StatsPages(Controller):
    path = "/queue/stats"

    @get("/", opt={"perm": P.STATS_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        """The whole page, the filters with the figures (`q-stats`, after a filter changed: another
        org has other services), or only the figures (`q-stats-results`, a live refresh). A bad
        period is said above the figures rather than failing the page."""
        ctx = ctx_of(request)
        filters = _filters(request)
        if filters.org_id:
            org = await setup.org_of(ctx, filters.org_id)  # 404 outside the caller's subtree
        else:  # opened from the menu: on an org that has a queue, not on a head office without one
            org = await setup.queue_org(ctx)
        filters = replace(filters, org_id=str(org["id"]))
        target = htmx_target(request)
        services, counters = [], []
        if target != "q-stats-results":
            services, counters = await _choices(ctx, org["id"])
            # a service or counter chosen for another org does not filter this one
            for key, options in (("service_id", services), ("counter_id", counters)):
                if getattr(filters, key) not in {str(o["id"]) for o in options}:
                    filters = replace(filters, **{key: ""})
        error, result = "", None
        try:
            result = await stats.compute(ctx, filters)
        except BusinessError as exc:
            if exc.status_code != 400:
                raise
            error = exc.detail
        if result:  # the period as computed, in the form's two fields
            filters = replace(filters, date="", date_from=result["date_from"], date_to=result["date_to"])
        return render(
            request,
            "queue/stats.html",
            block={"q-stats": "main", "q-stats-results": "results"}.get(target or ""),
            title="排队统计",
            org=org,
            filters=filters,
            query=query_string(filters.as_dict()),
            result=result,
            error=error,
            services=services,
            counters=counters,
            cards=CARDS,
            dur=duration,
            rating=rating,
            counter_label=exports.counter_label,
        )

    @get("/export", opt={"perm": P.STATS_EXPORT}, include_in_schema=False)
    async def export(self, request: Request) -> Response:
        return await exports.stats_xlsx(ctx_of(request), _filters(request))


ROUTES = [StatsPages]
