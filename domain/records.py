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


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    key: str
    claim_token: str | None
    conversation: ConversationRef
    activity: dict
    update_of: str | None
    status: str
    attempts: int
    last_error: str | None
    activity_id: str | None
    created_at: datetime
    if_failed: dict | None = None


@dataclass(frozen=True)
class Acknowledgement:
    user_id: str
    version_id: int
    version_label: str
    sha256: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class KnownUser:
    user_id: str
    name: str | None
    latest_version: str | None
    acknowledged_at: datetime | None
    current_acknowledged: bool


@dataclass(frozen=True)
class RequestForm:
    """A tool request as the requester filled it in, once checked (domain.approvals.validate_request)."""

    tool_name: str
    purpose: str
    data_classification: str
    data_description: str
    expected_output: str
    output_use: str
    category: str
    vendor_url: str | None


@dataclass(frozen=True)
class ApprovalRequest(RequestForm):
    """A stored tool request: its form, and where it stands."""

    reference: str
    requester_id: str
    requester_name: str | None
    status: str
    decided_by_id: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_note: str | None
    thread: list
    version: int
    requested_at: datetime
    updated_at: datetime

    @property
    def open_question(self) -> dict | None:
        """The approvers' latest question, if the requester has not answered it yet."""
        if self.thread and self.thread[-1].get("kind") == "question":
            return self.thread[-1]
        return None


@dataclass(frozen=True)
class IncidentForm:
    """An incident report as the reporter filled it in, once checked (domain.incidents.validate_report)."""

    description: str
    tool_name: str
    occurred_at: datetime
    personal_data: str
    category: str
    severity: str
    anonymous: bool


@dataclass(frozen=True)
class Incident(IncidentForm):
    """A stored incident report: its form, and its triage."""

    reference: str
    reporter_id: str
    reporter_name: str | None
    status: str
    assignee_id: str | None
    assignee_name: str | None
    outcome: str | None
    notes: list
    version: int
    reported_at: datetime
    updated_at: datetime
