"""qa_pairings: questions paired with the passage that answers them, per policy version

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qa_pairings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('policy_version_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('question_hash', sa.String(length=64), nullable=False),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.Column('section', sa.String(length=300), nullable=False),
    sa.Column('passage_index', sa.Integer(), nullable=False),
    sa.Column('passage_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('held_reason', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('carried_from', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['policy_version_id'], ['policy_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('policy_version_id', 'status', 'question_hash', 'passage_hash', name='uq_qa_pairings_one')
    )
    with op.batch_alter_table('qa_pairings', schema=None) as batch_op:
        batch_op.create_index('ix_qa_pairings_version_status', ['policy_version_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qa_pairings', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_pairings_version_status')
    op.drop_table('qa_pairings')
