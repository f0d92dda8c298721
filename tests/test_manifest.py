"""The Teams app manifest validates against Microsoft's schema, and the package builds."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import jsonschema

from manifest.package import HERE, render_manifest
from test_settings_and_cli import run

SCHEMAS = Path(__file__).parent / "node" / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
APP_ID = "6f1f6d2c-1b7e-4a53-9d0f-2a4c8e1b9f00"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def schema_for(manifest: dict) -> dict:
    path = SCHEMAS / f"v{manifest['manifestVersion']}" / "MicrosoftTeams.schema.json"
    assert path.is_file(), f"no schema for manifest version {manifest['manifestVersion']} (run make node-deps)"
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_validates_against_the_official_schema():
    manifest = render_manifest(app_id=APP_ID, version="1.2.3", org_name="Testshire Council")
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
    result = run("manifest", "--app-id", APP_ID, "--out", str(out))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["id"] == APP_ID
    bad = run("manifest", "--app-id", "not-a-guid", "--out", str(out))
    assert bad.returncode == 2 and "GUID" in bad.stderr


def test_every_command_in_the_manifest_is_one_the_bot_understands():
    from bot.router import normalise_command
    from bot.routes import build_router

    router = build_router()
    manifest = json.loads((HERE / "manifest.json").read_text())
    titles = [c["title"] for lists in manifest["bots"][0]["commandLists"] for c in lists["commands"]]
    for title in titles:
        assert any(normalise_command(title) == c or normalise_command(title).startswith(c + " ") for c in router.commands()), title


def test_the_agents_toolkit_teams_app_id_is_the_manifest_id_and_the_bot_keeps_its_own():
    teams_app_id = "0c5a3f9e-2d4b-4c1a-8e7f-5b6a7c8d9e0f"
    manifest = render_manifest(app_id=APP_ID, version="1.0.0", org_name="Testshire Council", teams_app_id=teams_app_id)
    assert manifest["id"] == teams_app_id
    assert manifest["bots"][0]["botId"] == APP_ID
    assert not list(jsonschema.Draft4Validator(schema_for(manifest)).iter_errors(manifest))
