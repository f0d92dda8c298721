"""Email through Microsoft Graph `sendMail`, delivered by the outbox like any other proactive message.

An outbox entry whose conversation is of kind "email" holds the address in its id and the message
in its activity's "mail" field; the delivery worker hands it here instead of to Teams."""

from __future__ import annotations

from urllib.parse import quote

from bot.outbound.connector import ConnectorError
from bot.microsoft.graph import GraphClient
from domain.records import ConversationRef

EMAIL = "email"


def mailbox(address: str) -> ConversationRef:
    return ConversationRef(id=address, kind=EMAIL, service_url="", channel_id=EMAIL, bot_id="")


def mail_activity(subject: str, text: str) -> dict:
    return {"type": "mail", "mail": {"subject": subject[:250], "text": text}}


class GraphMailer:
    def __init__(self, graph: GraphClient, sender: str) -> None:
        self._graph = graph
        self._sender = sender

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str | None:
        mail = activity.get("mail") or {}
        message = {
            "message": {
                "subject": mail.get("subject", ""),
                "body": {"contentType": "Text", "content": mail.get("text", "")},
                "toRecipients": [{"emailAddress": {"address": ref.id}}],
            },
            "saveToSentItems": True,
        }
        await self._graph.call("POST", f"/v1.0/users/{quote(self._sender, safe='@')}/sendMail", message)
        return None

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None:
        raise ConnectorError(400, "an email cannot be changed once sent")


class DeliveryOutbound:
    """Sends each outbox entry to Teams, or by email when its conversation is a mailbox."""

    def __init__(self, teams, mailer: GraphMailer | None) -> None:
        self._teams = teams
        self._mailer = mailer

    async def send(self, ref: ConversationRef, activity: dict, reply_to_id: str | None = None) -> str | None:
        if ref.kind == EMAIL:
            if self._mailer is None:
                raise ConnectorError(400, "email is not configured (GOVERNANCE_MAILBOX and MAIL_SENDER)")
            return await self._mailer.send(ref, activity)
        return await self._teams.send(ref, activity, reply_to_id)

    async def update(self, ref: ConversationRef, activity_id: str, activity: dict) -> None:
        await self._teams.update(ref, activity_id, activity)
