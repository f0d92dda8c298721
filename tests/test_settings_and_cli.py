"""Settings, start-up refusals and the command line, run as a user would run them."""

from __future__ import annotations

import json

import pytest

from bot.settings import Settings, SettingsError, load_settings
from support.processes import ROOT, free_port, run_cli

def test_bot_framework_names_and_id_lists_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MicrosoftAppId", "app")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppType", "MultiTenant")
    monkeypatch.setenv("ADMIN_IDS", " a, b ,,c ")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.internal/bot")
    settings = Settings(_env_file=None)
    assert settings.app_id == "app" and settings.app_password == "secret"
    assert settings.admin_ids == {"a", "b", "c"}
    assert settings.database_url == "postgresql+asyncpg://u:p@db.internal/bot"
    assert "secret" not in repr(settings)
    assert Settings(_env_file=None, database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"database_url": "mysql://x/y"}, "Setting DATABASE_URL"),
        ({"port": "eighty"}, "Setting PORT"),
        ({"policy_path": "/no/such/policy.md"}, "Setting POLICY_PATH"),
        ({"app_id": "x", "app_type": "MultiTenant"}, "MicrosoftAppPassword"),
        ({"app_id": "x", "app_password": "y"}, "MicrosoftAppTenantId"),
        ({"approver_group_id": "g"}, "APPROVER_GROUP_ID needs the bot's credentials"),
        ({"governance_mailbox": "ai@council.gov.uk"}, "GOVERNANCE_MAILBOX and MAIL_SENDER go together"),
        ({"graph_url": "http://graph.local"}, "Setting GRAPH_URL: must be an https:// address"),
        ({"ca_bundle": "/no/such/ca.pem"}, "Setting CA_BUNDLE"),
        ({"audit_key": "too-short"}, "Setting AUDIT_KEY: must be at least 32 characters"),
        ({"timezone": "Europe/Londn"}, "Setting TIMEZONE: 'Europe/Londn' is not a time zone name such as Europe/London"),
        ({"timezone": "Europe"}, "Setting TIMEZONE"),
        ({"app_id": "x", "app_type": "MultiTenant", "app_certificate_path": "/no/cert.pem"}, "Setting MicrosoftAppCertificatePath"),
    ],
)
def test_bad_settings_name_the_setting_in_one_line(overrides, named):
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, **overrides)
    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_serve_refuses_without_credentials_unless_local(tmp_path):
    result = run_cli("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2
    assert "MicrosoftAppId" in result.stderr and "--local" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_mode_only_on_loopback(tmp_path):
    result = run_cli("serve", "--local", env={"HOST": "0.0.0.0", "DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2
    assert "Setting HOST" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_setting_stops_start_up_with_one_plain_line(tmp_path):
    result = run_cli("serve", "--local", env={"PORT": "99999", "DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("policy-bot: Setting PORT")


def test_serve_with_credentials_refuses_a_database_that_is_behind(tmp_path):
    # A port of its own: `serve` binds it before anything else, and 3978 may be another bot's (or another test's).
    env = {"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw", "MicrosoftAppType": "MultiTenant",
           "DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "PORT": str(free_port())}
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert "policy-bot db upgrade" in result.stderr and "pw" not in result.stderr
    assert run_cli("db", "upgrade", env=env).returncode == 0


def test_ask_json_and_batch_print_only_json(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    one = run_cli("ask", "--json", "Does the policy apply to agency workers?", env=env)
    assert one.returncode == 0, one.stderr
    payload = json.loads(one.stdout)
    assert payload["answered"] is True
    first = payload["results"][0]
    assert first["section"] == "2" and first["title"] == "Scope" and len(first["text"]) <= 500
    assert isinstance(first["score"], float)

    batch = run_cli("ask", "--batch", "--policy", str(ROOT / "domain/data/example-policy.md"),
                stdin="How do I claim mileage?\nDo I need a DPIA before using AI on personal data?\n", env=env)
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["answered"] for line in lines] == [False, True]
    assert lines[0]["results"] == []
    assert lines[1]["results"][0]["section"].startswith("10.")


def test_policy_publish_and_list(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    policy = ROOT / "domain/data/example-policy.md"
    published = run_cli("policy", "publish", str(policy), "--version", "2.0", "--by", "tester", env=env)
    assert published.returncode == 0 and "asked 0 people to acknowledge it" in published.stdout
    again = run_cli("policy", "publish", str(policy), "--version", "2.0", env=env)
    assert again.returncode == 2 and "already published" in again.stderr
    missing = run_cli("policy", "publish", str(tmp_path / "nope.md"), "--version", "3", env=env)
    assert missing.returncode == 2 and "no file" in missing.stderr and "Traceback" not in missing.stderr
    listing = run_cli("policy", "list", env=env)
    assert "2.0" in listing.stdout and "tester" in listing.stdout


def test_tools_import_and_list(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    csv = tmp_path / "register.csv"
    csv.write_text("name,aliases,category,status,conditions,review_due\n"
                   "Claude,Anthropic Claude,public,approved with conditions,No personal data,2027-05-01\n")
    result = run_cli("tools", "import", str(csv), env=env)
    assert result.returncode == 0 and "1 added" in result.stdout
    assert "Claude\tapproved with conditions" in run_cli("tools", "list", env=env).stdout
    csv.write_text("name,category,status\nThing,cloud,approved\n")
    bad = run_cli("tools", "import", str(csv), env=env)
    assert bad.returncode == 2 and "row 2 (Thing): category 'cloud'" in bad.stderr


def test_chat_in_the_terminal(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    result = run_cli("chat", env=env, stdin="Can I use AI to translate a letter?\n1\ntools\nquit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "GenAI policy assistant" in out  # welcome card drawn as text
    assert "7.1 Permitted uses [1]" in out
    assert "[1] Read section 7.1" in out
    assert "Microsoft 365 Copilot Chat" in out


def test_requesting_a_tool_in_the_terminal_chat(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db", "LOG_LEVEL": "ERROR"}
    answers = ["request tool Gamma", "1", "", "Draft slides for briefings", "nonsense", "Published reports", "Slides",
               "Internal briefings", "public", "", "1", "", "", "public", "", "", "", "", "", "my requests", "quit"]
    result = run_cli("chat", env=env, stdin="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "<Which AI tool?> [Gamma]" in out
    assert "Please choose one of the options listed." in out  # the form came back with the problem named
    assert "[Draft slides for briefings]" in out  # and with what was typed
    assert "Request received: REQ-" in out and "Gamma: Pending" in out
