"""The service over HTTP: Teams-shaped activities in, replies out at the fake connector."""

from __future__ import annotations

import asyncio
import json

from support.activities import activity, card_action, message
from support.bots import make_settings, running_bot


async def test_health_and_readiness(bot):
    async with bot.session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    async with bot.session.get(f"{bot.url}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ready"


async def test_readyz_is_503_with_the_reason_when_the_schema_is_behind(bot):
    async with bot.services.db.engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    async with bot.session.get(f"{bot.url}/readyz") as response:
        assert response.status == 503
        assert "policy-bot db upgrade" in (await response.json())["reason"]


async def test_first_personal_message_gets_welcome_then_an_answer(bot, connector):
    response = await bot.post(message(connector, "Does this cover councillors?"))
    assert response.status == 200
    sent = await connector.wait_for(3)
    welcome = sent[0]["attachments"][0]["content"]
    assert "GenAI policy assistant" in json.dumps(welcome)
    assert "To reach a person" in json.dumps(welcome)  # policy 9.1: how to reach a human
    assert "Please confirm you have read the GenAI policy" in json.dumps(sent[1])  # acknowledgement prompt
    answer = sent[2]
    assert "councillors" in answer["text"].lower()
    assert answer["conversation"]["id"] == "a02ade87-9833-449b-87fd-47e2ce98d729"
    path = connector.requests[0].path
    assert path == "/v3/conversations/a02ade87-9833-449b-87fd-47e2ce98d729/activities"


async def test_welcome_is_sent_once_per_user(bot, connector):
    await bot.post(activity("installationUpdate-personal", connector))
    await connector.wait_for(2)
    await bot.post(message(connector, "help"))
    sent = await connector.wait_for(3)
    assert len(sent) == 3
    assert "What I can do" in json.dumps(sent[2])


async def test_invoke_gets_its_real_response_not_a_500(bot, connector):
    """4.17.1's CloudAdapter.process() answers every adaptiveCard/action with 500; ours must not."""
    await bot.post(message(connector, "help"))
    response = await bot.post(card_action(connector, "qa.section", {"section": "8.3"}))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    sent = await connector.wait_for(4)
    assert "8.3 Human oversight" in json.dumps(sent[-1])


async def test_unknown_verb_answers_200_with_a_card_saying_so(bot, connector):
    response = await bot.post(card_action(connector, "no.such.verb", {"x": 1}))
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "don't recognise that button" in json.dumps(body["value"])


async def test_help_button_runs_the_command(bot, connector):
    response = await bot.post(card_action(connector, "command.run", {"command": "tools"}))
    assert response.status == 200
    sent = await connector.wait_for(3)
    assert "AI tools register" in json.dumps(sent[-1])


async def test_channel_message_without_mention_is_ignored(bot, connector):
    channel = activity("message-channel", connector, text="can I use ChatGPT?", entities=[])
    response = await bot.post(channel)
    assert response.status == 200
    await bot.post(activity("message-channel", connector, text="<at>Test Bot</at> help"))
    sent = await connector.wait_for(1)
    assert len(sent) == 1
    assert "What I can do" in json.dumps(sent[0])
    # channel replies go to the thread the message was in
    assert connector.requests[0].path.startswith("/v3/conversations/team-id;messageid=1795339620906/activities/")


async def test_bot_added_to_a_team_introduces_itself(bot, connector):
    await bot.post(activity("conversationUpdate-channel", connector))
    sent = await connector.wait_for(1)
    assert "GenAI policy assistant" in json.dumps(sent[0])


async def test_bad_bodies_get_plain_4xx_and_the_server_keeps_serving(bot, connector):
    cases = [
        (b"not json", {"Content-Type": "application/json"}, 400),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400),
        (b'{"type": 5}', {"Content-Type": "application/json"}, 400),
        (b'{"text": "no type"}', {"Content-Type": "application/json"}, 400),
        (json.dumps({"type": "message"}).encode(), None, 415),  # not sent as JSON
        (b"x" * (300 * 1024), {"Content-Type": "application/json"}, 413),
        (json.dumps({"type": "message", "text": "hi"}).encode(), {"Content-Type": "application/json"}, 400),
    ]
    for body, headers, status in cases:
        response = await bot.post(body, headers=headers)
        assert response.status == status, body[:40]
        text = await response.text()
        assert "Traceback" not in text
    response = await bot.post({"type": "somethingNew", "serviceUrl": connector.url})
    assert response.status == 200
    response = await bot.post(message(connector, "help"))
    assert response.status == 200


async def test_tenant_allow_list(tmp_path, connector):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", allowed_tenant_ids="11111111-1111-1111-1111-111111111111")
    async with running_bot(settings) as running:
        response = await running.post(message(connector, "help"))
        assert response.status == 403
        assert connector.activities() == []


async def test_reply_is_retried_when_the_connector_throttles(bot, connector):
    connector.faults = [(429, {"Retry-After": "0.2"}), (503, {})]
    await bot.post(activity("installationUpdate-personal", connector))
    sent = await connector.wait_for(2)
    assert len(sent) == 2
    assert [r.body.get("_fault") for r in connector.requests[:2]] == [429, 503]


async def test_a_reply_that_meets_many_failures_is_still_delivered_from_the_outbox(tmp_path, connector):
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", outbox_base_delay=0.05)
    async with running_bot(settings) as running:
        await running.post(message(connector, "help"))
        await connector.wait_for(3)
        connector.faults = [(503, {})] * 6  # more failures than a reply's own retries
        response = await running.post(message(connector, "tools"))
        assert response.status == 200
        sent = await connector.wait_for(4, timeout=30)
        assert "AI tools register" in json.dumps(sent[-1])
        assert len([r for r in connector.requests if (r.body or {}).get("_fault") == 503]) == 6
        for _ in range(50):  # the worker records the send just after the connector accepts it
            if set(await running.services.outbox.counts()) == {"sent"}:
                break
            await asyncio.sleep(0.05)
        assert set(await running.services.outbox.counts()) == {"sent"}  # every reply went through the outbox


async def test_every_question_is_answered_exactly_once_under_throttling_and_errors(bot, connector):
    connector.random_faults = (0.2, 0.1)  # a fifth of sends throttled, a tenth failing
    users = [f"aad-load-{n}" for n in range(12)]
    questions = ["Can I use ChatGPT to draft a press release?", "Do I need a DPIA before using AI on personal data?"]
    await asyncio.gather(*[
        bot.post(message(connector, question, user=user, conversation_id=f"a:{user}"))
        for question in questions for user in users
    ])
    await bot.settled(timeout=60)
    injected = [r.body["_fault"] for r in connector.requests if "_fault" in (r.body or {})]
    assert injected.count(429) >= 5 and injected.count(500) >= 2
    for user in users:
        cited = [a for a in connector.activities() if a["conversation"]["id"] == f"a:{user}" and a.get("entities")]
        assert len(cited) == 2, (user, len(cited))
