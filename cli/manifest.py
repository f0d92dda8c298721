"""`policy-bot manifest`: the Teams app package to upload."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.common import fail, settings_or_exit



def manifest(
    app_id: str = typer.Option(..., "--app-id", help="The bot's Microsoft App ID (a GUID)"),
    out: Path = typer.Option(Path("app.zip"), "--out", help="Where to write the Teams app package (a directory: app.zip inside it)"),
    version: str = typer.Option("1.0.0", "--version", help="App version (x.y.z)"),
    developer_name: Optional[str] = typer.Option(None, "--developer-name", help="Publisher shown in Teams, at most 32 characters [default: ORG_NAME]"),
    website_url: Optional[str] = typer.Option(None, "--website-url", help="The council's page about the app [default: TEAMS_APP_WEBSITE_URL]"),
    privacy_url: Optional[str] = typer.Option(None, "--privacy-url", help="Its privacy notice [default: TEAMS_APP_PRIVACY_URL]"),
    terms_url: Optional[str] = typer.Option(None, "--terms-url", help="Its terms of use [default: TEAMS_APP_TERMS_URL]"),
    short_name: Optional[str] = typer.Option(None, "--short-name", help="At most 30 characters [default: TEAMS_APP_SHORT_NAME]"),
    full_name: Optional[str] = typer.Option(None, "--full-name", help="At most 100 characters [default: TEAMS_APP_FULL_NAME]"),
    short_description: Optional[str] = typer.Option(None, "--short-description", help="At most 80 characters [default: TEAMS_APP_SHORT_DESCRIPTION]"),
    full_description: Optional[str] = typer.Option(None, "--full-description", help="At most 4000 characters [default: TEAMS_APP_FULL_DESCRIPTION]"),
    accent_color: Optional[str] = typer.Option(None, "--accent-color", help="Background of the icon, e.g. #1F5C99 [default: TEAMS_APP_ACCENT_COLOR]"),
    teams_app_id: Optional[str] = typer.Option(None, "--teams-app-id", help="The Teams app's own id, if not the bot's (Agents Toolkit's TEAMS_APP_ID)"),
) -> None:
    """Build the Teams app package (manifest.json with both icons) for upload to Teams."""
    from manifest.package import AppDetails, ManifestError, build_package

    settings = settings_or_exit(log_level="WARNING")
    given = {"developer_name": developer_name, "website_url": website_url, "privacy_url": privacy_url,
             "terms_url": terms_url, "short_name": short_name, "full_name": full_name,
             "short_description": short_description, "full_description": full_description, "accent_color": accent_color}
    from_settings = {"developer_name": settings.org_name, "website_url": settings.teams_app_website_url,
                     "privacy_url": settings.teams_app_privacy_url, "terms_url": settings.teams_app_terms_url,
                     "short_name": settings.teams_app_short_name, "full_name": settings.teams_app_full_name,
                     "short_description": settings.teams_app_short_description,
                     "full_description": settings.teams_app_full_description, "accent_color": settings.teams_app_accent_color}
    details = AppDetails(**{name: value if value is not None else from_settings[name] for name, value in given.items()})
    try:
        written = build_package(app_id=app_id, out=out, version=version, details=details, teams_app_id=teams_app_id)
    except ManifestError as exc:
        fail(str(exc))
    typer.echo(f"wrote {written}")
