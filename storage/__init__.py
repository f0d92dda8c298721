"""Durable storage: SQLAlchemy models, Alembic migrations and repositories.

Repositories return the frozen records of `domain.records`, never ORM rows, and take their
collaborators (database, audit trail, outbox) once, in their constructor. Storage builds no
message: a write that causes messages yields a `Change` (`changes.py`) on which the dialog queues
them, and `outbox.py` stores them in the same transaction. `versioned.py` is the one version-checked
update helper; `audit.py` (with `audit_chain.py`) is the tamper-evident
audit trail; `privacy.py` and `subject_access.py` purge and export personal records; `health.py` gives
read-only figures for `doctor` and telemetry; `times.py` keeps stored times in UTC.
"""
