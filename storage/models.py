"""ORM tables. Only storage/ imports these; the rest of the code gets plain records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Entra object id
    teams_user_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    welcomed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConversationRow(Base):
    """A conversation reference, kept so the bot can write first (proactive messages)."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    service_url: Mapped[str] = mapped_column(String(500))
    channel_id: Mapped[str] = mapped_column(String(50))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    bot_id: Mapped[str] = mapped_column(String(200))
    bot_name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_teams_id: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(300))
    teams_channel_id: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BotStateRow(Base):
    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    etag: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(200))


class QuestionRow(Base):
    """A question asked (redacted), what it was answered with, and the feedback (policy 9.2)."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(300))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    text: Mapped[str] = mapped_column(Text)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    answered: Mapped[bool] = mapped_column(Boolean)
    passages: Mapped[list] = mapped_column(JSON)
    feedback: Mapped[str | None] = mapped_column(String(20))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Passed to the governance team (reference Q-YYYY-NNNN), and what a member answered.
    reference: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    asker_name: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool | None] = mapped_column(Boolean)
    escalation_reason: Mapped[str | None] = mapped_column(String(20))  # asked, not_helpful
    escalation_comment: Mapped[str | None] = mapped_column(Text)
    escalation_status: Mapped[str | None] = mapped_column(String(20), index=True)  # waiting, or how it was answered
    response: Mapped[dict | None] = mapped_column(JSON)
    responder_id: Mapped[str | None] = mapped_column(String(64))
    responder_name: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer_activity_id: Mapped[str | None] = mapped_column(String(200), index=True)  # Teams' id of the answer sent
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ToolRow(Base):
    """The approved-tools register."""

    __tablename__ = "tools"
    __table_args__ = (UniqueConstraint("key", name="uq_tools_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    conditions: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_on: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditHeadRow(Base):
    """One row that every audit append updates first, so appends queue up on every database.
    It counts the entries and holds the newest hash, so entries deleted from the end show."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appended: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class AuditRow(Base):
    """Append-only record of who did what; each entry carries the hash of the one before."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scheme: Mapped[int] = mapped_column(SmallInteger, default=2)  # 1: written before migration 0005
    keyed: Mapped[bool] = mapped_column(Boolean, default=False)  # hash is an HMAC under AUDIT_KEY
    # Free text that goes when its record is purged, with the salt of the digest the chain covers.
    private: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    private_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scrubbed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxRow(Base):
    """A proactive message, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))  # idempotency: one entry per (event, recipient)
    conversation: Mapped[dict] = mapped_column(JSON)
    activity: Mapped[dict] = mapped_column(JSON)
    update_of: Mapped[str | None] = mapped_column(String(300))  # key of the entry whose message this replaces
    status: Mapped[str] = mapped_column(String(20))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))  # who holds the claim: only they may send or settle it
    last_error: Mapped[str | None] = mapped_column(String(500))
    activity_id: Mapped[str | None] = mapped_column(String(300), index=True)  # what Teams called the message it accepted
    # Queued if this entry fails for good: tells whoever was told it was sent that it wasn't ({key, conversation, activity})
    if_failed: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelRow(Base):
    """Team channels registered by an admin for a purpose: governance, security."""

    __tablename__ = "registered_channels"

    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation: Mapped[dict] = mapped_column(JSON)
    registered_by: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("reference", name="uq_incidents_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20))  # INC-YYYY-NNNN
    reporter_id: Mapped[str] = mapped_column(String(64), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text)
    tool_name: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    personal_data: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AcknowledgementRow(Base):
    """A person's confirmation that they have read and understood one policy version (policy 17)."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("user_id", "version_id", name="uq_ack_user_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"), index=True)
    version_label: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(300))
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApprovalRequestRow(Base):
    """A request to use an AI tool (policy 7), and the governance authority's decision on it."""

    __tablename__ = "approval_requests"
    __table_args__ = (UniqueConstraint("reference", name="uq_approval_requests_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20))  # REQ-YYYY-NNNN
    requester_id: Mapped[str] = mapped_column(String(64), index=True)
    requester_name: Mapped[str | None] = mapped_column(String(200))
    tool_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    data_classification: Mapped[str] = mapped_column(String(30))
    data_description: Mapped[str] = mapped_column(Text)
    expected_output: Mapped[str] = mapped_column(Text)
    output_use: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))
    vendor_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(30))
    decided_by_id: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)  # conditions, or the reason for rejecting
    thread: Mapped[list] = mapped_column(JSON)  # questions from approvers and the requester's answers
    version: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReferenceCounterRow(Base):
    """The last number handed out for each prefix and year (INC-2026, REQ-2026), so references never collide."""

    __tablename__ = "reference_counters"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class PairingRow(Base):
    """A question paired with a passage of one policy version (an alternate phrasing the search uses),
    or held for review after publishing found the passage changed or gone."""

    __tablename__ = "qa_pairings"
    __table_args__ = (
        Index("ix_qa_pairings_version_status", "policy_version_id", "status"),
        # One pairing of a question with a passage per version: two clicks at once, or a retry, make one.
        UniqueConstraint("policy_version_id", "status", "question_hash", "passage_hash", name="uq_qa_pairings_one"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    question: Mapped[str] = mapped_column(Text)  # redacted
    question_hash: Mapped[str] = mapped_column(String(64))  # of the redacted question, for the unique key
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    section: Mapped[str] = mapped_column(String(300))
    passage_index: Mapped[int] = mapped_column(Integer)
    passage_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # active, held
    held_reason: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    carried_from: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
