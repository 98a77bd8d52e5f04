"""Excel export of 【排队统计】 with the filters the page shows."""

from __future__ import annotations

from litestar import Response

from server.core.tenancy import Ctx
from server.core.xlsx import xlsx_response
from server.queue.schemas import StatsFilters
from server.queue.services import stats

HEADERS = [
    "日期",
    "业务类型",
    "窗口",
    "取号数",
    "已完成",
    "过号",
    "仍在等候",
    "平均等候(秒)",
    "P90 等候(秒)",
    "平均办理(秒)",
    "P90 办理(秒)",
    "评价数",
    "平均评分",
]
FIGURES = (
    "tickets",
    "served",
    "no_shows",
    "waiting",
    "avg_wait_seconds",
    "p90_wait_seconds",
    "avg_service_seconds",
    "p90_service_seconds",
    "ratings",
    "avg_rating",
)


def counter_label(row: dict) -> str:
    return f"{row['counter_number']} 号窗口" if row["counter_id"] else "未叫号"


async def stats_xlsx(ctx: Ctx, filters: StatsFilters) -> Response:
    result = await stats.compute(ctx, filters)
    rows = [[r["day"], r["service_name"], counter_label(r), *(r[f] for f in FIGURES)] for r in result["items"]]
    rows.append(["合计", "", "", *(result["totals"][f] for f in FIGURES)])
    name = f"排队统计_{result['org_name']}_{result['date_from']}_{result['date_to']}.xlsx"
    return await xlsx_response(name, "排队统计", HEADERS, rows)
