"""What /api/messages accepts as a body: JSON only, never from a browser page in local mode, read in full however
it arrives, bounded in depth, and with text that the databases and the connector can take."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from sqlalchemy import select

from support.activities import card_action, message
from support.bots import make_settings, running_bot
from storage.models import IncidentRow, QuestionRow

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


async def test_deeply_nested_json_is_a_plain_400(bot, connector):
    depth = 20_000  # far past Python's recursion limit, in 40 KB
    bodies = [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
    ]
    nested = 1
    for _ in range(200):  # within the recursion limit, but no activity is this deep
        nested = {"x": nested}
    bodies.append(json.dumps(card_action(connector, "incident.submit", {**REPORT, "deep": nested})).encode())
    for body in bodies:
        response = await bot.post(body, headers={"Content-Type": "application/json"})
        assert response.status == 400, body[:20]
        assert "nested too deeply" in (await response.json())["error"]
    assert await incidents(bot) == []
    assert (await bot.post(message(connector, "help"))).status == 200


async def test_lone_surrogates_are_refused_in_ids_and_replaced_in_text(bot, connector):
    """JSON may escape a lone UTF-16 surrogate (\\ud800), which no database or URL can hold."""
    for where in ("conversation", "from", "serviceUrl", "recipient"):
        body = message(connector, "help")
        if where == "serviceUrl":
            body["serviceUrl"] += "/\ud800"
        else:
            body[where] = {**body[where], "id": body[where]["id"] + "\ud800"}
        response = await bot.post(body)
        assert response.status == 400, where
        assert "not valid Unicode" in (await response.json())["error"]
    assert connector.requests == []

    # In what people write, it becomes U+FFFD; the question is answered and stored.
    response = await bot.post(message(connector, "Can I use ChatGPT \ud800 to draft a press release?",
                                      user="aad-surrogate", conversation_id="a:surrogate"))
    assert response.status == 200
    answer = await connector.wait_for_text("press release", conversation="a:surrogate")
    assert "something went wrong" not in json.dumps(answer)
    async with bot.services.db.sessions() as session:
        assert (await session.execute(select(QuestionRow.text))).scalar() == \
            "Can I use ChatGPT \ufffd to draft a press release?"

    report = card_action(connector, "incident.submit", {**REPORT, "description": "Odd \udfff text"}, user="aad-jo")
    report["from"]["name"] = "Jo \ud83d"
    response = await bot.post(report)
    assert "Report received" in await response.text()
    [row] = await incidents(bot)
    assert (row.description, row.reporter_name) == ("Odd \ufffd text", "Jo \ufffd")


async def test_nul_characters_are_taken_out_before_anything_is_stored(database_url, connector):
    """PostgreSQL cannot store NUL in text or JSON: an incident with one was lost, though its reporter was told
    nothing was."""
    async with running_bot(make_settings(database_url)) as running:
        report = card_action(connector, "incident.submit", {**REPORT, "description": "Before\u0000after", "x\u0000": "y"},
                             user="aad-nul")
        report["from"]["name"] = "Nul\u0000 Person"
        response = await running.post(report)
        assert response.status == 200
        assert "Report received" in await response.text()
        [row] = await incidents(running)
        assert (row.description, row.reporter_name) == ("Beforeafter", "Nul Person")

        response = await running.post(message(connector, "Can I use\u0000 ChatGPT?", user="aad-nul2", conversation_id="a:nul"))
        assert response.status == 200
        await connector.wait_for_text("ChatGPT", conversation="a:nul")
        async with running.services.db.sessions() as session:
            assert (await session.execute(select(QuestionRow.text))).scalar() == "Can I use ChatGPT?"
        # In an id, it is refused rather than changed.
        response = await running.post(message(connector, "help", conversation_id="a:\u0000nul"))
        assert response.status == 400 and "NUL" in (await response.json())["error"]
