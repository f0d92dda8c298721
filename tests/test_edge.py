"""What /api/messages accepts as a body: JSON only, never from a browser page in local mode, read in full however
it arrives."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from sqlalchemy import select

from conftest import card_action, message
from storage.models import IncidentRow

REPORT = {"description": "Copilot summarised a complaint.", "tool_name": "Copilot", "occurred_at": "2026-11-20 09:30",
          "personal_data": "no", "category": "other", "severity": "low", "anonymous": "false"}


async def incidents(bot) -> list:
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(IncidentRow))).scalars())


async def test_local_mode_takes_only_json_and_no_browser_requests(bot, connector):
    """A web page can POST text/plain to loopback without a CORS preflight; with no token in local mode, that
    page could otherwise report incidents or ask questions as anyone."""
    body = json.dumps(card_action(connector, "incident.submit", REPORT)).encode()
    cross_site = [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "text/plain", "Origin": "null"}, 403),
    ]
    for headers, status in cross_site:
        response = await bot.post(body, headers=headers)
        assert response.status == status, headers
        assert "error" in await response.json()
    assert await incidents(bot) == []
    assert connector.requests == []

    response = await bot.post(body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status == 200 and "Report received" in await response.text()
    assert len(await incidents(bot)) == 1


async def raw_post(url: str, body: bytes, *, pieces: int = 2, pause: float = 0.3) -> tuple[int, bytes]:
    """POST in several TCP writes with pauses between them, as a body arrives through TLS or a proxy."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    head = (f"POST /api/messages HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    writer.write(head)
    await writer.drain()
    step = -(-len(body) // pieces)
    for start in range(0, len(body), step):
        await asyncio.sleep(pause)
        writer.write(body[start:start + step])
        await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


async def test_a_body_that_arrives_in_pieces_is_read_whole(bot, connector):
    body = json.dumps(message(connector, "Can I use ChatGPT to draft a press release?")).encode()
    status, answer = await raw_post(bot.url, body)
    assert status == 200, answer
    await connector.wait_for_text("press release")
    # A large one (200 KB, under the 256 KB limit) in five pieces.
    big = message(connector, "help")
    big["channelData"]["padding"] = "x" * 200_000
    status, answer = await raw_post(bot.url, json.dumps(big).encode(), pieces=5, pause=0.1)
    assert status == 200, answer
    # Over the limit, however it arrives: 413.
    big["channelData"]["padding"] = "x" * 300_000
    status, _ = await raw_post(bot.url, json.dumps(big).encode(), pieces=3, pause=0.1)
    assert status == 413
