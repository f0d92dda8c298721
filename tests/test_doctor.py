"""`policy-bot doctor` against the local Entra ID token endpoint and Microsoft Graph (tests/test_graph.py's fakes),
a real database, and the command line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.doctor import FAIL, OK, WARN, diagnose, render, token_roles
from cli.serve import prepare
from support.bots import make_settings
from storage.audit import AuditTrail
from storage.channels import ChannelRepository
from storage.db import Database
from storage.models import OutboxRow
from domain.records import ConversationRef
from support.microsoft import APP_ID, GROUP, TENANT_ID
from support.processes import run_cli

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def doctor_settings(tmp_path, url: str, **overrides):
    values = dict(app_id=APP_ID, app_password="s3cret-value", app_type="SingleTenant", app_tenant_id=TENANT_ID,
                  authority_host=url, graph_url=url, ca_bundle=tmp_path / "ca.pem", approver_group_id=GROUP,
                  governance_mailbox="ai-board@testshire.gov.uk", mail_sender="policy-bot@testshire.gov.uk",
                  security_ids="aad-security-1")
    values.update(overrides)
    return make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", **values)


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


async def test_a_ready_configuration(tmp_path, microsoft):  # noqa: F811
    microsoft.graph_roles = ["GroupMember.Read.All", "Mail.Send"]
    settings = doctor_settings(tmp_path, microsoft.url)
    assert await prepare(settings, local=True) is None  # migrates, publishes the example policy and register
    db = Database(settings.database_url)
    await ChannelRepository(db, AuditTrail(db)).register(
        "governance", ConversationRef(id="19:gov@thread.tacv2", service_url="https://smba.example", tenant_id=TENANT_ID,
                                      channel_id="msteams", bot_id=APP_ID, kind="channel"), by="aad-admin")
    await db.dispose()

    checks = by_name(await diagnose(lambda: settings, now=datetime.now(timezone.utc) + timedelta(days=3)))
    assert checks["Settings"].status == OK
    assert checks["Database"].status == OK and Database(settings.database_url).head_revision() in checks["Database"].detail
    assert checks["Bot credentials"].status == OK
    assert checks["Graph permissions"].status == OK
    assert checks["Graph permissions"].detail == "granted: GroupMember.Read.All, Mail.Send"
    assert checks["Governance channel"].status == OK
    assert checks["Governance channel"].detail == "registered 3 days ago by aad-admin"
    assert checks["Security channel"].status == WARN and "SECURITY_IDS" in checks["Security channel"].detail
    assert checks["Approvers"].status == WARN  # two group members, neither has talked to the bot yet
    assert checks["Approvers"].detail.startswith("2 approver(s)")
    assert checks["Outbox"].status == OK
    assert checks["Policy"].status == OK and checks["Policy"].detail.startswith("version ")
    # The token endpoint was asked for the Bot Framework and the Graph scopes, in the council's tenant.
    scopes = {(r["tenant"], r["scope"]) for r in microsoft.token_requests}
    assert (TENANT_ID, "https://api.botframework.com/.default") in scopes
    assert (TENANT_ID, f"{microsoft.url}/.default") in scopes
    assert any("transitiveMembers" in path for path in microsoft.graph_requests)
    lines: list[str] = []
    assert render(list(checks.values()), lines.append) == 0
    print("\n".join(lines))
    assert lines[-1] == "\n0 failed, 2 warnings, 8 ok"


async def test_each_problem_is_a_fail_with_its_fix(tmp_path, microsoft):  # noqa: F811
    microsoft.graph_roles = ["GroupMember.Read.All"]  # Mail.Send not granted
    settings = doctor_settings(tmp_path, microsoft.url, security_ids="", governance_ids="")
    assert await prepare(settings, local=True) is None
    db = Database(settings.database_url)
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    async with db.sessions.begin() as session:
        session.add(OutboxRow(key="stuck", conversation={}, activity={}, status="pending", attempts=3,
                              next_attempt_at=old, created_at=old))
        session.add(OutboxRow(key="gave-up", conversation={}, activity={}, status="failed", attempts=8,
                              next_attempt_at=old, created_at=old, last_error="403"))
    await db.dispose()

    checks = by_name(await diagnose(lambda: settings))
    assert checks["Graph permissions"].status == FAIL
    assert checks["Graph permissions"].detail == "missing application permission Mail.Send"
    assert "admin consent" in checks["Graph permissions"].fix
    assert checks["Governance channel"].status == FAIL and "register governance" in checks["Governance channel"].fix
    assert checks["Security channel"].status == FAIL
    assert checks["Outbox"].status == FAIL
    assert checks["Outbox"].detail == "1 waiting, 1 failed, oldest waiting 120 min"

    wrong = doctor_settings(tmp_path, microsoft.url, app_password="not-the-secret")
    checks = by_name(await diagnose(lambda: wrong))
    assert checks["Bot credentials"].status == FAIL
    assert "MicrosoftAppId" in checks["Bot credentials"].fix
    assert checks["Graph permissions"].status == FAIL and "no Microsoft Graph token" in checks["Graph permissions"].detail
    assert checks["Approvers"].status == FAIL and "could not be read" in checks["Approvers"].detail
    lines: list[str] = []
    assert render(list(checks.values()), lines.append) == 1


async def test_an_unmigrated_database_and_an_empty_register(tmp_path, microsoft):  # noqa: F811
    microsoft.graph_roles = ["GroupMember.Read.All", "Mail.Send"]
    settings = doctor_settings(tmp_path, microsoft.url)
    checks = by_name(await diagnose(lambda: settings))
    assert checks["Database"].status == FAIL
    assert checks["Database"].fix == "run `policy-bot db upgrade`"
    assert "Policy" not in checks  # nothing more is asked of a database that isn't ready

    db = Database(settings.database_url)
    await db.upgrade()
    await db.dispose()
    checks = by_name(await diagnose(lambda: settings, now=NOW))
    assert checks["Policy"].status == FAIL and "policy publish" in checks["Policy"].fix
    assert checks["Tool register"].status == WARN and "tools import" in checks["Tool register"].fix


async def test_review_dates_due_are_named(tmp_path, microsoft):  # noqa: F811
    from domain.records import Tool
    from storage.tools import ToolRepository

    microsoft.graph_roles = ["GroupMember.Read.All", "Mail.Send"]
    settings = doctor_settings(tmp_path, microsoft.url)
    assert await prepare(settings, local=True) is None
    db = Database(settings.database_url)
    await ToolRepository(db, AuditTrail(db)).upsert(
        [Tool(name="Gamma", category="public", status="approved", review_due=NOW.date() - timedelta(days=1)),
         Tool(name="Otter", category="public", status="approved", review_due=NOW.date() + timedelta(days=400))],
        actor="test")
    await db.dispose()
    check = by_name(await diagnose(lambda: settings, now=NOW))["Tool register"]
    assert check.status == WARN
    assert "Gamma (2026-11-24)" in check.detail and "Otter" not in check.detail


def test_roles_are_read_from_the_token():
    import jwt

    assert token_roles(jwt.encode({"roles": ["Mail.Send"]}, "a-test-signing-key-of-32-bytes!!", algorithm="HS256")) == {"Mail.Send"}
    assert token_roles(jwt.encode({"scp": "User.Read"}, "a-test-signing-key-of-32-bytes!!", algorithm="HS256")) == set()
    assert token_roles("opaque-token") is None


def test_the_command_exits_non_zero_on_a_fail_and_names_the_setting(tmp_path):
    result = run_cli("doctor", env={"GOVERNANCE_MAILBOX": "ai@testshire.gov.uk", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
                 cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("FAIL  Settings  Configuration: GOVERNANCE_MAILBOX and MAIL_SENDER go together")
    assert "GOVERNANCE_MAILBOX and MAIL_SENDER go together" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
