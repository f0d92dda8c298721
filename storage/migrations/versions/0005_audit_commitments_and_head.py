"""audit: free text kept beside entries under a salted digest, optional HMAC, and the newest hash in the head

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS = '0' * 64


def upgrade() -> None:
    # Entries already written keep scheme 1 (plain SHA-256 over their whole detail) and verify as before.
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheme', sa.SmallInteger(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('keyed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('private', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('private_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('scrubbed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=False, server_default=GENESIS))
    op.execute(
        "UPDATE audit_head SET hash = COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
        f"'{GENESIS}') WHERE id = 1"
    )


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('hash')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('scrubbed_at')
        batch_op.drop_column('private_digest')
        batch_op.drop_column('private')
        batch_op.drop_column('keyed')
        batch_op.drop_column('scheme')
