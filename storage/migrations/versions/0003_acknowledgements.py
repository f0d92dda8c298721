"""acknowledgements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:55:32.063628
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('version_label', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=300), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['policy_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'version_id', name='uq_ack_user_version')
    )
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgements_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgements_version_id'), ['version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_version_id'))
        batch_op.drop_index(batch_op.f('ix_acknowledgements_user_id'))

    op.drop_table('acknowledgements')
