"""Everything a handler may use, built once from settings and passed in; frozen, so no one changes it later.

What runs beside the handlers (the delivery worker, the replies sent after each turn) is not here: the
app owns those. Handlers wake the worker through `deliver_soon()`, which rings the doorbell it listens to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.settings import Settings
from bot.turn import Outbound
from bot.outbound.worker import Doorbell
from bot.microsoft.approvers import ApproverDirectory
from bot.microsoft.graph import GraphClient
from storage.acknowledgements import AcknowledgementRepository
from storage.approvals import ApprovalRepository
from storage.audit import AuditTrail
from storage.channels import ChannelRepository
from storage.incidents import IncidentRepository
from storage.outbox import Outbox
from storage.conversations import ConversationRepository, UserRepository
from storage.db import Database
from storage.pairings import PairingRepository
from storage.policies import PolicyRepository
from storage.question_log import QuestionLog
from storage.questions import QuestionRepository
from storage.tools import ToolRepository

if TYPE_CHECKING:
    from bot.library import PolicyLibrary


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    audit: AuditTrail
    conversations: ConversationRepository
    users: UserRepository
    policies: PolicyRepository
    pairings: PairingRepository
    question_log: QuestionLog
    questions: QuestionRepository
    tools: ToolRepository
    outbound: Outbound
    library: "PolicyLibrary"
    outbox: Outbox
    channels: ChannelRepository
    incidents: IncidentRepository
    acknowledgements: AcknowledgementRepository
    approvals: ApprovalRepository
    approvers: ApproverDirectory
    commands: frozenset[str] = frozenset()  # the route table's typed commands (help and welcome cards list them)
    doorbell: Doorbell = field(default_factory=Doorbell)

    def deliver_soon(self) -> None:
        """Wake this process's delivery worker after a transaction that queued messages has committed."""
        self.doorbell.ring()

    @classmethod
    def build(cls, settings: Settings, outbound: Outbound, db: Database | None = None, *,
              local_chat: bool = False, commands: frozenset[str] = frozenset(),
              graph: GraphClient | None = None) -> "Services":
        """`local_chat`: for the terminal chat, which reaches, counts and sends to only its own people (and the
        service, never them). `graph`: the app's one Graph client, shared with the approver directory (else it
        makes its own)."""
        from bot.library import PolicyLibrary, placeholders

        if db is None:
            from bot.database import open_database

            db = open_database(settings)
        audit = AuditTrail(db, key=settings.audit_key_bytes)
        pairings = PairingRepository(db, audit, placeholders(settings))
        policies = PolicyRepository(db, audit, pairings)
        tools = ToolRepository(db, audit)
        outbox = Outbox(db, base_delay=settings.outbox_base_delay, claim_seconds=settings.outbox_claim_seconds,
                        local_chat=local_chat)
        return cls(
            settings=settings,
            db=db,
            audit=audit,
            conversations=ConversationRepository(db, local_chat=local_chat),
            users=UserRepository(db),
            policies=policies,
            pairings=pairings,
            question_log=QuestionLog(db),
            questions=QuestionRepository(db, audit, outbox),
            tools=tools,
            outbound=outbound,
            library=PolicyLibrary(settings, policies, tools, pairings),
            outbox=outbox,
            channels=ChannelRepository(db, audit),
            incidents=IncidentRepository(db, audit, outbox),
            acknowledgements=AcknowledgementRepository(db, audit, local_chat=local_chat),
            approvals=ApprovalRepository(db, audit, tools, outbox),
            approvers=ApproverDirectory(settings, graph),
            commands=commands,
        )
