"""campaigns: one process run for every eligible org unit; instance.campaign_id links a case to its campaign

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('launched_by', sa.Integer(), nullable=True),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['launched_by'], ['app_user.id'], name=op.f('fk_campaign_launched_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_process_year', ['process_key', 'year'], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # ADD COLUMN with an inline REFERENCES clause: batch mode would rebuild `instance` to add the
        # foreign key, and dropping the old table (foreign keys on) cascades into human_task and message_wait
        op.execute("ALTER TABLE instance ADD COLUMN campaign_id INTEGER "
                   "CONSTRAINT fk_instance_campaign_id_campaign REFERENCES campaign (id)")
    else:
        with op.batch_alter_table('instance', schema=None) as batch_op:
            batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_instance_campaign_id_campaign'), 'campaign', ['campaign_id'], ['id'])
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # dropping the column rebuilds `instance` on SQLite; with foreign keys on, dropping the old
        # table would cascade-delete every human_task and message_wait row
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_campaign_id'))
        if not sqlite:
            batch_op.drop_constraint(batch_op.f('fk_instance_campaign_id_campaign'), type_='foreignkey')
        batch_op.drop_column('campaign_id')
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_process_year')

    op.drop_table('campaign')
