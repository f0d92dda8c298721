"""Plain, immutable records that repositories hand to the rest of the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class ConversationRef:
    """Enough about a conversation to write into it later without being asked."""

    id: str
    kind: str  # personal, channel, groupChat
    service_url: str
    channel_id: str
    bot_id: str
    tenant_id: str | None = None
    bot_name: str | None = None
    user_id: str | None = None
    user_teams_id: str | None = None
    team_id: str | None = None
    teams_channel_id: str | None = None


@dataclass(frozen=True)
class PolicyVersion:
    id: int
    label: str
    sha256: str
    source_name: str
    text: str
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class Tool:
    name: str
    category: str
    status: str
    aliases: tuple[str, ...] = ()
    conditions: str | None = None
    approved_by: str | None = None
    approved_on: date | None = None
    review_due: date | None = None


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    user_id: str
    asked_at: datetime
    text: str
    redacted: bool
    answered: bool
    passages: list = field(default_factory=list)
    feedback: str | None = None
    escalated_at: datetime | None = None
    policy_version_id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict
    prev_hash: str
    hash: str
    scheme: int = 2
    keyed: bool = False
    private: dict | None = None  # {"salt": …, "text": {…}}: free text under retention, until its record is purged
    private_digest: str | None = None
    scrubbed_at: datetime | None = None

    @property
    def words(self) -> dict:
        """The free text kept beside the entry (notes, outcomes, reasons) until its record is purged."""
        return dict((self.private or {}).get("text") or {})


@dataclass(frozen=True)
class Notification:
    """A proactive message to queue in the outbox with the change that causes it."""

    key: str
    conversation: ConversationRef
    activity: dict
    update_of: str | None = None
    undeliverable: str | None = None
    # Sent if this one fails for good, to whoever was told it had been sent (a receipt said so)
    if_failed: "Notification | None" = None
