"""audit_blocks: a label batch's changes as one compact row (app/history/block.py)

Batches logged before keep their audit_changes rows, which the history reads as before; no
data moves on upgrade. Downgrade expands every block back into audit_changes rows.

Revision ID: 0010
Revises: 0009
"""

import zlib
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_blocks",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["audit_batches.id"],
            name=op.f("fk_audit_blocks_batch_id_audit_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_audit_blocks")),
    )


def downgrade() -> None:
    connection = op.get_bind()
    insert = sa.text(
        "INSERT INTO audit_changes (batch_id, segment_id, old_label_id, new_label_id, "
        "new_version) VALUES (:b, :s, :o, :n, :v)"
    )
    for batch_id, data in connection.execute(sa.text("SELECT batch_id, changes FROM audit_blocks")):
        # Format 1 of app/history/block.py, decoded here so the revision stays as written.
        table = np.frombuffer(zlib.decompress(bytes(data)[1:]), "<i8").reshape(4, -1)
        ids, old, new, versions = np.cumsum(table[0]), table[1], table[2], table[3]
        rows = [
            {"b": batch_id, "s": s, "o": o or None, "n": n or None, "v": v}
            for s, o, n, v in zip(*(c.tolist() for c in (ids, old, new, versions)), strict=True)
        ]
        if rows:
            connection.execute(insert, rows)
    op.drop_table("audit_blocks")
