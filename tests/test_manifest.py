"""The Teams app manifest validates against Microsoft's schema, and the package builds."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import jsonschema

from manifest.package import HERE, AppDetails, render_manifest
from support.processes import run_cli

SCHEMAS = Path(__file__).parent / "node" / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
APP_ID = "6f1f6d2c-1b7e-4a53-9d0f-2a4c8e1b9f00"
PAGES = {"TEAMS_APP_WEBSITE_URL": "https://www.testshire.gov.uk/ai-assistant",
         "TEAMS_APP_PRIVACY_URL": "https://www.testshire.gov.uk/privacy/ai-assistant",
         "TEAMS_APP_TERMS_URL": "https://www.testshire.gov.uk/ai-assistant/terms"}
DETAILS = AppDetails(developer_name="Testshire Council", website_url=PAGES["TEAMS_APP_WEBSITE_URL"],
                     privacy_url=PAGES["TEAMS_APP_PRIVACY_URL"], terms_url=PAGES["TEAMS_APP_TERMS_URL"],
                     short_name="AI Policy", full_name="Testshire AI Policy Helper",
                     short_description="Testshire's rules on AI tools, quoted.", full_description="Ask about AI at Testshire.",
                     accent_color="#00703C")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def schema_for(manifest: dict) -> dict:
    path = SCHEMAS / f"v{manifest['manifestVersion']}" / "MicrosoftTeams.schema.json"
    assert path.is_file(), f"no schema for manifest version {manifest['manifestVersion']} (run make node-deps)"
    return json.loads(path.read_text(encoding="utf-8"))


def newest_schema_version() -> str:
    versions = [p.name[1:] for p in SCHEMAS.iterdir() if p.name[1:2].isdigit()]  # not vDevPreview
    return max(versions, key=lambda v: tuple(int(n) for n in v.split(".")))


def test_manifest_uses_the_newest_schema_the_pinned_package_ships():
    manifest = json.loads((HERE / "manifest.json").read_text())
    newest = newest_schema_version()
    assert manifest["manifestVersion"] == newest
    assert manifest["$schema"] == f"https://developer.microsoft.com/json-schemas/teams/v{newest}/MicrosoftTeams.schema.json"


def test_manifest_validates_against_the_official_schema():
    manifest = render_manifest(app_id=APP_ID, version="1.2.3", details=DETAILS)
    validator = jsonschema.Draft4Validator(schema_for(manifest))
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    bot = manifest["bots"][0]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["botId"] == APP_ID


def test_icons_are_the_sizes_teams_requires():
    assert png_size(HERE / "color.png") == (192, 192)
    assert png_size(HERE / "outline.png") == (32, 32)
    data = (HERE / "outline.png").read_bytes()
    assert data[25] == 6  # colour type 6: RGBA, so the outline can be transparent


def test_manifest_command_builds_the_app_package(tmp_path):
    out = tmp_path / "app.zip"
    result = run_cli("manifest", "--app-id", APP_ID, "--out", str(out), env=PAGES)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["id"] == APP_ID
    bad = run_cli("manifest", "--app-id", "not-a-guid", "--out", str(out), env=PAGES)
    assert bad.returncode == 2 and "GUID" in bad.stderr


def test_what_teams_shows_comes_from_settings_and_options(tmp_path):
    env = {**PAGES, "ORG_NAME": "Testshire County Council", "TEAMS_APP_SHORT_NAME": "AI Policy",
           "TEAMS_APP_ACCENT_COLOR": "#00703C"}
    result = run_cli("manifest", "--app-id", APP_ID, "--out", str(tmp_path), "--terms-url", "https://intranet.testshire.gov.uk/ai-terms",
                 "--full-description", "Testshire's AI rules, quoted with section numbers.", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {tmp_path / 'app.zip'}"  # --out a directory: the package goes inside it
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["developer"] == {"name": "Testshire County Council", "websiteUrl": PAGES["TEAMS_APP_WEBSITE_URL"],
                                     "privacyUrl": PAGES["TEAMS_APP_PRIVACY_URL"],
                                     "termsOfUseUrl": "https://intranet.testshire.gov.uk/ai-terms"}
    assert manifest["name"]["short"] == "AI Policy" and manifest["accentColor"] == "#00703C"
    assert manifest["description"]["full"] == "Testshire's AI rules, quoted with section numbers."
    assert "example" not in json.dumps(manifest)
    errors = list(jsonschema.Draft4Validator(schema_for(manifest)).iter_errors(manifest))
    assert not errors, [e.message for e in errors]


def test_a_package_without_the_councils_own_pages_is_refused(tmp_path):
    out = tmp_path / "app.zip"
    unset = run_cli("manifest", "--app-id", APP_ID, "--out", str(out))
    assert unset.returncode == 2 and len(unset.stderr.strip().splitlines()) == 1
    for name in PAGES:
        assert name in unset.stderr
    example = run_cli("manifest", "--app-id", APP_ID, "--out", str(out), "--privacy-url", "https://www.example.gov.uk/privacy",
                  env=PAGES)
    assert example.returncode == 2 and "TEAMS_APP_PRIVACY_URL (or --privacy-url) is an example address" in example.stderr
    plain = run_cli("manifest", "--app-id", APP_ID, "--out", str(out), "--website-url", "http://testshire.gov.uk", env=PAGES)
    assert plain.returncode == 2 and "must be an https:// address" in plain.stderr
    long_name = run_cli("manifest", "--app-id", APP_ID, "--out", str(out), "--short-name", "x" * 31, env=PAGES)
    assert long_name.returncode == 2 and "at most 30 characters" in long_name.stderr
    colour = run_cli("manifest", "--app-id", APP_ID, "--out", str(out), "--accent-color", "blue", env=PAGES)
    assert colour.returncode == 2 and "TEAMS_APP_ACCENT_COLOR" in colour.stderr
    assert not out.exists()
    assert "Traceback" not in unset.stderr + example.stderr + plain.stderr + long_name.stderr + colour.stderr


def test_every_command_in_the_manifest_is_one_the_bot_understands():
    from bot.router import normalise_command
    from dialogs.routes import build_router

    router = build_router()
    manifest = json.loads((HERE / "manifest.json").read_text())
    titles = [c["title"] for lists in manifest["bots"][0]["commandLists"] for c in lists["commands"]]
    for title in titles:
        assert any(normalise_command(title) == c or normalise_command(title).startswith(c + " ") for c in router.commands()), title


def test_the_agents_toolkit_teams_app_id_is_the_manifest_id_and_the_bot_keeps_its_own():
    teams_app_id = "0c5a3f9e-2d4b-4c1a-8e7f-5b6a7c8d9e0f"
    manifest = render_manifest(app_id=APP_ID, version="1.0.0", details=DETAILS, teams_app_id=teams_app_id)
    assert manifest["id"] == teams_app_id
    assert manifest["bots"][0]["botId"] == APP_ID
    assert not list(jsonschema.Draft4Validator(schema_for(manifest)).iter_errors(manifest))
