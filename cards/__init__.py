"""Typed Adaptive Card builders (microsoft-teams-cards), one module per flow, plus `common` helpers.

Cards are built from plain records and never query storage or read settings.
"""
