"""review queue at a million applications: counts per port pair and status kept by triggers, queue indexes

Revision ID: cust0002
Revises: api0001
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cust0002'
down_revision = 'api0001'
branch_labels = None
depends_on = None

KEY = "declaration_port, entry_port, status, paper"


def _key(row):
    return (f"coalesce({row}.declaration_port, ''), coalesce({row}.entry_port, ''), {row}.status, {row}.paper")


def _match(row):
    return (f"declaration_port = coalesce({row}.declaration_port, '') AND entry_port = coalesce({row}.entry_port, '') "
            f"AND status = {row}.status AND paper = {row}.paper")


# Drafts are never counted: officers never see them, and the most frequent write (暂存) then touches no count row.
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER status_count_insert AFTER INSERT ON application WHEN NEW.status != 'draft'
    BEGIN
        INSERT INTO status_count ({KEY}, n) VALUES ({_key('NEW')}, 1)
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;
    END""",
    f"""CREATE TRIGGER status_count_delete AFTER DELETE ON application WHEN OLD.status != 'draft'
    BEGIN
        UPDATE status_count SET n = n - 1 WHERE {_match('OLD')};
    END""",
    f"""CREATE TRIGGER status_count_update AFTER UPDATE OF status, declaration_port, entry_port, paper ON application
    WHEN OLD.status IS NOT NEW.status OR OLD.declaration_port IS NOT NEW.declaration_port
         OR OLD.entry_port IS NOT NEW.entry_port OR OLD.paper IS NOT NEW.paper
    BEGIN
        UPDATE status_count SET n = n - 1 WHERE OLD.status != 'draft' AND {_match('OLD')};
        INSERT INTO status_count ({KEY}, n) SELECT {_key('NEW')}, 1 WHERE NEW.status != 'draft'
        ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;
    END""",
]

POSTGRESQL_TRIGGERS = [
    # OR REPLACE: a database rebuilt by dropping its tables (tests, benchmarks) keeps its functions.
    f"""CREATE OR REPLACE FUNCTION status_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
           AND OLD.declaration_port IS NOT DISTINCT FROM NEW.declaration_port
           AND OLD.entry_port IS NOT DISTINCT FROM NEW.entry_port AND OLD.paper IS NOT DISTINCT FROM NEW.paper THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'draft' THEN
            UPDATE status_count SET n = n - 1 WHERE {_match('OLD')};
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'draft' THEN
            INSERT INTO status_count ({KEY}, n) VALUES ({_key('NEW')}, 1)
            ON CONFLICT ({KEY}) DO UPDATE SET n = status_count.n + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER status_count_keep AFTER INSERT OR DELETE OR UPDATE OF status, declaration_port, entry_port, paper
    ON application FOR EACH ROW EXECUTE FUNCTION status_count_keep()""",
]


def upgrade():
    op.create_table('status_count',
    sa.Column('declaration_port', sa.String(length=4), nullable=False),
    sa.Column('entry_port', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('paper', sa.Boolean(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('declaration_port', 'entry_port', 'status', 'paper', name=op.f('pk_status_count'))
    )
    feedback_due = sa.text("status = 'approved' AND statement_at IS NULL")
    statement_unread = sa.text("statement_at IS NOT NULL AND statement_read_at IS NULL")
    cancelled = sa.text("cancelled_at IS NOT NULL")
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_status_submitted', ['status', 'submitted_at', 'declaration_port', 'entry_port', 'start'], unique=False)
        batch_op.create_index('ix_application_status_start', ['status', 'start', 'declaration_port', 'entry_port'], unique=False)
        batch_op.create_index('ix_application_submitted_ports', ['submitted_at', 'declaration_port', 'entry_port', 'status'], unique=False)
        batch_op.create_index('ix_application_start_ports', ['start', 'status', 'declaration_port', 'entry_port', 'submitted_at'], unique=False)
        batch_op.create_index('ix_application_feedback_due', ['start', 'declaration_port', 'entry_port', 'submitted_at', 'paper'], unique=False, sqlite_where=feedback_due, postgresql_where=feedback_due)
        batch_op.create_index('ix_application_statement_unread', ['statement_at', 'declaration_port', 'entry_port'], unique=False, sqlite_where=statement_unread, postgresql_where=statement_unread)
        batch_op.create_index('ix_application_cancelled_at', ['cancelled_at', 'declaration_port', 'entry_port'], unique=False, sqlite_where=cancelled, postgresql_where=cancelled)
        batch_op.create_index('ix_application_paper', ['submitted_at', 'declaration_port', 'entry_port', 'status', 'start'], unique=False, sqlite_where=sa.text('paper = 1'), postgresql_where=sa.text('paper'))
    op.execute(f"INSERT INTO status_count ({KEY}, n) SELECT coalesce(declaration_port, ''), coalesce(entry_port, ''), "
               f"status, paper, count(*) FROM application WHERE status <> 'draft' GROUP BY 1, 2, 3, 4")
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER status_count_keep ON application")
        op.execute("DROP FUNCTION status_count_keep()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER status_count_{name}")
    with op.batch_alter_table('application', schema=None) as batch_op:
        for name in ('paper', 'cancelled_at', 'statement_unread', 'feedback_due', 'start_ports', 'submitted_ports',
                     'status_start', 'status_submitted'):
            batch_op.drop_index(f'ix_application_{name}')
    op.drop_table('status_count')
