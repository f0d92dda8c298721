"""`policy-bot chat`: the real bot logic in this process, with cards drawn as text.

Card actions become numbered choices and card inputs become prompts, so every flow
can be tried without Teams. Messages travel the same router as in Teams.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import re
import textwrap
from dataclasses import dataclass, field

from bot.pipeline import Pipeline
from bot.outbound.worker import DeliveryWorker
from cli import wiring
from cli.serve import prepare
from bot.settings import Settings
from bot.turn import ADAPTIVE_CARD, Incoming
from domain.records import ConversationRef

WIDTH = 78


def plain(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text or "")
    text = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text)
    return re.sub(r"\\([\\`*_{}\[\]()#+!|>~.-])", r"\1", text).replace("\uff1c", "<").replace("\uff1e", ">")


@dataclass
class Choice:
    title: str
    verb: str | None
    data: dict
    inputs: list[dict]


def _choice(title: str, action: dict, inputs: list[dict]) -> Choice:
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    return Choice(title, action.get("verb") or data.get("verb"), data, inputs)


@dataclass
class Screen:
    """Prints what the bot sends and remembers the latest card's actions as numbered choices."""

    write: callable = print
    choices: list[Choice] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def lines_for(self, element: dict, inputs: list[dict], indent: int = 0) -> list[str]:
        kind = element.get("type")
        pad = " " * indent
        if kind == "TextBlock":
            return [
                pad + line
                for paragraph in plain(element.get("text", "")).splitlines()
                for line in (textwrap.wrap(paragraph, WIDTH - indent, subsequent_indent="  " if paragraph.startswith("- ") else "") or [""])
            ]
        if kind == "FactSet":
            return [f"{pad}{plain(f.get('title', ''))}: {plain(f.get('value', ''))}" for f in element.get("facts", [])]
        if kind in ("Container", "Column"):
            return [line for item in element.get("items", []) for line in self.lines_for(item, inputs, indent + 2)]
        if kind == "ColumnSet":
            return [line for col in element.get("columns", []) for line in self.lines_for(col, inputs, indent)]
        if kind and kind.startswith("Input."):
            inputs.append(element)
            label = element.get("label") or element.get("title") or element.get("placeholder") or element.get("id")
            value = element.get("value")
            shown = f" [{value}]" if value not in (None, "") else ""
            error = element.get("errorMessage") if element.get("_invalid") else None
            return [f"{pad}<{plain(str(label))}>{shown}" + (f"  ! {error}" if error else "")]
        if kind == "ActionSet":
            self._collect(element.get("actions", []), inputs)
            return []
        if kind and "Chart" in kind:
            data = element.get("data") or []
            return [f"{pad}{plain(str(d.get('legend', '')))}: {d.get('value')}" for d in data if isinstance(d, dict)]
        return []

    def _collect(self, actions: list[dict], inputs: list[dict]) -> None:
        for action in actions:
            if action.get("type") == "Action.ShowCard":
                # A button that opens a small form: its own inputs come with the parent card's.
                inner = action.get("card") or {}
                own: list[dict] = []
                for element in inner.get("body", []):
                    self.lines_for(element, own)
                for nested in inner.get("actions", []):
                    if nested.get("type") == "Action.Execute":
                        self.choices.append(_choice(action.get("title", "?"), nested, [*inputs, *own]))
            elif action.get("type") in ("Action.Execute", "Action.Submit"):
                self.choices.append(_choice(action.get("title", "?"), action, inputs))

    def show_card(self, card: dict) -> None:
        self.choices = []
        inputs: list[dict] = []
        lines = [line for element in card.get("body", []) for line in self.lines_for(element, inputs)]
        self._collect(card.get("actions", []), inputs)
        self.write("  ┌" + "─" * (WIDTH - 2))
        for line in lines:
            self.write("  │ " + line)
        for number, choice in enumerate(self.choices, start=1):
            self.write(f"  │ [{number}] {plain(choice.title)}")
        self.write("  └" + "─" * (WIDTH - 2))

    def show_activity(self, activity: dict) -> None:
        if activity.get("text"):
            for paragraph in plain(activity["text"]).split("\n\n"):
                self.write("bot> " + textwrap.fill(paragraph, WIDTH, subsequent_indent="     "))
        for attachment in activity.get("attachments", []):
            if attachment.get("contentType") == ADAPTIVE_CARD:
                self.show_card(attachment["content"])

    own_conversation: str = ""

    def _header(self, ref: ConversationRef) -> None:
        if ref.id != self.own_conversation:
            self.write(f"── sent to {ref.kind} {ref.id} ──")

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str:
        self._header(ref)
        self.show_activity(activity)
        return f"local-{next(self.ids)}"

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None:
        self._header(ref)
        self.write(f"(card {activity_id} updated)")
        self.show_activity(activity)


