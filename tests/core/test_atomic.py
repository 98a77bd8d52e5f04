"""atomic(): one write transaction, nested blocks join it, after_commit runs only after a commit."""

import pytest

from server.core import db
from server.core.db import after_commit, atomic
from server.core.tables import DocSequence


async def add_row(doc_type: str) -> None:
    await DocSequence.insert(DocSequence(tenant_id=1, doc_type=doc_type, day="20260101", last_no=1))


async def rows() -> int:
    return await DocSequence.count()


async def test_nested_atomic_joins_the_outer_transaction(database_url):
    async with atomic():
        outer = db.engine().current_transaction.get()
        async with atomic():
            assert db.engine().current_transaction.get() is outer
            await add_row("IN")
        await add_row("OUT")
    assert await rows() == 2


async def test_an_exception_rolls_back_the_outer_and_the_nested_writes(database_url):
    await add_row("KEEP")
    with pytest.raises(ValueError):
        async with atomic():
            await add_row("OUT")
            async with atomic():
                await add_row("IN")
            raise ValueError("boom")
    assert await rows() == 1


async def test_an_exception_in_a_nested_block_rolls_back_everything(database_url):
    with pytest.raises(ValueError):
        async with atomic():
            await add_row("OUT")
            async with atomic():
                await add_row("IN")
                raise ValueError("boom")
    assert await rows() == 0


async def test_after_commit_callbacks_run_after_the_commit_in_order(database_url):
    seen: list = []

    async def check_committed() -> None:
        seen.append(("async", db.in_transaction(), await rows()))

    async with atomic():
        await add_row("A")
        after_commit(lambda: seen.append(("sync", db.in_transaction())))
        after_commit(check_committed)
        assert seen == []
    assert seen == [("sync", False), ("async", False, 1)]


async def test_after_commit_from_a_nested_block_waits_for_the_outer_commit(database_url):
    seen: list[str] = []
    async with atomic():
        async with atomic():
            after_commit(lambda: seen.append("inner"))
        assert seen == []
        after_commit(lambda: seen.append("outer"))
    assert seen == ["inner", "outer"]


async def test_after_commit_never_runs_after_a_rollback(database_url):
    seen: list[str] = []
    with pytest.raises(ValueError):
        async with atomic():
            await add_row("A")
            after_commit(lambda: seen.append("ran"))
            raise ValueError("boom")
    assert seen == []
    assert await rows() == 0
    async with atomic():
        pass
    assert seen == []  # a dropped callback does not leak into the next transaction


async def test_after_commit_outside_atomic_is_a_programming_error(database_url):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)
