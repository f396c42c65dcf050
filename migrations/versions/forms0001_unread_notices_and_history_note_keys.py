"""unread notice count on enterprise; history and notice notes the system writes kept by message key

Revision ID: forms0001
Revises: cust0002
Create Date: 2026-12-03 14:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'forms0001'
down_revision = 'cust0002'
branch_labels = None
depends_on = None

# The system's notes as earlier versions stored them, worded in the language of whoever caused them, with the key
# (rules.SYSTEM_NOTES) each becomes. Frozen here: a migration must not change when rules.py does.
FIXED_NOTES = {
    "发送情况说明": "statement_sent", "已发送情况说明": "statement_sent", "Send situation statement": "statement_sent",
    "情况说明已阅": "statement_read", "Statement read": "statement_read",
}
CHINESE = {
    "statement_sent": "已发送情况说明",
    "statement_read": "情况说明已阅",
    "paper_entered": "纸质申请 %(reference)s，收单日期 %(day)s，由海关录入",
    "paper_entered_exception": "纸质申请 %(reference)s，收单日期 %(day)s，由海关录入；例外受理：%(reason)s",
}
PAPER = [
    re.compile(r"纸质申请 (?P<reference>.*?)，收单日期 (?P<day>\d{4}-\d{2}-\d{2})，由海关录入(?:；例外受理：(?P<reason>.*))?", re.S),
    re.compile(r"Paper application (?P<reference>.*?), received (?P<day>\d{4}-\d{2}-\d{2}), entered by customs"
               r"(?:；Accepted as an exception: (?P<reason>.*))?", re.S),
]


def keyed(note):
    """(key, params) of a note the system wrote, or None for a note a person typed."""
    if note in FIXED_NOTES:
        return FIXED_NOTES[note], {}
    for pattern in PAPER:
        match = pattern.fullmatch(note)
        if match:
            params = {"reference": match["reference"], "day": match["day"]}
            if match["reason"] is None:
                return "paper_entered", params
            return "paper_entered_exception", {**params, "reason": match["reason"]}
    return None


def upgrade():
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unread_notices', sa.Integer(), server_default='0', nullable=False))
    for table in ('status_change', 'notice'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('note_key', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('note_params', sa.JSON(), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE enterprise SET unread_notices = (SELECT count(*) FROM notice "
        "WHERE notice.enterprise_id = enterprise.id AND notice.read_at IS NULL)"))
    for name in ('status_change', 'notice'):
        table = sa.table(name, sa.column('id', sa.Integer), sa.column('note', sa.Text),
                         sa.column('note_key', sa.String), sa.column('note_params', sa.JSON))
        candidates = bind.execute(sa.select(table.c.id, table.c.note).where(sa.or_(
            table.c.note.in_(list(FIXED_NOTES)), table.c.note.like('纸质申请 %'), table.c.note.like('Paper application %'),
        ))).all()
        for row_id, note in candidates:
            found = keyed(note)
            if found:
                key, params = found
                bind.execute(table.update().where(table.c.id == row_id).values(
                    note=CHINESE[key] % params, note_key=key, note_params=params))


def downgrade():
    for table in ('notice', 'status_change'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('note_params')
            batch_op.drop_column('note_key')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_column('unread_notices')
