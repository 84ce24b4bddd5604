"""A digest of each type's items on its summary row, so re-reported items are not rewritten.

Revision ID: 0005
Revises: 0004

Existing rows get NULL, "not known": the next put of each type rewrites its items as before and
records the digest. Nothing is read differently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resource_summaries", sa.Column("items_digest", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resource_summaries") as batch:
        batch.drop_column("items_digest")
