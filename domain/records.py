"""Plain, immutable records that repositories hand to the rest of the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# The terminal chat's (`policy-bot chat`) conversations carry this service URL. They belong to the chat alone:
# the service never sends to them, reminds them or counts them, and the chat sends to nothing else.
LOCAL_CHAT_URL = "local://chat"
# A message that could not be routed when it was written is stored addressed to "unreachable:<recipient name>"
# (a team's purpose, "<purpose>:<user id>", or a user id) and routed again later (dialogs/rerouting.py).
UNREACHABLE = "unreachable:"


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
    reference: str | None = None  # Q-YYYY-NNNN once passed to the governance team
    asker_name: str | None = None
    anonymous: bool = False
    escalation_reason: str | None = None  # asked, not_helpful
    escalation_comment: str | None = None
    escalation_status: str | None = None  # waiting, passage, answer, not_covered, not_policy
    response: dict | None = None  # passage {section, title, text}, or {text}: what the member answered
    responder_name: str | None = None
    responded_at: datetime | None = None
    version: int = 1

    @property
    def waiting(self) -> bool:
        return self.escalation_status == "waiting"


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


@dataclass(frozen=True)
class PairingRecord:
    """A question paired with the passage that answers it, for one policy version: an alternate phrasing
    the search uses for later questions worded like it. `status` is "active", or "held" when publishing a
    new version found the passage changed or gone (`held_reason`), to be re-attached or forgotten."""

    id: int
    policy_version_id: int
    question: str  # redacted, as questions are stored
    redacted: bool
    section: str
    passage_index: int  # the paragraph or list item's position in its section, from 1
    passage_hash: str  # of the passage's text, so the pairing can follow it into later versions
    status: str
    source: str  # teach, import, governance, carried
    created_by: str
    created_at: datetime
    held_reason: str | None = None  # changed, gone
    carried_from: int | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class QuestionGroup:
    """Questions worded alike (redacted, as stored): one wording shown, how many, when last asked."""

    wording: str
    count: int
    last_asked: datetime


@dataclass(frozen=True)
class WaitingEscalation:
    question_id: int
    wording: str
    escalated_at: datetime
    age_days: int
    reference: str = ""  # Q-YYYY-NNNN

    @property
    def named(self) -> str:
        return self.reference or f"question {self.question_id}"


@dataclass(frozen=True)
class QuestionsReport:
    """What staff asked, for the annual review (policy 16): everything in it is redacted as stored."""

    since: datetime | None
    until: datetime
    total: int
    weekly: list  # (Monday's date, questions that week), oldest first, empty weeks included
    sections: list  # (section, title, questions citing it), most cited first
    unanswered: list  # QuestionGroup, most frequent first
    not_helpful: list  # QuestionGroup, most frequent first
    waiting: list  # WaitingEscalation, oldest first
    answered_without_person: int  # answered, and not passed to the governance team
    unsure: list = field(default_factory=list)  # QuestionGroup: answered, but the best passage only just cleared the bar

    @property
    def share_without_person(self) -> float:
        return self.answered_without_person / self.total if self.total else 0.0
