"""subject records: what finished cases record on a person or an org unit (certificates, elections, visits)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subject_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_subject_record_instance_id_instance'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_record'))
    )
    with op.batch_alter_table('subject_record', schema=None) as batch_op:
        batch_op.create_index('ix_subject_record_subject', ['subject_kind', 'subject', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_record_instance_id'), ['instance_id'], unique=False)


def downgrade():
    op.drop_table('subject_record')
