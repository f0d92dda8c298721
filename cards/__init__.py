"""Typed Adaptive Card builders (microsoft-teams-cards), one module per flow, plus `common` helpers.

Cards are built from the plain records of `domain.records`; they import nothing but cards/ and domain/.
"""
