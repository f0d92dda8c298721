"""Building the Teams app package: manifest.json filled in, plus both icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
TEMPLATE = HERE / "manifest.json"
ICONS = ("color.png", "outline.png")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ManifestError(ValueError):
    pass


def render_manifest(*, app_id: str, version: str, org_name: str, teams_app_id: str | None = None) -> dict:
    if not _GUID.match(app_id):
        raise ManifestError(f"--app-id must be the bot's Microsoft App ID, a GUID such as 00000000-0000-0000-0000-000000000000, not '{app_id}'")
    if teams_app_id is not None and not _GUID.match(teams_app_id):
        raise ManifestError(f"--teams-app-id must be a GUID such as 00000000-0000-0000-0000-000000000000, not '{teams_app_id}'")
    if not re.match(r"^\d+\.\d+\.\d+$", version):
        raise ManifestError(f"--version must look like 1.0.0, not '{version}'")
    manifest = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    # The Teams app's own id: the bot's id unless the Agents Toolkit created a separate one (TEAMS_APP_ID).
    manifest["id"] = teams_app_id or app_id
    manifest["version"] = version
    for bot in manifest["bots"]:
        bot["botId"] = app_id
    manifest["developer"]["name"] = org_name[:32]
    manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://botid-{app_id}"}
    return manifest


def build_package(*, app_id: str, out: Path, version: str = "1.0.0", org_name: str = "Example Borough Council",
                  teams_app_id: str | None = None) -> Path:
    manifest = render_manifest(app_id=app_id, version=version, org_name=org_name, teams_app_id=teams_app_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for icon in ICONS:
            package.write(HERE / icon, icon)
    return out
