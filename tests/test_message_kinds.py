"""Which messages are not policy questions: about the bot itself, or telling of an incident (plain rules)."""

from __future__ import annotations

import pytest

from domain.chatter import asks_about_the_bot, is_chatter
from domain.incident_talk import tells_of_an_incident

ABOUT_THE_BOT = ["what is this bot", "What can you do?", "are you a real person?", "who made you", "Are you an AI?",
                 "am I talking to a bot", "is this chatgpt?", "what's this?", "how do you work", "can I talk to a human",
                 "can i speak to a real person please", "hi, what are you", "<at>Policy Bot</at> what can you do?",
                 "I want to speak to a person", "r u a bot"]
POLICY_QUESTIONS = ["are you allowed to use chatgpt", "is this a data breach", "can i talk to a human about my DPIA",
                    "what is this policy for", "is it ok to use chatgpt for letters", "who do i report a breach to",
                    "what is generative ai", "what can i use ai for"]
INCIDENTS = ["I pasted a resident's address into ChatGPT", "i accidentally put someones personal details into copilot what now",
             "copilot showed me another team's confidential files", "I think I've uploaded a confidential report to Gemini",
             "my colleague has been putting case notes into chatgpt", "Yesterday I typed a child's name into ChatGPT, what should I do?",
             "ChatGPT made up a court case and I used it in a report", "we uploaded the budget to claude by mistake",
             "i think i breached the policy", "Copilot put a resident's address into a summary sent to the whole team"]
SUPPOSITIONS = ["can I paste a resident's address into ChatGPT?", "what if I upload a spreadsheet to copilot",
                "should I have shared the output with my manager", "is it ok to paste minutes into copilot",
                "what counts as a data breach", "am I allowed to enter names into copilot",
                "what happens if i put personal data in chatgpt", "could someone else end up seeing what i typed into the chatbot?",
                "before I paste anything, what do I check", "I want to use copilot for minutes, is that allowed?",
                "can copilot put actions into my calendar", "does chatgpt keep what is typed into it"]


@pytest.mark.parametrize("text", ABOUT_THE_BOT)
def test_questions_about_the_bot_are_recognised(text):
    assert asks_about_the_bot(text) and not is_chatter(text)


@pytest.mark.parametrize("text", POLICY_QUESTIONS + INCIDENTS)
def test_policy_questions_that_start_alike_are_left_to_the_policy(text):
    assert not asks_about_the_bot(text)


@pytest.mark.parametrize("text", INCIDENTS)
def test_something_that_happened_is_taken_for_an_incident(text):
    assert tells_of_an_incident(text)


@pytest.mark.parametrize("text", SUPPOSITIONS + POLICY_QUESTIONS + ABOUT_THE_BOT)
def test_asking_whether_one_may_is_not_an_incident(text):
    assert not tells_of_an_incident(text)
