"""The routing table, assembled from each conversation flow's routes. Order matters: first match wins."""

from __future__ import annotations

from bot.router import Router
from dialogs import help as help_dialog
from dialogs import acknowledge, admin, approvals, incidents, qa, tools


def build_router() -> Router:
    return Router([*help_dialog.ROUTES, *admin.ROUTES, *tools.ROUTES, *approvals.ROUTES, *incidents.ROUTES, *acknowledge.ROUTES, *qa.ROUTES])
