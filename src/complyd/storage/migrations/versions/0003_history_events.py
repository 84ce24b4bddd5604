"""Compliance history and the state-change event outbox.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "compliance_history",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("account_id", Key, nullable=False),
        sa.Column("region", Key, nullable=False),
        sa.Column("resource_id", Key, nullable=False),
        sa.Column("compliance_type", Key, nullable=False),
        sa.Column("recorded_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("overall_severity", sa.String(16), nullable=True),
        sa.Column("compliant_count", sa.Integer, nullable=False),
        sa.Column("non_compliant_count", sa.Integer, nullable=False),
        sa.Column("execution_time_ms", sa.BigInteger, nullable=True),
        sa.Column("execution_id", sa.Text, nullable=True),
        sa.Column("execution_type", sa.Text, nullable=True),
        sa.Column("fleet_delta", sa.SmallInteger, nullable=False),
    )
    op.create_index(
        "ix_compliance_history_resource",
        "compliance_history",
        ["account_id", "region", "resource_id", "id"],
    )
    op.create_index(
        "ix_compliance_history_time", "compliance_history", ["account_id", "region", "recorded_ms"]
    )
    op.create_table(
        "compliance_events",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("account_id", Key, nullable=False),
        sa.Column("region", Key, nullable=False),
        sa.Column("resource_id", Key, nullable=False),
        sa.Column("compliance_type", Key, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("compliance_events")
    op.drop_table("compliance_history")
