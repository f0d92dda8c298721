"""`policy-bot doctor`: is this configuration ready for staff? Each check says OK, WARN or FAIL, and the fix.

Every check runs against the real thing: the database, Entra ID for the bot's token, Microsoft Graph's
token for its permissions, the stored channels, outbox, policy and register. Nothing is changed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from bot.settings import Settings, SettingsError, load_settings

OK, WARN, FAIL = "OK", "WARN", "FAIL"
GROUP_PERMISSION = "GroupMember.Read.All"
MAIL_PERMISSION = "Mail.Send"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _age(when: datetime, now: datetime) -> str:
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    days = (now - when).days
    return "today" if days < 1 else ("1 day ago" if days == 1 else f"{days} days ago")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def token_roles(token: str) -> set[str] | None:
    """The application permissions (`roles` claim) in an access token; None if it is not a readable JWT.

    Only reads our own freshly issued token's payload; Microsoft Graph, not us, verifies its signature."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    roles = claims.get("roles", []) if isinstance(claims, dict) else None
    return set(roles) if isinstance(roles, list) else None


def check_settings(load: Callable[[], Settings] = load_settings) -> tuple[Check, Settings | None]:
    try:
        settings = load()
    except SettingsError as exc:
        return Check("Settings", FAIL, str(exc), "correct that setting (README, Configuration)"), None
    if not settings.has_credentials:
        return Check("Settings", WARN, "valid, but MicrosoftAppId is not set: only `policy-bot serve --local` will run",
                     "set MicrosoftAppId and its password, certificate or MicrosoftAppType=UserAssignedMSI"), settings
    where = "SQLite (one instance only)" if settings.is_sqlite else "PostgreSQL"
    return Check("Settings", OK, f"valid; {settings.app_type} bot, {where}"
                 + (", signing in with Entra ID" if settings.database_auth == "entra" else "")), settings


