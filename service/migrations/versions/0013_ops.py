"""background jobs, retries and incidents

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['closed_by'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'instance_id', name='uq_job_failure_kind_instance'),
    )
    op.create_index('ix_job_failure_instance_id', 'job_failure', ['instance_id'])
    op.create_index('ix_job_failure_status', 'job_failure', ['status', 'next_attempt_at'])


def downgrade():
    op.drop_index('ix_job_failure_status', table_name='job_failure')
    op.drop_index('ix_job_failure_instance_id', table_name='job_failure')
    op.drop_table('job_failure')
