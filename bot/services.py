"""Everything a handler may use, built once from settings and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from bot.turn import Outbound
from storage.audit import AuditTrail
from storage.bot_state import SqlStorage
from storage.conversations import ConversationRepository, UserRepository
from storage.db import Database
from storage.policies import PolicyRepository
from storage.questions import QuestionRepository
from storage.tools import ToolRepository


@dataclass
class Services:
    settings: Settings
    db: Database
    audit: AuditTrail
    conversations: ConversationRepository
    users: UserRepository
    policies: PolicyRepository
    questions: QuestionRepository
    tools: ToolRepository
    state: SqlStorage
    outbound: Outbound
    library: "PolicyLibrary"
    commands: frozenset[str] = frozenset()

    @classmethod
    def build(cls, settings: Settings, outbound: Outbound, db: Database | None = None) -> "Services":
        from bot.library import PolicyLibrary

        db = db or Database(settings.database_url)
        audit = AuditTrail(db)
        policies = PolicyRepository(db, audit)
        tools = ToolRepository(db, audit)
        return cls(
            settings=settings,
            db=db,
            audit=audit,
            conversations=ConversationRepository(db),
            users=UserRepository(db),
            policies=policies,
            questions=QuestionRepository(db),
            tools=tools,
            state=SqlStorage(db),
            outbound=outbound,
            library=PolicyLibrary(settings, policies, tools),
        )
