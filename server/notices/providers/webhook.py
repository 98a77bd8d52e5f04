"""SMS through a generic JSON webhook: `POST url` with the tenant's headers and a JSON body built
from its template (a JSON document whose string values are notice templates over `phone` and
`text`). 2xx is sent; 5xx, 429, a timeout or no connection are worth a retry; other answers are
a refusal."""

from __future__ import annotations

import json

import httpx

from server.notices.providers import TIMEOUT, Message, SendFailed
from server.printing import sandbox

DEFAULT_BODY = '{"phone": "{{ phone }}", "text": "{{ text }}"}'


def _filled(value, data: dict):
    if isinstance(value, str):
        return sandbox.render_sync(value, data, text=True)
    if isinstance(value, list):
        return [_filled(v, data) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, data) for k, v in value.items()}
    return value


def body(template: str, message: Message) -> dict:
    """The JSON body for `message`; a template that is not a JSON object is a TemplateProblem."""
    try:
        shape = json.loads(template or DEFAULT_BODY)
    except ValueError as exc:
        raise sandbox.TemplateProblem(f"请求体不是有效的 JSON：{exc.msg}", exc.lineno) from None
    if not isinstance(shape, dict):
        raise sandbox.TemplateProblem("请求体须是一个 JSON 对象")
    return _filled(shape, {"phone": message.to, "text": message.body})


async def send(config: dict, message: Message, timeout: float = TIMEOUT) -> str:
    """`config`: url, headers (secret ones included, decrypted by the caller), body template."""
    try:
        payload = body(config["body"], message)
    except sandbox.TemplateProblem as exc:
        raise SendFailed(f"短信请求体模板有误：{exc}", retry=False) from None
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            answer = await client.post(config["url"], json=payload, headers=config["headers"])
    except httpx.TimeoutException:
        raise SendFailed(f"短信网关超时（{timeout:g} 秒无应答）", retry=True) from None
    except httpx.HTTPError as exc:
        raise SendFailed(f"无法连接短信网关：{type(exc).__name__}", retry=True) from None
    text = f"HTTP {answer.status_code} {answer.text[:300]}".strip()
    if answer.is_success:
        return text
    raise SendFailed(text, retry=answer.status_code >= 500 or answer.status_code == 429)
