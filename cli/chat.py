"""`policy-bot chat`: the real bot logic in this process, with cards drawn as text.

Card actions become numbered choices and card inputs become prompts, so every flow
can be tried without Teams. Messages travel the same router as in Teams.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import json
import re
import textwrap
from dataclasses import dataclass, field

from bot.pipeline import Pipeline
from bot.outbound.worker import DeliveryWorker
from cli import wiring
from cli.serve import prepare
from bot.settings import Settings
from bot.turn import ADAPTIVE_CARD, Incoming
from domain.records import LOCAL_CHAT_URL, ConversationRef
from domain.times import plain_card_times

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
    zone: object = None  # the organisation's: the terminal shows cards' {{DATE()}} and {{TIME()}} as plain text in it
    feedback_loop = False  # no Teams feedback control in a terminal: answers keep Helpful / Not helpful buttons
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
        if self.zone is not None:
            card = json.loads(plain_card_times(json.dumps(card), self.zone))
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

    own_conversation: str = ""  # the chat of whoever is typing now
    people: dict[str, str] = field(default_factory=dict)  # conversation id -> the name of the person it is with
    waiting: dict[str, list[tuple[str, dict]]] = field(default_factory=dict)  # for the others, until they switch in

    def _held_for_someone_else(self, ref: ConversationRef, activity: dict, what: str) -> bool:
        """A message for another person of the chat waits for them: their card is theirs to press, not ours."""
        if ref.id == self.own_conversation or ref.id not in self.people:
            return False
        queue = self.waiting.setdefault(ref.id, [])
        queue.append((what, activity))
        if len(queue) > 1:
            return True  # they have been told once already
        name = self.people[ref.id]
        self.write(f"  ({'a card' if activity.get('attachments') else 'a message'} for {name} is waiting: "
                   f"type /switch {name})")
        return True

    def _header(self, ref: ConversationRef) -> None:
        if ref.id != self.own_conversation:
            self.write(f"── sent to {ref.kind} {ref.id} ──")

    def switch_to(self, conversation_id: str) -> None:
        """Show what waited for this person; their latest card's buttons become the numbered choices."""
        self.own_conversation = conversation_id
        self.choices = []
        for what, activity in self.waiting.pop(conversation_id, []):
            if what == "updated":
                self.write("(a card was updated)")
            self.show_activity(activity)

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str:
        if not self._held_for_someone_else(ref, activity, "sent"):
            self._header(ref)
            self.show_activity(activity)
        return f"local-{next(self.ids)}"

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None:
        if self._held_for_someone_else(ref, activity, "updated"):
            return
        self._header(ref)
        self.write(f"(card {activity_id} updated)")
        self.show_activity(activity)


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
# Roles given on the command line, and the settings they add the person to.
ROLE_SETTINGS = {"admin": "admin_ids", "approver": "approver_ids", "governance": "governance_ids",
                 "security": "security_ids", "dpo": "dpo_ids"}


def local_user_id(name: str) -> str:
    return f"local-{name}"


def with_roles(settings: Settings, roles: dict[str, list[str]]) -> Settings:
    """The settings with the chat's people added to the roles named on the command line."""
    return settings.model_copy(update={
        ROLE_SETTINGS[role]: getattr(settings, ROLE_SETTINGS[role]) | {local_user_id(n) for n in names}
        for role, names in roles.items() if names
    })


def roles_of(settings: Settings, name: str) -> list[str]:
    return [role for role, setting in ROLE_SETTINGS.items() if local_user_id(name) in getattr(settings, setting)]


class ChatSession:
    """One person of the terminal chat, in their own 1:1 chat with the bot."""

    def __init__(self, bot: Pipeline, screen: Screen, user: str) -> None:
        self.bot = bot
        self.screen = screen
        self.ref = ConversationRef(
            id=f"local-chat-{user}", kind="personal", service_url=LOCAL_CHAT_URL, channel_id="msteams",
            bot_id="policy-bot", bot_name="GenAI Policy", user_id=local_user_id(user), user_teams_id=local_user_id(user),
        )
        self.user = user
        screen.people[self.ref.id] = user

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


class Cast:
    """Everyone in the terminal chat, and who is typing now. Each person's chat exists from the start (as when the
    app is installed for everyone), so cards for approvers and triage teams reach them at once."""

    def __init__(self, bot: Pipeline, screen: Screen) -> None:
        self.bot = bot
        self.screen = screen
        self.sessions: dict[str, ChatSession] = {}
        self.current: ChatSession | None = None

    async def join(self, name: str) -> ChatSession:
        if name not in self.sessions:
            session = self.sessions[name] = ChatSession(self.bot, self.screen, name)
            await self.bot.on_incoming(session.incoming(kind="install"))
        return self.sessions[name]

    async def switch(self, name: str) -> None:
        roles = roles_of(self.bot.services.settings, name)
        self.screen.write(f"── you are now {name}" + (f" ({', '.join(roles)})" if roles else "") + " ──")
        self.screen.switch_to(f"local-chat-{name}")
        self.current = await self.join(name)


