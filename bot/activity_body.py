"""An activity's body, from bytes on the wire to a dict that the rest of the bot can store and send.

- Read whole. `content.read(n)` returns only the bytes already buffered, so a body that arrived in two
  TCP writes (through TLS or a proxy) was cut short.
- Bounded in depth. Past Python's recursion limit `json.loads` raises RecursionError; below it, a deep
  value would still meet recursion further on. No activity is nested anywhere near MAX_DEPTH.
- Text the databases and the connector can take. JSON may escape a lone UTF-16 surrogate (`\\ud800`),
  which no UTF-8 encoder accepts, and NUL, which PostgreSQL refuses. In what people write they carry no
  meaning: NUL is dropped and a lone surrogate becomes U+FFFD. In the fields that address a reply they
  are refused instead, since a changed id would address someone else.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

MAX_DEPTH = 64

# The fields that say who sent an activity and where replies go: refused rather than changed.
ADDRESSES = (("serviceUrl",), ("id",), ("replyToId",), ("channelId",), ("conversation", "id"), ("conversation", "tenantId"),
             ("from", "id"), ("from", "aadObjectId"), ("recipient", "id"), ("channelData", "tenant", "id"),
             ("channelData", "team", "id"), ("channelData", "channel", "id"))

_DIRTY = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadBody(Exception):
    """The body is not an activity we can take; the message is the plain reason, for a 400."""


async def read_whole(request: web.Request, limit: int) -> bytes | None:
    """The whole body, however many writes it came in; None when it is larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def parse(body: bytes) -> dict:
    """The activity as a dict, checked and cleaned (see the module's notes); raises BadBody."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise BadBody("request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise BadBody("request body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
        raise BadBody("request body is not a Bot Framework activity")
    for path in ADDRESSES:
        value = _at(payload, path)
        if isinstance(value, str) and _DIRTY.search(value):
            what = "a NUL character" if "\x00" in value else "text that is not valid Unicode"
            raise BadBody(f"{'.'.join(path)} contains {what}")
    _clean_in_place(payload)
    return payload


def _at(payload: dict, path: tuple[str, ...]) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _clean(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "")) if _DIRTY.search(text) else text


def _clean_in_place(payload: dict) -> None:
    """Bound the depth and clean every string, keys included, without recursion."""
    stack: list[tuple[dict | list, int]] = [(payload, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadBody("request body is nested too deeply")
        if isinstance(container, dict):
            for key in [k for k in container if _DIRTY.search(k)]:
                container[_clean(key)] = container.pop(key)
            items = container.items()
        else:
            items = enumerate(container)
        for key, value in list(items):
            if isinstance(value, str):
                if _DIRTY.search(value):
                    container[key] = _clean(value)
            elif isinstance(value, (dict, list)):
                stack.append((value, depth + 1))
