"""segments.confirmed: the label was seen by a person

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch_op:
        batch_op.add_column(
            sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Labels written before this revision were given by people, one way or another: trust them
    # as before (propagation used every label).
    segments = sa.table("segments", sa.column("confirmed", sa.Boolean), sa.column("label_class_id"))
    op.execute(
        segments.update().where(segments.c.label_class_id.is_not(None)).values(confirmed=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch_op:
        batch_op.drop_column("confirmed")
