"""A stored change and the messages it causes: the unit of work between a repository and a dialog.

A repository opens the transaction, writes the record and its audit entry, and yields a `Change`;
the dialog queues the notifications (plain data, built from the stored record: its reference
and version exist only now); the repository then queues them in the outbox and commits. Record,
audit entry and messages commit together, or not at all. Storage never builds a message itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Iterable, TypeVar

from domain.records import Notification

R = TypeVar("R")


@dataclass
class Change(Generic[R]):
    record: R
    notifications: list[Notification] = field(default_factory=list)

    def queue(self, notifications: Iterable[Notification]) -> None:
        self.notifications.extend(notifications)
