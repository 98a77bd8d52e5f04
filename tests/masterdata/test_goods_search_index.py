"""The keyword search through the trigram indexes (issue 14) finds exactly the rows the plain
LIKE finds, on both engines: Chinese names, mixed-case codes, LIKE's own metacharacters, short
words (no index), and rows renamed or deleted after they were indexed."""

from __future__ import annotations

from server.core import db
from server.core.search import code_or_name, contains, starts_with
from server.core.tenancy import scoped
from server.inventory.tables import Stock
from server.masterdata.tables import Goods, GoodsPrice
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import make_goods

NAMES = {
    "SCR-A1": "iPhone 15 屏幕总成",
    "scr-b2": "屏幕总成（原装）",
    "Bat_9": "电池 100% 容量",
    "X_Y": "下划线_名称",
    "Q.1": 'Quote "引号" \\ 反斜杠',
    "ABC": "abc 小写",
    "zz": "屏幕",
}
WORDS = [
    "屏幕总成",
    "屏幕",
    "幕总成（",
    "scr",
    "SCR-A",
    "Scr-b",
    "bat_",
    "t_9",
    "%",
    "100%",
    "0% 容",
    "_",
    "下划线_",
    "X%",
    '"引号"',
    "\\ 反",
    "abc",
    "ABC 小",
    "iphone 15",
    "15 屏",
    "总成",
    "不存在的词",
    "a",
]


async def _ids(where) -> list[int]:
    return [r["id"] for r in await Goods.select(Goods.id).where(where).order_by(Goods.id)]


async def test_goods_search_through_the_index_equals_like(tenant):
    w = await world(tenant)
    ids = {code: (await make_goods(tenant, code, w["iphone15"], name=name))["id"] for code, name in NAMES.items()}
    from server.masterdata.services import goods

    await goods.update(tenant, ids["zz"], {"name": "旧名 已改 screen"})  # the index follows an edit
    await GoodsPrice.delete().where(GoodsPrice.goods == ids["ABC"])
    await Goods.delete().where(Goods.id == ids["ABC"])  # and a removed row
    for word in [*WORDS, "屏幕", "screen", "旧名"]:
        like = starts_with(Goods.code, word) | contains(Goods.name, word)
        indexed = await _ids(scoped(tenant, Goods) & code_or_name(word, Goods.id, Goods.code, Goods.name))
        assert indexed == await _ids(scoped(tenant, Goods) & like), word
    assert await _ids(code_or_name("屏幕总成", Goods.id, Goods.code, Goods.name)) == [ids["SCR-A1"], ids["scr-b2"]]
    assert await _ids(code_or_name("旧名 已改", Goods.id, Goods.code, Goods.name)) == [ids["zz"]]
    if db.is_sqlite():  # the FTS5 index itself holds the rows (the search above did not just fall back)
        found = await Goods.raw("SELECT rowid FROM md_goods_fts WHERE md_goods_fts MATCH '\"屏幕总成\"' ORDER BY rowid")
        assert [r["rowid"] for r in found] == [ids["SCR-A1"], ids["scr-b2"]]


async def test_stock_search_through_the_index_equals_like(tenant):
    w = await world(tenant)
    made = [(await make_goods(tenant, code, w["iphone15"], name=name))["id"] for code, name in NAMES.items()]
    await inbound(tenant, w["general"], *[(g, 1, "1.00") for g in made])

    async def rows(where) -> list[int]:
        return [r["id"] for r in await Stock.select(Stock.id).where(scoped(tenant, Stock) & where).order_by(Stock.id)]

    for word in WORDS:
        like = starts_with(Stock.goods.code, word) | contains(Stock.goods.name, word)
        assert await rows(code_or_name(word, Stock.goods, Stock.goods.code, Stock.goods.name)) == await rows(like), word


async def test_a_search_ignores_case_as_the_user_expects_whatever_operator_it_takes(tenant):
    """PostgreSQL matches a word without cased letters (Chinese, digits, punctuation) by LIKE, a
    cased one by ILIKE: either way the rows are those whose code starts with the word or whose
    name holds it, case aside."""
    w = await world(tenant)
    ids = {code: (await make_goods(tenant, code, w["iphone15"], name=name))["id"] for code, name in NAMES.items()}
    for word in WORDS:
        expected = sorted(
            ids[code]
            for code, name in NAMES.items()
            if code.lower().startswith(word.lower()) or word.lower() in name.lower()
        )
        mine = scoped(tenant, Goods) & Goods.id.is_in(list(ids.values()))  # not the world's own goods
        assert await _ids(mine & code_or_name(word, Goods.id, Goods.code, Goods.name)) == expected, word
    if not db.is_sqlite():
        assert " LIKE " in str(contains(Goods.name, "屏幕 100%").querystring)
        assert " ILIKE " in str(contains(Goods.name, "iPhone 屏幕").querystring)
