"""attachments: evidence files of a case (the bytes live on disk, under ATTACHMENTS_DIR)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=80), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_attachment_instance_id_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_attachment_task_id_human_task'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['app_user.id'], name=op.f('fk_attachment_uploaded_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachment_storage_key'))
    )
    op.create_index(op.f('ix_attachment_instance_id'), 'attachment', ['instance_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_attachment_instance_id'), table_name='attachment')
    op.drop_table('attachment')
