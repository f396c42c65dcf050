"""status changes carry their application's declarant, indexed with their time (the home page's recent decisions)

Revision ID: agenda0001
Revises: forms0001
Create Date: 2026-12-03 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'agenda0001'
down_revision = 'forms0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declarant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_status_change_declarant_id_enterprise'), 'enterprise',
                                    ['declarant_id'], ['id'])
        batch_op.create_index('ix_status_change_declarant_id_at', ['declarant_id', 'at'], unique=False)
    op.get_bind().execute(sa.text(
        "UPDATE status_change SET declarant_id = "
        "(SELECT declarant_id FROM application WHERE application.id = status_change.application_id)"))


def downgrade():
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index('ix_status_change_declarant_id_at')
        batch_op.drop_constraint(batch_op.f('fk_status_change_declarant_id_enterprise'), type_='foreignkey')
        batch_op.drop_column('declarant_id')
