"""tracking: saved searches, and the indexes the search page and the dashboards read by

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_search_user_name"),
    )
    op.create_index("ix_saved_search_user_id", "saved_search", ["user_id"])
    # search: newest cases first within a process; the 推优 funnel counts a year's cases
    op.create_index("ix_instance_process_started", "instance", ["process_key", "started_at"])
    op.create_index("ix_instance_started", "instance", ["started_at"])
    # dashboards: time per step (completed tasks by step) and open tasks by step
    op.create_index("ix_human_task_step_times", "human_task",
                    ["status", "process_key", "name", "created_at", "completed_at"])
    op.create_index("ix_human_task_instance_name", "human_task", ["instance_id", "name", "status"])
    # dashboards: open tasks past due (a range over the open ones only); time per step within a year
    # (covering: the dashboards' grouping reads no table row)
    op.create_index("ix_human_task_open_due", "human_task",
                    ["status", "due_at", "scope_unit", "process_key", "name", "title", "instance_id"])
    op.create_index("ix_human_task_completed", "human_task",
                    ["status", "completed_at", "process_key", "name", "created_at", "title"])


def downgrade():
    op.drop_index("ix_human_task_completed", table_name="human_task")
    op.drop_index("ix_human_task_open_due", table_name="human_task")
    op.drop_index("ix_human_task_instance_name", table_name="human_task")
    op.drop_index("ix_human_task_step_times", table_name="human_task")
    op.drop_index("ix_instance_started", table_name="instance")
    op.drop_index("ix_instance_process_started", table_name="instance")
    op.drop_index("ix_saved_search_user_id", table_name="saved_search")
    op.drop_table("saved_search")