class ChatSession:
    def __init__(self, bot: Pipeline, screen: Screen, user: str) -> None:
        self.bot = bot
        self.screen = screen
        self.ref = ConversationRef(
            id=f"local-chat-{user}", kind="personal", service_url="local://chat", channel_id="msteams",
            bot_id="policy-bot", bot_name="GenAI Policy", user_id=f"local-{user}", user_teams_id=f"local-{user}",
        )
        self.user = user

    def incoming(self, **fields) -> Incoming:
        return Incoming(conversation=self.ref, user_id=self.ref.user_id, user_name=self.user,
                        user_teams_id=self.ref.user_teams_id, **fields)

    async def say(self, text: str) -> None:
        await self.bot.on_incoming(self.incoming(kind="message", text=text))

    async def click(self, choice: Choice, answers: dict) -> None:
        response = await self.bot.on_incoming(
            self.incoming(kind="invoke", invoke_name="adaptiveCard/action", verb=choice.verb, data={**choice.data, **answers})
        )
        if response and response.get("type") == ADAPTIVE_CARD:
            self.screen.show_card(response["value"])
        elif response and isinstance(response.get("value"), str):
            self.screen.write("bot> " + response["value"])


async def _ask(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def run_chat(settings: Settings) -> None:
    problem = await prepare(settings, local=True)
    if problem:
        print(f"policy-bot: {problem}")
        return
    screen = Screen()
    services = wiring.services(settings, screen)
    delivery = DeliveryWorker(services.outbox, screen, idle_seconds=0.2, doorbell=services.doorbell)
    session = ChatSession(wiring.pipeline(services), screen, getpass.getuser())
    screen.own_conversation = session.ref.id
    delivery.start()
    print("Chatting with the GenAI policy bot. Type a question, 'help', a number to press a card button, or 'quit'.")
    await session.bot.on_incoming(session.incoming(kind="install"))
    try:
        while True:
            text = await _ask("you> ")
            if text is None or text.strip().lower() in ("quit", "exit", "bye"):
                break
            text = text.strip()
            if text.isdigit() and 1 <= int(text) <= len(screen.choices):
                choice = screen.choices[int(text) - 1]
                answers = {}
                for element in choice.inputs:
                    label = plain(str(element.get("label") or element.get("title") or element.get("id")))
                    options = element.get("choices") or []
                    if options:
                        label += " (" + " / ".join(str(o.get("value")) for o in options) + ")"
                    elif element.get("type") == "Input.Toggle":
                        label += " (yes / no)"
                    current = element.get("value")
                    typed = await _ask(f"  {label}{f' [{current}]' if current not in (None, '') else ''}: ")
                    answers[element["id"]] = (typed or "").strip() or (current if current is not None else "")
                await session.click(choice, answers)
            elif text:
                await session.say(text)
    finally:
        await delivery.drain(5)
        await delivery.stop()
        await services.approvers.close()
        await services.db.dispose()
