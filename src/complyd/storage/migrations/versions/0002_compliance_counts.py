"""Fleet counters: resources per (type, status, severity) and per resource rollup.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
RANK = (
    "CASE overall_severity WHEN 'CRITICAL' THEN 5 WHEN 'HIGH' THEN 4 WHEN 'MEDIUM' THEN 3 "
    "WHEN 'LOW' THEN 2 WHEN 'INFORMATIONAL' THEN 1 ELSE 0 END"
)
SEVERITY = (
    "CASE r WHEN 5 THEN 'CRITICAL' WHEN 4 THEN 'HIGH' WHEN 3 THEN 'MEDIUM' "
    "WHEN 2 THEN 'LOW' WHEN 1 THEN 'INFORMATIONAL' ELSE 'UNSPECIFIED' END"
)


def upgrade() -> None:
    op.create_table(
        "compliance_counts",
        sa.Column("account_id", Key, nullable=False),
        sa.Column("region", Key, nullable=False),
        sa.Column("compliance_type", Key, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("resources", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "region", "compliance_type", "status", "severity"),
        sqlite_with_rowid=False,
    )
    # Count what the store already holds.
    op.execute(
        "INSERT INTO compliance_counts "
        "SELECT account_id, region, compliance_type, status, overall_severity, COUNT(*) "
        "FROM resource_summaries GROUP BY account_id, region, compliance_type, status, "
        "overall_severity"
    )
    op.execute(
        "INSERT INTO compliance_counts "
        f"SELECT account_id, region, '', st, {SEVERITY}, COUNT(*) FROM ("
        "  SELECT account_id, region, st, CASE WHEN st = 'NON_COMPLIANT' THEN nc_rank "
        "  ELSE any_rank END AS r FROM ("
        "    SELECT account_id, region, "
        "    MAX(status) AS st, "  # 'NON_COMPLIANT' sorts after 'COMPLIANT'
        f"    MAX(CASE WHEN status = 'NON_COMPLIANT' THEN {RANK} END) AS nc_rank, "
        f"    MAX({RANK}) AS any_rank "
        "    FROM resource_summaries GROUP BY account_id, region, resource_id"
        "  ) AS per_resource"
        ") AS rolled GROUP BY account_id, region, st, r"
    )


def downgrade() -> None:
    op.drop_table("compliance_counts")
