"""A fake SMS gateway for tests and the demo: `python -m server fake-sms --port 8025`. It takes
the generic JSON webhook (`POST /sms`, any JSON body) and keeps what it received in memory.

Control: `POST /fake/mode {"mode": "ok" | "fail" | "hang", "times": n}` answers the next n
messages (every one when n is 0) with a 500, or never (until the caller times out);
`GET /fake/messages` lists what was taken, `POST /fake/reset` forgets it all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Response, get, post
from litestar.params import JSONBody


@dataclass
class State:
    mode: str = "ok"
    times: int = 0  # how many more messages get `mode`; 0: every one
    messages: list[dict] = field(default_factory=list)
    refused: int = 0


def create_app() -> Litestar:
    state = State()

    @post("/sms", status_code=200)
    async def sms(data: JSONBody[Any]) -> Response:
        mode = state.mode
        if mode != "ok" and state.times:
            state.times -= 1
            if state.times == 0:
                state.mode = "ok"
        if mode == "hang":
            await asyncio.sleep(3600)
        if mode == "fail":
            state.refused += 1
            return Response({"code": "busy", "message": "gateway busy"}, status_code=500)
        state.messages.append(data)
        return Response({"code": "ok", "id": f"fake-{len(state.messages)}"})

    @post("/fake/mode", status_code=200)
    async def mode(data: JSONBody[dict]) -> dict:
        state.mode, state.times = str(data.get("mode", "ok")), int(data.get("times", 0))
        return {"mode": state.mode, "times": state.times}

    @get("/fake/messages")
    async def messages() -> dict:
        return {"messages": state.messages, "refused": state.refused}

    @post("/fake/reset", status_code=200)
    async def reset() -> dict:
        state.mode, state.times, state.messages, state.refused = "ok", 0, [], 0
        return {}

    return Litestar([sms, mode, messages, reset], openapi_config=None)


def run(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
