"""index for the inbox's delegation lookup

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_human_task_delegated", "human_task", ["status", "delegated_to"])


def downgrade():
    op.drop_index("ix_human_task_delegated", table_name="human_task")
