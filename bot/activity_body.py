"""An activity's body, from bytes on the wire.

- Read whole. `content.read(n)` returns only the bytes already buffered, so a body that arrived in two
  TCP writes (through TLS or a proxy) was cut short.
"""

from __future__ import annotations

from aiohttp import web


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
