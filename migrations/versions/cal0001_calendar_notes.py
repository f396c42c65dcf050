"""Notes on the days of a port's working calendar (元旦, 国庆值班), working days and days off alike

Revision ID: cal0001
Revises: admin0001
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cal0001'
down_revision = 'admin0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_note',
    sa.Column('port_code', sa.String(length=4), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['port_code'], ['port.code'], name=op.f('fk_calendar_note_port_code_port'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_code', 'day', name=op.f('pk_calendar_note'))
    )


def downgrade():
    op.drop_table('calendar_note')
