"""Taught pairings: stored redacted per policy version, used by the search at once and on a second
instance, carried over on publish when the passage is unchanged and held for review when not.
Real SQLite and PostgreSQL, the bot's own Services."""

from __future__ import annotations

import asyncio

import pytest

from bot.services import Services
from domain import EXAMPLE_POLICY_PATH
from domain.pairings import PairingRefused
from support.bots import make_settings

POLICY = EXAMPLE_POLICY_PATH.read_text(encoding="utf-8")
BADLY_ANSWERED = "is there a list of the good apps"
TAUGHT_TEXT = "Only GenAI tools on the approved tools register may be used"


class NoSending:
    async def send(self, *args, **kwargs):  # nothing here sends: these tests only read and teach
        raise AssertionError("nothing should be sent")


@pytest.fixture
async def services(database_url):
    built = Services.build(make_settings(database_url), NoSending())
    await built.db.upgrade()
    await built.policies.publish(label="1", text=POLICY, source_name="example-policy.md", published_by="ann")
    yield built
    await built.db.dispose()


async def current_id(services) -> int:
    return await services.policies.current_id()


async def test_a_taught_question_is_stored_redacted_and_listed(services):
    version = await current_id(services)
    pairing = await services.pairings.teach(
        question="Can jane.doe@testshire.gov.uk use the   list of good apps?", policy_version_id=version,
        section="4", passage_index=1, actor="gov-1", source="teach")
    assert pairing.question == "Can [email] use the list of good apps?" and pairing.redacted
    assert (pairing.section, pairing.passage_index, pairing.active) == ("4", 1, True)
    assert [p.id for p in await services.pairings.list(version)] == [pairing.id]
    entry = (await services.audit.entries(f"pairing:{pairing.id}"))[0]
    assert entry.action == "qa.taught" and "jane" not in str(entry.detail) + str(entry.words)


async def test_teaching_the_same_pairing_twice_keeps_one(services):
    version = await current_id(services)
    first = await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=version, section="4",
                                          passage_index=1, actor="gov-1", source="governance")
    again = await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=version, section="4",
                                          passage_index=1, actor="gov-2", source="governance")
    assert again.id == first.id and len(await services.pairings.list(version)) == 1


async def test_two_instances_teaching_the_same_pairing_at_once_make_one(services, database_url):
    other = Services.build(make_settings(database_url), NoSending())
    try:
        version = await current_id(services)
        made = await asyncio.gather(*[repository.teach(question=BADLY_ANSWERED, policy_version_id=version, section="4",
                                                       passage_index=1, actor="gov-1", source="governance")
                                      for repository in (services.pairings, other.pairings) * 2])
        assert len({p.id for p in made}) == 1 and len(await services.pairings.list(version)) == 1
        assert len(await services.audit.entries(f"pairing:{made[0].id}")) == 1
    finally:
        await other.db.dispose()


async def test_without_a_passage_number_the_shown_passage_or_the_closest_is_paired(services):
    version = await current_id(services)
    shown = await services.pairings.teach(question="who keeps the list", policy_version_id=version, section="4",
                                          passage_index=None, actor="gov-1", source="governance",
                                          passage_text="4.4. The register is published on the intranet and can be…")
    closest = await services.pairings.teach(question="does content I create with GenAI belong to me", policy_version_id=version,
                                            section="4", passage_index=None, actor="gov-1", source="teach")
    assert (shown.passage_index, closest.passage_index) == (4, 5)


@pytest.mark.parametrize("section, passage, words", [
    ("42", None, "has no section 42"), ("4", 9, "choose a passage from 1 to 5"), ("7", None, "has no text of its own"),
])
async def test_a_pairing_that_cannot_be_made_is_refused_in_plain_words(services, section, passage, words):
    with pytest.raises(PairingRefused, match=words):
        await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=await current_id(services),
                                      section=section, passage_index=passage, actor="gov-1", source="teach")


async def test_the_search_finds_the_taught_passage_first_and_forgets_it_when_told(services):
    before = (await services.library.current()).index.search(BADLY_ANSWERED)
    assert not before.answered
    pairing = await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=await current_id(services),
                                            section="4", passage_index=1, actor="gov-1", source="teach")
    taught = (await services.library.current()).index.search("is there a list of good apps somewhere")
    assert taught.answered and taught.hits[0].section == "4" and TAUGHT_TEXT in taught.hits[0].text
    assert (await services.pairings.forget(pairing.id, actor="gov-1")).id == pairing.id
    assert not (await services.library.current()).index.search(BADLY_ANSWERED).answered
    assert await services.pairings.forget(pairing.id, actor="gov-1") is None


