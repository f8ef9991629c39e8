"""Review: bodies, filings (one report per body and year) and their versions, every rule's outcome,
reviewers' decisions, audited corrections, submission states.

Revision ID: 0002_review
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_review"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here rather than imported: a migration must not change when schema.py does.
Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bodies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("bodies.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("placed_by", sa.String(8), nullable=False),
        sa.Column("sums_children", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_bodies_parent_id", "bodies", ["parent_id"])
    op.create_table(
        "filings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body_id", sa.Integer, sa.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("chosen_document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.UniqueConstraint("body_id", "year"),
    )
    op.create_table(
        "report_versions",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("filing_id", sa.Integer, sa.ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("counted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_report_versions_filing_id", "report_versions", ["filing_id"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("cells", Json, nullable=True),
        sa.Column("values", Json, nullable=True),
        sa.Column("expected", Json, nullable=True),
        sa.Column("found", Json, nullable=True),
        sa.Column("reading", sa.Text, nullable=True),
        sa.Column("locations", Json, nullable=True),
        sa.Column("related", Json, nullable=True),
        sa.Column("fingerprint", sa.String(32), nullable=False),
    )
    op.create_index("ix_outcomes_report_id", "outcomes", ["report_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filing_id", sa.Integer, sa.ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("cells_key", sa.Text, nullable=False),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_decisions_filing", "decisions", ["filing_id", "fingerprint"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filing_id", sa.Integer, sa.ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("old", sa.Float, nullable=True),
        sa.Column("new", sa.Float, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
    )
    op.create_index("ix_corrections_filing_key", "corrections", ["filing_id", "key"])
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filing_id", sa.Integer, sa.ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_state", sa.String(12), nullable=False),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("letter", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_submission_events_filing_id", "submission_events", ["filing_id"])


def downgrade() -> None:
    for table in ("submission_events", "corrections", "decisions", "outcomes", "report_versions", "filings", "bodies"):
        op.drop_table(table)
