"""questions: escalations to the governance team and their responses; outbox: found by activity id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('asker_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('anonymous', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('escalation_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('escalation_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('escalation_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('response', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('responder_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('responder_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answer_activity_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_questions_reference', ['reference'], unique=True)
        batch_op.create_index('ix_questions_answer_activity_id', ['answer_activity_id'], unique=False)
        batch_op.create_index('ix_questions_escalation_status', ['escalation_status'], unique=False)
    # Teams' feedback on a message names it by id: an answer that waited in the outbox is found by it.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_activity_id', ['activity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_activity_id')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_escalation_status')
        batch_op.drop_index('ix_questions_answer_activity_id')
        batch_op.drop_index('ix_questions_reference')
        for column in ('updated_at', 'version', 'answer_activity_id', 'responded_at', 'responder_name', 'responder_id',
                       'response', 'escalation_status', 'escalation_comment', 'escalation_reason', 'anonymous',
                       'asker_name', 'reference'):
            batch_op.drop_column(column)
