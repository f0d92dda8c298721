"""Building the Teams app package: manifest.json filled in from the council's details, plus both icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).parent
TEMPLATE = HERE / "manifest.json"
ICONS = ("color.png", "outline.png")
PACKAGE_NAME = "app.zip"  # written inside --out when --out is a directory
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Domains reserved for examples (RFC 2606), and the one our own template used to ship.
_EXAMPLE_HOST = re.compile(r"(^|\.)(example\.(com|org|net|gov\.uk)|example)$", re.IGNORECASE)


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class AppDetails:
    """What Teams shows about the app: its names, descriptions and colour, and the council's pages.

    Each field's setting and `policy-bot manifest` option are named in `metadata`, so a refusal can
    say what to set."""

    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    short_name: str
    full_name: str
    short_description: str
    full_description: str
    accent_color: str


# field: (setting, option, longest Teams accepts)
WHERE = {
    "developer_name": ("ORG_NAME", "--developer-name", 32),
    "website_url": ("TEAMS_APP_WEBSITE_URL", "--website-url", 2048),
    "privacy_url": ("TEAMS_APP_PRIVACY_URL", "--privacy-url", 2048),
    "terms_url": ("TEAMS_APP_TERMS_URL", "--terms-url", 2048),
    "short_name": ("TEAMS_APP_SHORT_NAME", "--short-name", 30),
    "full_name": ("TEAMS_APP_FULL_NAME", "--full-name", 100),
    "short_description": ("TEAMS_APP_SHORT_DESCRIPTION", "--short-description", 80),
    "full_description": ("TEAMS_APP_FULL_DESCRIPTION", "--full-description", 4000),
    "accent_color": ("TEAMS_APP_ACCENT_COLOR", "--accent-color", 7),
}
URLS = ("website_url", "privacy_url", "terms_url")


def _named(field: str) -> str:
    setting, option, _ = WHERE[field]
    return f"{setting} (or {option})"


def check_details(details: AppDetails) -> None:
    """Refuse, in one line, what Teams would reject or what would mislead staff."""
    missing = [f for f in URLS if not getattr(details, f).strip()]
    if missing:
        raise ManifestError(
            "the app package needs the council's own web pages, which Teams shows on the app's About page: set "
            + ", ".join(_named(f) for f in missing))
    for field in fields(AppDetails):
        value = getattr(details, field.name)
        if not value.strip():
            raise ManifestError(f"{_named(field.name)} is empty")
        if len(value) > WHERE[field.name][2]:
            raise ManifestError(f"{_named(field.name)}: Teams allows at most {WHERE[field.name][2]} characters, "
                                f"this has {len(value)}")
    for field in URLS:
        value = getattr(details, field)
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ManifestError(f"{_named(field)} must be an https:// address, not '{value}'")
        if _EXAMPLE_HOST.search(parts.hostname):
            raise ManifestError(f"{_named(field)} is an example address ({parts.hostname}); give the council's own page")
    if not _COLOUR.match(details.accent_color):
        raise ManifestError(f"{_named('accent_color')} must be a colour such as #1F5C99, not '{details.accent_color}'")


def render_manifest(*, app_id: str, version: str, details: AppDetails, teams_app_id: str | None = None) -> dict:
    if not _GUID.match(app_id):
        raise ManifestError(f"--app-id must be the bot's Microsoft App ID, a GUID such as 00000000-0000-0000-0000-000000000000, not '{app_id}'")
    if teams_app_id is not None and not _GUID.match(teams_app_id):
        raise ManifestError(f"--teams-app-id must be a GUID such as 00000000-0000-0000-0000-000000000000, not '{teams_app_id}'")
    if not re.match(r"^\d+\.\d+\.\d+$", version):
        raise ManifestError(f"--version must look like 1.0.0, not '{version}'")
    check_details(details)
    manifest = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    # The Teams app's own id: the bot's id unless the Agents Toolkit created a separate one (TEAMS_APP_ID).
    manifest["id"] = teams_app_id or app_id
    manifest["version"] = version
    for bot in manifest["bots"]:
        bot["botId"] = app_id
    manifest["developer"] = {"name": details.developer_name, "websiteUrl": details.website_url,
                             "privacyUrl": details.privacy_url, "termsOfUseUrl": details.terms_url}
    manifest["name"] = {"short": details.short_name, "full": details.full_name}
    manifest["description"] = {"short": details.short_description, "full": details.full_description}
    manifest["accentColor"] = details.accent_color
    manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://botid-{app_id}"}
    return manifest


def build_package(*, app_id: str, out: Path, details: AppDetails, version: str = "1.0.0",
                  teams_app_id: str | None = None) -> Path:
    """Write the package to `out`, or inside it as app.zip when `out` is a directory; returns where."""
    manifest = render_manifest(app_id=app_id, version=version, details=details, teams_app_id=teams_app_id)
    if out.is_dir():
        out = out / PACKAGE_NAME
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            package.writestr("manifest.json", json.dumps(manifest, indent=2))
            for icon in ICONS:
                package.write(HERE / icon, icon)
    except OSError as exc:
        raise ManifestError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    return out
