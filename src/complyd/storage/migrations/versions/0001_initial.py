"""Initial schema: compliance items, resource summaries, server state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
SEVERITIES = ("critical", "high", "medium", "low", "informational", "unspecified")
TENANT_KEY = ("account_id", "region", "resource_id", "compliance_type")


def upgrade() -> None:
    op.create_table(
        "compliance_items",
        *(sa.Column(name, Key, nullable=False) for name in TENANT_KEY),
        sa.Column("item_key", Key, nullable=False),
        sa.Column("item_id", sa.Text, nullable=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("execution_time_ms", sa.BigInteger, nullable=False),
        sa.Column("execution_id", sa.Text, nullable=True),
        sa.Column("execution_type", sa.Text, nullable=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*TENANT_KEY, "item_key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "resource_summaries",
        *(sa.Column(name, Key, nullable=False) for name in TENANT_KEY),
        sa.Column("resource_type", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("overall_severity", sa.String(16), nullable=False),
        *(sa.Column(f"compliant_{s}", sa.Integer, nullable=False) for s in SEVERITIES),
        *(sa.Column(f"non_compliant_{s}", sa.Integer, nullable=False) for s in SEVERITIES),
        sa.Column("execution_time_ms", sa.BigInteger, nullable=False),
        sa.Column("execution_id", sa.Text, nullable=True),
        sa.Column("execution_type", sa.Text, nullable=True),
        sa.Column("content_hash", sa.Text, nullable=True),
        sa.Column("patch_group", sa.Text, nullable=True),
        sa.Column("total_size", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(*TENANT_KEY),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_resource_summaries_type",
        "resource_summaries",
        ["account_id", "region", "compliance_type", "resource_id"],
    )
    op.create_table(
        "server_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("server_state")
    op.drop_index("ix_resource_summaries_type", table_name="resource_summaries")
    op.drop_table("resource_summaries")
    op.drop_table("compliance_items")
