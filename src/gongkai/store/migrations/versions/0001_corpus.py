"""The corpus: documents, their contents, reports, cells (long) and findings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen here rather than imported: a migration must not change when schema.py does.
Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("parser_version", sa.String(32), nullable=False),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "contents",
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("compression", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agency", sa.Text, nullable=True),
        sa.Column("province_code", sa.String(2), nullable=True),
        sa.Column("province", sa.Text, nullable=True),
        sa.Column("city", sa.Text, nullable=True),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("parser_version", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("checked", sa.Boolean, nullable=False),
        sa.Column("notes", Json, nullable=True),
        sa.Column("sections", Json, nullable=True),
        sa.Column("layout", Json, nullable=True),
        sa.UniqueConstraint("document_id"),
    )
    op.create_index("ix_reports_agency_year", "reports", ["agency", "year"])
    op.create_index("ix_reports_year", "reports", ["year"])
    op.create_index("ix_reports_province", "reports", ["province_code"])
    op.create_table(
        "cells",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("raw", sa.Text, nullable=True),
        sa.Column("provenance", Json, nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_cells_key", "cells", ["key", "report_id", "value"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("cells", Json, nullable=True),
        sa.Column("expected", Json, nullable=True),
        sa.Column("found", Json, nullable=True),
        sa.Column("locations", Json, nullable=True),
        sa.Column("inferred", Json, nullable=True),
    )
    op.create_index("ix_findings_report_id", "findings", ["report_id"])
    op.create_index("ix_findings_rule", "findings", ["rule"])


def downgrade() -> None:
    for table in ("findings", "cells", "reports", "contents", "documents"):
        op.drop_table(table)
