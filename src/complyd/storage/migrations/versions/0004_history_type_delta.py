"""Per-type history: each change records how it moved its compliance type's non-compliant count.

Revision ID: 0004
Revises: 0003

Existing rows are carried forward: a row's type delta is its status against the row before it
for the same (resource, type) (no earlier row: the type was new), so the per-type series over
history recorded before the upgrade agrees with what puts record from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NON_COMPLIANT = "CASE WHEN {t}.status = 'NON_COMPLIANT' THEN 1 ELSE 0 END"
_BACKFILL = f"""
UPDATE compliance_history SET type_delta = {_NON_COMPLIANT.format(t="compliance_history")} -
  COALESCE((
    SELECT {_NON_COMPLIANT.format(t="p")} FROM compliance_history p
    WHERE p.account_id = compliance_history.account_id
      AND p.region = compliance_history.region
      AND p.resource_id = compliance_history.resource_id
      AND p.compliance_type = compliance_history.compliance_type
      AND p.id < compliance_history.id
    ORDER BY p.id DESC LIMIT 1
  ), 0)
"""


def upgrade() -> None:
    with op.batch_alter_table("compliance_history") as batch:
        batch.add_column(
            sa.Column("type_delta", sa.SmallInteger, nullable=False, server_default="0")
        )
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("compliance_history") as batch:
        batch.drop_column("type_delta")
