"""due timers: a partial index on the running cases that wait on a timer, in claim order

The worker's claim (status running, next_timer_at <= now, ORDER BY next_timer_at, id LIMIT 1,
FOR UPDATE SKIP LOCKED on PostgreSQL) walked every instance row on PostgreSQL once the table held
a backlog; this index holds only the waiting cases, in the order they are claimed.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

WHERE = sa.text("status = 'running' AND next_timer_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_next_timer')
    op.create_index('ix_instance_due_timers', 'instance', ['next_timer_at', 'id'], unique=False,
                    postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade():
    op.drop_index('ix_instance_due_timers', table_name='instance')
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.create_index('ix_instance_next_timer', ['next_timer_at'], unique=False)
