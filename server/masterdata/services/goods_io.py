"""Goods to and from Excel (issue 3): the export, the import template and the import share one
column list, so an exported file (with new codes) imports again as it is.

An import validates every row first, with the goods service's own rules; a file with any bad
row writes nothing and answers a per-row error report. A good file is inserted in one
transaction with bulk inserts (10,000 rows in seconds, not one round trip per row).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from piccolo.table import Table

import realtime
from server.core import audit, jobs, money, xlsx
from server.core.clock import now
from server.core.db import atomic, is_sqlite
from server.core.errors import BusinessError
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.core.xlsx import MAX_EXPORT_ROWS, yes_no
from server.masterdata.services import goods, trees
from server.masterdata.services.common import HQ_ONLY, codes_in, taken
from server.masterdata.states import Status, TreeKind
from server.masterdata.tables import Goods, GoodsPrice

BASE_COLUMNS = (
    "货品编码",
    "货品名称",
    "货品分类",
    "品类",
    "单位",
    "规格型号",
    "采购成本",
    "是否用于实物受理",
    "是否启用",
    "安全库存",
)
LEVEL_COLUMNS = tuple((f"{n}级订单价格", f"{n}级零售价", f"{n}级允许订购") for n in goods.LEVELS)
COLUMNS = (*BASE_COLUMNS, *(c for level in LEVEL_COLUMNS for c in level))
PATH_SEP = "/"

# The upload as sent; what it unpacks to is bounded by server.core.xlsx. A full 50,000-row file
# is about 4.4 MB. Litestar's default request_max_body_size (10 MB, on every handler) refuses a
# larger body with 413 before it is read, so this says the same for callers of the service.
MAX_IMPORT_BYTES = 10_000_000
MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_ERRORS = 1_000
BATCH = 500  # codes per lookup, goods per price query of the export
PROGRESS_EVERY = 500  # rows validated between two progress records of an import job
IMPORT_JOB = "goods.import"

Progress = Callable[[int, int], Awaitable[None]]

NOTES = (
    ("货品编码", "必填，租户内唯一，只能包含字母、数字和 . _ / -（最多 64 位），导入后不可修改"),
    ("货品名称", "必填，最多 200 个字符"),
    ("货品分类", "可空；填写已有的货品分类名称，如 整机、配件、耗材"),
    ("品类", "必填；品类的完整路径，各级用 / 分隔，如 Apple/iPhone/iPhone 15（不能是已删除的品类）"),
    ("单位", "可空，默认 个"),
    ("规格型号", "可空"),
    ("采购成本", "可空，默认 0；金额不能为负，最多 4 位小数"),
    ("是否用于实物受理", "是 或 否，默认 否"),
    ("是否启用", "是 或 否，默认 是"),
    ("安全库存", "可空，默认 0；非负整数"),
    ("N级订单价格 / N级零售价", "N 为机构级别 1–4；金额不能为负，最多 4 位小数；一级的三列都空表示不设该级价格"),
    ("N级允许订购", "是 或 否，默认 是"),
)


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[dict] = field(default_factory=list)  # [{"row": 3, "message": "…"}], row = Excel row number
    error_rows: int = 0  # rows with errors (the report lists at most MAX_REPORTED_ERRORS of them)

    @property
    def ok(self) -> bool:
        return not self.errors


async def category_paths(ctx: Ctx, *, usable_only: bool = False) -> dict[int, str]:
    """Full path ("Apple/iPhone/iPhone 15") of every category node, deleted ones included unless
    `usable_only` (deleting a node deletes its subtree, so an active node is a usable one)."""
    return trees.paths(await trees.listing(ctx, TreeKind.CATEGORY, include_deleted=not usable_only), PATH_SEP)


def _path_key(path: str) -> str:
    return PATH_SEP.join(part.strip() for part in path.split(PATH_SEP))


# --- export and template -------------------------------------------------------------------------


async def export_rows(ctx: Ctx, filters: goods.GoodsFilters) -> list[list]:
    """The goods list's current filter as rows of COLUMNS (money as 4-decimal text)."""
    where = await goods.filter_where(ctx, filters)
    rows = await Goods.select(*goods.COLUMNS).where(where).order_by(Goods.code).limit(MAX_EXPORT_ROWS)
    paths = await category_paths(ctx)
    tiers: dict[int, dict[int, dict]] = {r["id"]: {} for r in rows}
    ids = list(tiers)
    for start in range(0, len(ids), BATCH):
        for p in await GoodsPrice.select().where(GoodsPrice.goods.is_in(ids[start : start + BATCH])):
            tiers[p["goods"]][p["level"]] = p
    out = []
    for r in rows:
        line = [
            r["code"],
            r["name"],
            r["goods_type_name"] or "",
            paths.get(r["category"], ""),
            r["unit"],
            r["spec"],
            money.fmt(r["purchase_cost"]),
            yes_no(r["is_intake_item"]),
            yes_no(r["enabled"]),
            r["safety_stock"],
        ]
        for level in goods.LEVELS:
            tier = tiers[r["id"]].get(level)
            line += (
                [money.fmt(tier["order_price"]), money.fmt(tier["retail_price"]), yes_no(tier["orderable"])]
                if tier
                else ["", "", ""]
            )
        out.append(line)
    return out