async def _ask(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


def _label(element: dict) -> str:
    return plain(str(element.get("label") or element.get("title") or element.get("id")))


def _option(element: dict, typed: str) -> str | None:
    """The value of the choice typed (its value or its title as the card shows it, in any case), or None when it is
    none of them: "Official sensitive" gives official_sensitive."""
    wanted = " ".join(typed.replace("_", " ").casefold().split())
    return next((str(o.get("value")) for o in element.get("choices") or []
                 if wanted in (" ".join(str(o.get(key)).replace("_", " ").casefold().split()) for key in ("value", "title"))),
                None)


def _alternative(inputs: list[dict], index: int) -> dict | None:
    """The free-text input a card offers instead of an optional choice ("one of these, or type …"): the next input,
    when the choice is optional with nothing chosen and the next is optional text. What is typed at the choice's
    prompt that is none of its options is meant for it."""
    element, following = inputs[index], inputs[index + 1] if index + 1 < len(inputs) else {}
    optional_choice = (element.get("type") == "Input.ChoiceSet" and not element.get("isRequired")
                       and not element.get("isMultiSelect") and element.get("value") in (None, ""))
    optional_text = following.get("type") == "Input.Text" and not following.get("isRequired")
    return following if optional_choice and optional_text else None


def _prompt(element: dict, alternative: dict | None) -> str:
    label = _label(element)
    options = element.get("choices") or []
    if options:
        values = " / ".join(str(o.get("value")) for o in options)
        label += f" ({values}, or type the answer to the next)" if alternative else f" ({values})"
    elif element.get("type") == "Input.Toggle":
        label += " (yes / no)"
    current = element.get("value")
    return f"  {label}{f' [{current}]' if current not in (None, '') else ''}: "


async def _answers(choice: Choice) -> dict:
    """Each input of the card, asked in turn; Enter keeps what the card shows. At an optional choice followed by
    "or type …", text that is none of the options is taken as the typed alternative, which is then not asked."""
    answers: dict = {}
    for index, element in enumerate(choice.inputs):
        if element["id"] in answers:
            continue  # typed at the choice before it
        alternative = _alternative(choice.inputs, index)
        typed = ((await _ask(_prompt(element, alternative))) or "").strip()
        current, option = element.get("value"), _option(element, typed) if typed else None
        if option is not None:
            typed = option
        elif typed and alternative is not None:
            print(f"  {_label(alternative)}: {typed}  (as typed above)")
            answers[element["id"]], answers[alternative["id"]] = "", typed
            continue
        answers[element["id"]] = typed or (current if current is not None else "")
    return answers


HELLO = ("Chatting with the GenAI policy bot. Type a question, 'help', a number to press a card button, "
         "'/switch NAME' to act as someone else, or 'quit'.")


async def run_chat(settings: Settings, *, first: str | None = None, roles: dict[str, list[str]] | None = None) -> None:
    """`first`: who types first (default: this login); `roles`: {"approver": ["alice"], …} for the chat's people."""
    names = [first or getpass.getuser(), *(n for names in (roles or {}).values() for n in names)]
    wrong = [n for n in names if not NAME.fullmatch(n)]
    if wrong:
        print(f"policy-bot: {wrong[0]!r} is not a name for the chat: use letters, digits, '.', '_' or '-'")
        return
    settings = with_roles(settings, roles or {})
    problem = await prepare(settings, local=True)
    if problem:
        print(f"policy-bot: {problem}")
        return
    screen = Screen(zone=settings.zone)
    services = wiring.services(settings, screen)
    delivery = wiring.delivery_for_chat(services, screen)
    cast = Cast(wiring.pipeline(services), screen)
    # No background delivery: what a turn queues is delivered after it (in _loop), so it shows in order.
    print(HELLO)
    try:
        await cast.switch(names[0])
        for name in dict.fromkeys(names[1:]):
            await cast.join(name)
        await _loop(cast, delivery)
    finally:
        await delivery.drain(5)
        await delivery.stop()
        await services.approvers.close()
        await services.db.dispose()


async def _loop(cast: Cast, delivery: DeliveryWorker) -> None:
    screen = cast.screen
    while True:
        await delivery.drain(3)  # what the last turn queued for others has gone before the next prompt
        text = await _ask(f"{cast.current.user}> ")
        if text is None or text.strip().lower().removeprefix("/") in ("quit", "exit", "bye"):
            return
        text = text.strip()
        if text.lower().startswith("/switch"):
            name = text[len("/switch"):].strip()
            if NAME.fullmatch(name):
                await cast.switch(name)
            else:
                screen.write("Type /switch and a name, for example /switch alice.")
        elif text.isdigit() and 1 <= int(text) <= len(screen.choices):
            choice = screen.choices[int(text) - 1]
            await cast.current.click(choice, await _answers(choice))
        elif text:
            await cast.current.say(text)