class Doctor:
    def __init__(self, settings: Settings, *, now: datetime | None = None) -> None:
        self.settings = settings
        self.now = now or datetime.now(timezone.utc)

    async def run(self) -> list[Check]:
        from bot.database import open_database

        checks: list[Check] = []
        db = open_database(self.settings)
        try:
            database = await self.database(db)
            checks.append(database)
            checks.extend(await self.credentials())
            if database.status != FAIL:
                checks.extend(await self.channels(db))
                checks.append(await self.approvers(db))
                checks.append(await self.outbox(db))
                checks.append(await self.policy(db))
                checks.append(await self.register(db))
        finally:
            await db.dispose()
        return checks

    async def database(self, db) -> Check:
        problem = await db.schema_problem()
        if problem is None:
            return Check("Database", OK, f"reachable, schema at {await db.current_revision()}")
        if "unreachable" in problem:
            fix = ("check DATABASE_URL, the network path and, with DATABASE_AUTH=entra, that the identity is a "
                   "PostgreSQL Entra principal (docs/runbook.md)")
            return Check("Database", FAIL, problem, fix)
        return Check("Database", FAIL, problem.split(";")[0], "run `policy-bot db upgrade`")

    async def _token(self, scope: str, *, tenant: str | None = None) -> str:
        from bot.microsoft.credentials import build_credential

        credential = build_credential(self.settings, tenant=tenant)
        try:
            return (await credential.get_token(scope)).token
        finally:
            await credential.close()

    async def credentials(self) -> list[Check]:
        from bot.microsoft.credentials import BOT_SCOPE

        settings = self.settings
        if not settings.has_credentials:
            return [Check("Bot credentials", WARN, "none set (local mode)", "set MicrosoftAppId and its credential")]
        checks = []
        try:
            await self._token(BOT_SCOPE)
            checks.append(Check("Bot credentials", OK, f"a Bot Framework token was issued for {settings.app_id}"))
        except Exception as exc:  # any failure to sign in is reported, not raised
            checks.append(Check("Bot credentials", FAIL, f"no Bot Framework token: {_first_line(exc)}",
                                "check MicrosoftAppId, MicrosoftAppTenantId and the secret, certificate or managed identity"))
        needed = {p for p, on in ((GROUP_PERMISSION, settings.approver_group_id),
                                  (MAIL_PERMISSION, settings.governance_mailbox)) if on}
        if not needed:
            checks.append(Check("Graph permissions", OK, "none needed (no APPROVER_GROUP_ID, no GOVERNANCE_MAILBOX)"))
            return checks
        try:
            token = await self._token(f"{settings.graph_url}/.default", tenant=settings.app_tenant_id or None)
        except Exception as exc:
            checks.append(Check("Graph permissions", FAIL, f"no Microsoft Graph token: {_first_line(exc)}",
                                "check MicrosoftAppTenantId and the bot's credential"))
            return checks
        roles = token_roles(token)
        if roles is None:
            checks.append(Check("Graph permissions", WARN, "the Graph token's permissions could not be read",
                                f"make sure the app has {', '.join(sorted(needed))}"))
        elif needed - roles:
            missing = ", ".join(sorted(needed - roles))
            checks.append(Check("Graph permissions", FAIL, f"missing application permission {missing}",
                                f"grant {missing} (application) to the bot's app or managed identity and give admin "
                                "consent (docs/runbook.md, Graph permissions)"))
        else:
            checks.append(Check("Graph permissions", OK, f"granted: {', '.join(sorted(needed))}"))
        return checks

    async def channels(self, db) -> list[Check]:
        from sqlalchemy import select

        from storage.models import ChannelRow

        async with db.sessions() as session:
            rows = {row.purpose: row for row in (await session.execute(select(ChannelRow))).scalars()}
        checks = []
        for purpose, fallback, env in (("governance", self.settings.governance_ids, "GOVERNANCE_IDS"),
                                       ("security", self.settings.security_ids, "SECURITY_IDS")):
            row = rows.get(purpose)
            name = f"{purpose.capitalize()} channel"
            if row:
                checks.append(Check(name, OK, f"registered {_age(row.registered_at, self.now)} by {row.registered_by}"))
            elif fallback:
                checks.append(Check(name, WARN, f"not registered; cards go 1:1 to the {len(fallback)} people in {env}",
                                    f"an admin types `register {purpose}` in the team's channel, mentioning the bot"))
            else:
                checks.append(Check(name, FAIL, f"not registered and {env} is empty: {purpose} cards reach nobody",
                                    f"an admin types `register {purpose}` in the team's channel, mentioning the bot"))
        return checks

    async def approvers(self, db) -> Check:
        from bot.microsoft.approvers import ApproverDirectory, DirectoryUnavailable
        from storage.conversations import ConversationRepository

        directory = ApproverDirectory(self.settings)
        try:
            ids = set(self.settings.approver_ids)
            if self.settings.approver_group_id:
                try:
                    ids |= await directory.group_members()
                except DirectoryUnavailable as exc:
                    return Check("Approvers", FAIL, f"the approver group could not be read: {str(exc)[:150]}",
                                 "check APPROVER_GROUP_ID and the GroupMember.Read.All permission")
        finally:
            await directory.close()
        if not ids:
            return Check("Approvers", FAIL, "nobody can decide tool requests", "set APPROVER_IDS or APPROVER_GROUP_ID")
        reachable = await ConversationRepository(db).personal_for_many(sorted(ids))
        detail = f"{len(ids)} approver(s); {len(reachable)} have a 1:1 chat with the bot"
        if not reachable:
            return Check("Approvers", WARN, detail, "approvers receive cards in the governance channel, or 1:1 once "
                         "they have the app: a Teams admin can install it for them")
        return Check("Approvers", OK, detail)

    async def outbox(self, db) -> Check:
        from storage.health import outbox_health

        health = await outbox_health(db)
        detail = f"{health.pending} waiting, {health.failed} failed"
        if health.pending:
            detail += f", oldest waiting {int(health.oldest_pending_seconds // 60)} min"
        if health.oldest_pending_seconds > 3600:
            return Check("Outbox", FAIL, detail, "is the service running? Then see docs/runbook.md, The outbox is stuck")
        if health.failed:
            return Check("Outbox", WARN, detail, "read the errors with `policy-bot outbox list --status failed`, fix "
                         "the cause, then `policy-bot outbox retry`")
        return Check("Outbox", OK, detail)

    async def policy(self, db) -> Check:
        from storage.audit import AuditTrail
        from storage.policies import PolicyRepository

        current = await PolicyRepository(db, AuditTrail(db)).current()
        if current is None:
            return Check("Policy", FAIL, "no policy published", "run `policy-bot policy publish FILE --version LABEL`")
        detail = f"version {current.label} published {_age(current.published_at, self.now)} by {current.published_by}"
        published = current.published_at if current.published_at.tzinfo else current.published_at.replace(tzinfo=timezone.utc)
        if self.now - published > timedelta(days=365):
            return Check("Policy", WARN, detail + "; the policy is reviewed yearly (section 16)",
                         "review it and publish the new version")
        return Check("Policy", OK, detail)

    async def register(self, db) -> Check:
        from storage.audit import AuditTrail
        from storage.tools import ToolRepository

        tools = await ToolRepository(db, AuditTrail(db)).all()
        if not tools:
            return Check("Tool register", WARN, "empty: every tool is presumed unauthorised",
                         "run `policy-bot tools import register.csv`")
        today: date = self.now.date()
        due = sorted((t for t in tools if t.review_due and t.review_due <= today), key=lambda t: t.review_due)
        soon = [t for t in tools if t.review_due and today < t.review_due <= today + timedelta(days=30)]
        if due:
            names = ", ".join(f"{t.name} ({t.review_due:%Y-%m-%d})" for t in due[:5]) + (" …" if len(due) > 5 else "")
            return Check("Tool register", WARN, f"{len(due)} of {len(tools)} tools past their review date: {names}",
                         "review them and re-import the register with new review dates")
        return Check("Tool register", OK, f"{len(tools)} tools; none past review"
                     + (f", {len(soon)} due within 30 days" if soon else ""))


async def diagnose(load: Callable[[], Settings] = load_settings, *, now: datetime | None = None) -> list[Check]:
    settings_check, settings = check_settings(load)
    if settings is None:
        return [settings_check]
    return [settings_check, *await Doctor(settings, now=now).run()]


def render(checks: list[Check], echo: Callable[[str], None]) -> int:
    """Print the checklist; the exit code is 1 if anything failed."""
    width = max(len(c.name) for c in checks)
    for check in checks:
        echo(f"{check.status:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != OK:
            echo(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    echo(f"\n{failed} failed, {warned} warnings, {len(checks) - failed - warned} ok")
    return 1 if failed else 0

