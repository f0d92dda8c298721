#!/usr/bin/env bash
# App Service start-up command (infra/main.bicep): migrate, then serve. `db upgrade` holds a PostgreSQL advisory
# lock, so instances starting together migrate once; the others wait and find the schema already current.
set -euo pipefail
python -m bot.cli db upgrade
exec python -m bot.cli serve
