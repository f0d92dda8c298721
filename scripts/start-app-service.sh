#!/usr/bin/env bash
# App Service start-up command (infra/main.bicep): migrate, then serve. `db upgrade` holds a PostgreSQL advisory
# lock, so instances starting together migrate once; the others wait and find the schema already current.
set -euo pipefail
python -m cli.main db upgrade
exec python -m cli.main serve