def template_bytes() -> bytes:
    """An empty sheet with the export's columns, and a sheet explaining how to fill them."""
    last = ("", "第一行为表头，请勿修改；从第二行起每行一个货品。文件中任何一行有错误时不会导入任何数据。")
    return xlsx.workbook_bytes("货品", COLUMNS, [], more=[("填写说明", ("列", "说明"), [*NOTES, (), last])])


# --- import ---------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text: Excel turns typed numbers into floats, so 12.0 reads back as "12"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _cell_money(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "0"
    return value  # money.parse takes int, float (by its repr) and text


def _cell_flag(value: Any, default: bool) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value if isinstance(value, bool) else _cell_text(value)


def _check_size(data: bytes) -> None:
    if not data:
        raise BusinessError("请选择要导入的 Excel 文件", code="import_empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise BusinessError(f"文件不能超过 {MAX_IMPORT_BYTES // 1_000_000} MB", code="too_large")


async def _read_sheet(data: bytes) -> list[tuple[int, tuple]]:
    """The size of the upload first, then the workbook's rows, parsed off the event loop."""
    _check_size(data)
    return await xlsx.read_rows(data, max_rows=MAX_IMPORT_ROWS)


def _header_index(header: tuple | None) -> dict[str, int]:
    names = [_cell_text(v) for v in header or ()]
    index = {name: i for i, name in reversed(list(enumerate(names))) if name}
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        raise BusinessError(
            f"表头缺少列：{'、'.join(missing[:6])}{' 等' if len(missing) > 6 else ''}（请使用导入模板）",
            code="import_header",
        )
    return index


async def _parse_row(ctx: Ctx, values: dict[str, Any], errors: list[str]) -> dict:
    """One row through the goods service's validation; every problem of the row is collected."""
    out: dict = {}
    try:
        out["code"] = goods.clean_code(_cell_text(values["货品编码"]))
    except BusinessError as exc:
        errors.append(exc.detail)
    stock = values["安全库存"]
    v = Fields()  # the service's checks of every field at once, in its order
    out |= await goods._clean(
        ctx,
        {
            "name": _cell_text(values["货品名称"]),
            "unit": _cell_text(values["单位"]),
            "spec": _cell_text(values["规格型号"]),
            "purchase_cost": _cell_money(values["采购成本"]),
            "is_intake_item": _cell_flag(values["是否用于实物受理"], False),
            "enabled": _cell_flag(values["是否启用"], True),
            "safety_stock": 0 if stock in (None, "") else _cell_text(stock),
        },
        v,
    )
    errors += [e.detail for e in v.errors]
    out["goods_type"] = _cell_text(values["货品分类"])
    out["category"] = _cell_text(values["品类"])
    if not out["category"]:
        errors.append("请填写品类")
    prices = []
    for level, (order_col, retail_col, orderable_col) in zip(goods.LEVELS, LEVEL_COLUMNS, strict=True):
        cells = (values[order_col], values[retail_col], values[orderable_col])
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        try:
            tier = {
                "level": level,
                "order_price": _cell_money(cells[0]),
                "retail_price": _cell_money(cells[1]),
                "orderable": _cell_flag(cells[2], True),
            }
            prices += goods._clean_prices([tier])
        except BusinessError as exc:
            errors.append(exc.detail)
    out["prices"] = prices
    return out


async def _parse(ctx: Ctx, data: bytes, progress: Progress) -> tuple[list[tuple[int, dict]], dict[int, list[str]]]:
    rows = await _read_sheet(data)  # non-blank rows only, with their Excel row numbers
    index = _header_index(rows[0][1] if rows and rows[0][0] == 1 else None)
    total = sum(number != 1 for number, _ in rows)
    parsed: list[tuple[int, dict]] = []
    problems: dict[int, list[str]] = {}
    for number, raw in rows:
        if number == 1:
            continue
        if len(parsed) % PROGRESS_EVERY == 0:
            await progress(len(parsed), total)
        values = {name: raw[i] if i < len(raw) else None for name, i in index.items()}
        errors: list[str] = []
        parsed.append((number, await _parse_row(ctx, values, errors)))
        if errors:
            problems[number] = errors
    if not parsed:
        raise BusinessError("文件中没有货品数据", code="import_empty")
    await progress(total, total)
    return parsed, problems


async def _existing_codes(ctx: Ctx, codes: list[str]) -> dict[str, str]:
    """The tenant's codes among `codes`, ignoring case: {lower-cased: as stored}."""
    found: dict[str, str] = {}
    for start in range(0, len(codes), BATCH):
        rows = await Goods.select(Goods.code).where(scoped(ctx, Goods) & codes_in(Goods, codes[start : start + BATCH]))
        found |= {r["code"].lower(): r["code"] for r in rows}
    return found


async def _resolve(ctx: Ctx, parsed: list[tuple[int, dict]], problems: dict[int, list[str]]) -> None:
    """Category by path, goods type by name, codes unique in the file and in the tenant."""
    by_path: dict[str, list[int]] = {}
    for node_id, path in (await category_paths(ctx, usable_only=True)).items():
        by_path.setdefault(_path_key(path), []).append(node_id)
    types = {t["name"]: t["id"] for t in await goods.goods_types(ctx)}
    codes = [row["code"].lower() for _, row in parsed if row.get("code")]  # codes ignore case
    existing = await _existing_codes(ctx, sorted(set(codes)))
    first_seen: dict[str, int] = {}
    for number, row in parsed:
        errors = problems.setdefault(number, [])
        code = row.get("code")
        if code:
            if code.lower() in first_seen:
                errors.append(f"货品编码 {code} 与第 {first_seen[code.lower()]} 行重复")
            else:
                first_seen[code.lower()] = number
            if code.lower() in existing:
                errors.append(taken("货品编码", code, existing[code.lower()]).detail)
        if row["category"]:
            found = by_path.get(_path_key(row["category"]), [])
            if len(found) == 1:
                row["category"] = found[0]
            elif found:
                errors.append(f"品类【{row['category'][:100]}】不唯一，无法确定")
            else:
                errors.append(f"品类【{row['category'][:100]}】不存在或已删除")
        if row["goods_type"]:
            if row["goods_type"] in types:
                row["goods_type"] = types[row["goods_type"]]
            else:
                errors.append(f"货品分类【{row['goods_type'][:50]}】不存在")
        else:
            row["goods_type"] = None
        if not errors:
            del problems[number]


def _report(problems: dict[int, list[str]]) -> ImportResult:
    numbers = sorted(problems)
    return ImportResult(
        imported=0,
        errors=[{"row": n, "message": "；".join(problems[n])} for n in numbers[:MAX_REPORTED_ERRORS]],
        error_rows=len(numbers),
    )


GOODS_FIELDS = (
    "code",
    "name",
    "goods_type",
    "category",
    "unit",
    "spec",
    "purchase_cost",
    "is_intake_item",
    "enabled",
    "safety_stock",
)


async def _insert_rows(table: type[Table], rows: list[dict], returning: tuple[str, ...] = ()) -> list[dict]:
    """Many rows in one INSERT whose only parameter is the rows as JSON, unpacked by the database
    (SQLite's json_each, PostgreSQL's json_populate_recordset). `bulk_insert` binds one parameter
    per value, and Piccolo's query building per parameter cost more than the database's work
    (3.8 of 13 s at 10,000 goods with their 40,000 price tiers)."""
    names = list(rows[0])
    tablename = table._meta.tablename
    if is_sqlite():
        select = ", ".join(f"value ->> '{n}'" for n in names) + " FROM json_each({})"
    else:
        select = ", ".join(f'r."{n}"' for n in names)
        select += f' FROM json_populate_recordset(NULL::"{tablename}", {{}}::json) r'
    columns = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{tablename}" ({columns}) SELECT {select}'
    if returning:
        sql += " RETURNING " + ", ".join(f'"{n}"' for n in returning)
    return await table.raw(sql, json.dumps(rows, ensure_ascii=False))


async def _insert(ctx: Ctx, parsed: list[tuple[int, dict]]) -> None:
    t = str(now().astimezone(UTC))  # as Piccolo writes a timestamptz into SQLite; PostgreSQL reads it too
    rows = [row for _, row in parsed]
    fixed = {"tenant_id": ctx.tenant_id, "per_store_pricing": False, "status": Status.ACTIVE.value}
    inserted = await _insert_rows(
        Goods,
        [fixed | {k: row[k] for k in GOODS_FIELDS} | {"created_at": t, "updated_at": t} for row in rows],
        returning=("id", "code"),
    )
    ids = {r["code"]: r["id"] for r in inserted}
    prices = [{"tenant_id": ctx.tenant_id, "goods": ids[row["code"]]} | p for row in rows for p in row["prices"]]
    if prices:
        await _insert_rows(GoodsPrice, prices)


async def _yield(done: int, total: int) -> None:
    await asyncio.sleep(0)  # no one watches; other requests still get their turn between rows


async def import_goods(ctx: Ctx, data: bytes, progress: Progress = _yield) -> ImportResult:
    """Validate every row; import all of them in one transaction, or none and say which rows are bad.

    A file that cannot be read at all (not an .xlsx, wrong header, empty, too large) raises
    BusinessError; bad rows come back in the result instead, so the caller can show the report.
    `progress(done, total)` is told how many rows were validated, every PROGRESS_EVERY rows and
    once all are (then the rows are written, in one transaction that it is not called from).
    """
    ctx.require_hq(HQ_ONLY)
    parsed, problems = await _parse(ctx, data, progress)
    async with atomic():  # references and codes are checked again under the write transaction
        await _resolve(ctx, parsed, problems)
        if problems:
            return _report(problems)
        await _insert(ctx, parsed)
        await audit.record(
            ctx,
            "import",
            "goods",
            None,
            f"导入货品 {len(parsed)} 条",
            after={"count": len(parsed), "codes": [row["code"] for _, row in parsed[:20]]},
        )
        realtime.emit_tenant(ctx.tenant_id, "goods", "imported", len(parsed))
    return ImportResult(imported=len(parsed))


async def start_import(ctx: Ctx, data: bytes) -> dict:
    """The import as a background job (the goods page's 导入 with its progress bar): the caller's
    rights and the file's size are checked now, everything else by the job; see `jobs.get`."""
    ctx.require_hq(HQ_ONLY)
    _check_size(data)
    return await jobs.enqueue(ctx, IMPORT_JOB, data=data)


@jobs.register(IMPORT_JOB)
async def _import_job(run: jobs.Run) -> dict:
    return dataclasses.asdict(await import_goods(run.ctx, run.data or b"", run.progress))
