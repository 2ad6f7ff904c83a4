"""segment source 'exemplar'

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("auto", "manual", "propagated", "imported")
_NEW = (*_OLD, "exemplar")


def _source(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="segment_source", native_enum=False, create_constraint=True, length=32
    )


def upgrade() -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("segments") as batch_op:
        batch_op.alter_column(
            "source", existing_type=_source(_OLD), type_=_source(_NEW), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM segments WHERE source = 'exemplar' AND label_class_id IS NULL")
    op.execute("UPDATE segments SET source = 'propagated' WHERE source = 'exemplar'")
    with op.batch_alter_table("segments") as batch_op:
        batch_op.alter_column(
            "source", existing_type=_source(_NEW), type_=_source(_OLD), existing_nullable=False
        )