@pytest.mark.parametrize("question", ["which apps can i use on my phone", "good apps for taking meeting notes",
                                      "is there a list of questions to ask a supplier"])
async def test_a_question_sharing_only_a_word_or_two_with_a_taught_one_is_answered_as_before(services, question):
    """Teaching must not make other answers worse: these once got the taught passage (section 4) first."""
    def shown(result):
        return result.answered, [h.text for h in result.hits]

    before = shown((await services.library.current()).index.search(question))
    await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=await current_id(services),
                                  section="4", passage_index=1, actor="gov-1", source="teach")
    assert shown((await services.library.current()).index.search(question)) == before


async def test_a_second_instance_uses_a_pairing_taught_on_the_first(services, database_url):
    other = Services.build(make_settings(database_url), NoSending())
    try:
        assert not (await other.library.current()).index.search(BADLY_ANSWERED).answered
        await services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=await current_id(services),
                                      section="4", passage_index=1, actor="gov-1", source="teach")
        # fresh=True stands for the few seconds after which every instance re-checks the generation.
        result = (await other.library.current(fresh=True)).index.search(BADLY_ANSWERED)
        assert result.answered and result.hits[0].section == "4"
    finally:
        await other.db.dispose()


async def test_publishing_carries_unchanged_passages_over_and_holds_changed_or_gone_ones(services):
    version = await current_id(services)
    for question, section, passage in [(BADLY_ANSWERED, "4", 1), ("how long do we keep prompts", "10.2", 1),
                                       ("do I need a DPIA for a chatbot", "10.4", 1)]:
        await services.pairings.teach(question=question, policy_version_id=version, section=section,
                                      passage_index=passage, actor="gov-1", source="teach")
    changed = POLICY.replace("Do not keep copies of outputs in personal storage.", "Keep no copies at home.")
    without_dpia = changed[:changed.index("### 10.4.")] + changed[changed.index("## 11."):]
    new = await services.policies.publish(label="2", text=without_dpia, source_name="p.md", published_by="ann")
    carried = await services.pairings.list(new.id)
    held = await services.pairings.list(new.id, held=True)
    assert [(p.question, p.section, p.carried_from is not None) for p in carried] == [(BADLY_ANSWERED, "4", True)]
    assert sorted((p.section, p.held_reason) for p in held) == [("10.2", "changed"), ("10.4", "gone")]
    assert len(await services.pairings.list(version)) == 3  # the old version keeps its own


async def test_teaching_a_held_question_again_re_attaches_it(services):
    version = await current_id(services)
    await services.pairings.teach(question="how long do we keep prompts", policy_version_id=version, section="10.2",
                                  passage_index=1, actor="gov-1", source="teach")
    new = await services.policies.publish(label="2", text=POLICY.replace("personal storage", "home storage"),
                                          source_name="p.md", published_by="ann")
    [held] = await services.pairings.list(new.id, held=True)
    again = await services.pairings.teach(question=held.question, policy_version_id=new.id, section="10.2",
                                          passage_index=1, actor="gov-1", source="teach", reattach=held.id)
    assert again.active and await services.pairings.list(new.id, held=True) == []
    assert [p.id for p in await services.pairings.list(new.id)] == [again.id]


async def test_over_http_a_question_worded_like_a_taught_one_gets_its_passage_first(bot, connector):
    from support.activities import message

    await bot.post(message(connector, "hello"))
    before = len(await connector.wait_for(2))
    await bot.post(message(connector, BADLY_ANSWERED))
    not_covered = (await connector.wait_for(before + 1))[-1]
    assert "doesn't cover that" in not_covered.get("summary", "")
    version = await bot.services.policies.current_id()
    await bot.services.pairings.teach(question=BADLY_ANSWERED, policy_version_id=version, section="4",
                                      passage_index=1, actor="gov-1", source="governance")
    await bot.post(message(connector, "Is there a list of the good apps?"))
    answer = (await connector.wait_for(before + 2))[-1]
    assert answer["text"].startswith("Here is what the policy says:\n\n**4 Approved tools and ownership** [1]")
    assert TAUGHT_TEXT in answer["text"].split("[2]")[0]
