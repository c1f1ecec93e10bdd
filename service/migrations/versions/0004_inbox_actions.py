"""inbox actions: delegation columns on human_task, case copies, stand-ins, notifications, user e-mail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 20:00:00

Plain ADD COLUMN only (no batch mode): rebuilding `human_task` or `app_user` on SQLite with foreign
keys on would delete the rows that refer to them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _add_user_column(table, name):
    """A nullable column referring to app_user.id, added in place (SQLite accepts REFERENCES in ADD COLUMN)."""
    if op.get_bind().dialect.name == 'sqlite':
        if name in {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}:
            return  # left behind by this revision's downgrade (see there)
        op.execute(f'ALTER TABLE {table} ADD COLUMN {name} INTEGER REFERENCES app_user (id)')
    else:
        op.add_column(table, sa.Column(name, sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(f'fk_{table}_{name}_app_user'), table, 'app_user', [name], ['id'])


def upgrade():
    _add_user_column('human_task', 'delegated_to')
    _add_user_column('human_task', 'delegated_by')
    op.add_column('human_task', sa.Column('proposal', sa.JSON(none_as_null=True), nullable=True))
    op.create_index(op.f('ix_human_task_delegated_to'), 'human_task', ['delegated_to'], unique=False)
    op.add_column('app_user', sa.Column('email', sa.String(length=200), nullable=True))

    op.create_table('case_copy',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('copied_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['copied_by'], ['app_user.id'], name=op.f('fk_case_copy_copied_by_app_user')),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_case_copy_instance_id_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_case_copy_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'user_id', name=op.f('pk_case_copy'))
    )
    op.create_index(op.f('ix_case_copy_user_id'), 'case_copy', ['user_id'], unique=False)

    op.create_table('stand_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stand_in_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['stand_in_id'], ['app_user.id'], name=op.f('fk_stand_in_stand_in_id_app_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_stand_in_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stand_in'))
    )
    op.create_index(op.f('ix_stand_in_stand_in_id'), 'stand_in', ['stand_in_id'], unique=False)
    op.create_index(op.f('ix_stand_in_user_id'), 'stand_in', ['user_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_notification_instance_id_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index(op.f('ix_notification_instance_id'), 'notification', ['instance_id'], unique=False)
    op.create_index('ix_notification_user_unread', 'notification', ['user_id', 'read_at'], unique=False)


def downgrade():
    op.drop_index('ix_notification_user_unread', table_name='notification')
    op.drop_index(op.f('ix_notification_instance_id'), table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_stand_in_user_id'), table_name='stand_in')
    op.drop_index(op.f('ix_stand_in_stand_in_id'), table_name='stand_in')
    op.drop_table('stand_in')
    op.drop_index(op.f('ix_case_copy_user_id'), table_name='case_copy')
    op.drop_table('case_copy')
    op.drop_index(op.f('ix_human_task_delegated_to'), table_name='human_task')
    op.drop_column('app_user', 'email')
    op.drop_column('human_task', 'proposal')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot drop a column that has a REFERENCES clause without rebuilding the table, and a
        # rebuild with foreign keys on deletes the rows referring to human_task: they stay (unused)
        return
    op.drop_constraint(op.f('fk_human_task_delegated_by_app_user'), 'human_task', type_='foreignkey')
    op.drop_constraint(op.f('fk_human_task_delegated_to_app_user'), 'human_task', type_='foreignkey')
    op.drop_column('human_task', 'delegated_by')
    op.drop_column('human_task', 'delegated_to')
