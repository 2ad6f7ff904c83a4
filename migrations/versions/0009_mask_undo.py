"""audit_changes.mask_undo, audit_batches.masks_kept: mask edits undoable from the history

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_changes") as batch_op:
        batch_op.add_column(sa.Column("mask_undo", sa.Text(), nullable=True))
    with op.batch_alter_table("audit_batches") as batch_op:
        batch_op.add_column(
            sa.Column("masks_kept", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_batches") as batch_op:
        batch_op.drop_column("masks_kept")
    with op.batch_alter_table("audit_changes") as batch_op:
        batch_op.drop_column("mask_undo")
