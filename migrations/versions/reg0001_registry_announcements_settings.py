"""口岸管理 registry: must-change-password, English names, announcement scheduling, site settings

Revision ID: reg0001
Revises: cal0001
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'reg0001'
down_revision = 'cal0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_setting',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_setting'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('port', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=100), server_default='', nullable=False))
    with op.batch_alter_table('transport_mode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=50), server_default='', nullable=False))
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('port_code', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('shown_from', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('shown_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_announcement_port_code'), ['port_code'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_announcement_port_code_port'), 'port', ['port_code'], ['code'],
                                    ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_announcement_port_code_port'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_announcement_port_code'))
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('pinned')
        batch_op.drop_column('shown_until')
        batch_op.drop_column('shown_from')
        batch_op.drop_column('port_code')
    with op.batch_alter_table('transport_mode', schema=None) as batch_op:
        batch_op.drop_column('name_en')
    with op.batch_alter_table('port', schema=None) as batch_op:
        batch_op.drop_column('name_en')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    op.drop_table('site_setting')
