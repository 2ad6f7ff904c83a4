"""job kind 'project' is now 'projection' (it clashed with the Project table)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Queued or running jobs of the old name resume under the new one.
    op.execute("UPDATE jobs SET kind = 'projection' WHERE kind = 'project'")


def downgrade() -> None:
    op.execute("UPDATE jobs SET kind = 'project' WHERE kind = 'projection'")
