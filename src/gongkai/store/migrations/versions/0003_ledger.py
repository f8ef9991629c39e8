"""The ledgers (gongkai.ledger): applications and their events, the 主动公开 register and its reviews,
decision counts, appeals.

Revision ID: 0003_ledger
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_ledger"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here rather than imported: a migration must not change when schema.py does.
Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_applications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=True),
        sa.Column("applicant_type", sa.String(64), nullable=False),
        sa.Column("applicant_name", sa.Text, nullable=True),
        sa.Column("contact", sa.Text, nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("submitted_on", sa.Date, nullable=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("handler", sa.Text, nullable=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("outcome", sa.String(128), nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("waiting", sa.Text, nullable=True),
        sa.Column("waiting_until", sa.Date, nullable=True),
        sa.Column("deadline_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=True),
    )
    op.create_index("ix_ledger_applications_body", "ledger_applications", ["body", "received_on"])
    op.create_index("ix_ledger_applications_count", "ledger_applications",
                    ["body", "applicant_type", "received_on", "closed_on", "outcome"])
    op.create_index("ix_ledger_applications_open", "ledger_applications", ["closed_on", "due_on"])
    op.create_table(
        "ledger_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("application_id", sa.Integer, sa.ForeignKey("ledger_applications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("outcome", sa.String(128), nullable=True),
        sa.Column("days", sa.Integer, nullable=True),
        sa.Column("approver", sa.Text, nullable=True),
        sa.Column("by", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_events_application_id", "ledger_events", ["application_id"])
    op.create_table(
        "ledger_register_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=True),
        sa.Column("issued_on", sa.Date, nullable=True),
        sa.Column("amended_on", Json, nullable=True),
        sa.Column("repealed_on", sa.Date, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_index("ix_ledger_register_items_body", "ledger_register_items", ["body"])
    op.create_table(
        "ledger_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("ledger_register_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_ledger_reviews_item_id", "ledger_reviews", ["item_id"])
    op.create_table(
        "ledger_decision_counts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=True),
        sa.Column("amount_yuan", sa.Float, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
    )
    op.create_index("ix_ledger_decision_counts", "ledger_decision_counts", ["body", "year"])
    op.create_table(
        "ledger_appeals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("filed_on", sa.Date, nullable=False),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("case_number", sa.Text, nullable=True),
        sa.Column("application_id", sa.Integer, sa.ForeignKey("ledger_applications.id", ondelete="SET NULL"), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_ledger_appeals_body", "ledger_appeals", ["body"])


def downgrade() -> None:
    for table in (
        "ledger_appeals", "ledger_decision_counts", "ledger_reviews", "ledger_register_items", "ledger_events", "ledger_applications",
    ):
        op.drop_table(table)
