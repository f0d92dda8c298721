"""Durable storage: SQLAlchemy models, Alembic migrations and repositories.

Repositories return the frozen records of `domain.records`, never ORM rows; `versioned.py`
is the one version-checked update helper; `outbox.py` queues proactive messages in the same
transaction as the change that causes them; `audit.py` (with `audit_chain.py`) is the tamper-evident
audit trail; `privacy.py` and `subject_access.py` purge and export personal records; `health.py` gives
read-only figures for `doctor` and telemetry; `times.py` keeps stored times in UTC.
"""
