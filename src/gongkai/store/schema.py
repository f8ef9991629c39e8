"""The corpus tables (SQLAlchemy Core). Alembic migrations in migrations/ create and evolve them.

Cells are long (one row per report and key) so that every format, present and future, fits
without a schema change; wide tables are built by pivoting.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

# The head revisions of migrations/: connect() upgrades a database whose alembic_version differs.
# Each stage that keeps tables of its own (review, ledger …) adds a migration branching from
# "0001", so the heads are a set; tests/test_store.py checks it against Alembic's own idea of them.
SCHEMA_HEADS = frozenset({"0002_review", "0003_ledger", "0004_web"})

metadata = MetaData()

# SQL NULL for None (not the JSON 'null'): a missing provenance is not stated, like a blank cell.
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),  # re-ingesting the same bytes is a no-op
    Column("name", Text, nullable=False),  # the path it was first ingested from (archive.zip/member for zips)
    Column("kind", String(16), nullable=True),  # what the bytes are: text, html, docx, office, pdf, image
    Column("size", BigInteger, nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # parsed | failed
    Column("error", Text, nullable=True),  # why it failed, or what went wrong beside a stored report
    Column("parser_version", String(32), nullable=False),
)

# The bytes themselves (zlib), so `gongkai reparse` needs no access to the original files.
contents = Table(
    "contents",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("compression", String(16), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("agency", Text, nullable=True),
    Column("province_code", String(2), nullable=True),  # GB/T 2260, when the agency's name states it
    Column("province", Text, nullable=True),
    Column("city", Text, nullable=True),
    Column("year", Integer, nullable=True),
    Column("format", String(16), nullable=False),
    Column("parser_version", String(32), nullable=False),
    Column("title", Text, nullable=True),
    Column("checked", Boolean, nullable=False),  # findings come from gongkai.check (False: checker unavailable)
    Column("notes", Json, nullable=True),
    Column("sections", Json, nullable=True),  # the narrative, as Report.sections
    Column("layout", Json, nullable=True),  # what the parser saw of each table, as Report.tables
    Index("ix_reports_agency_year", "agency", "year"),
    Index("ix_reports_year", "year"),
    Index("ix_reports_province", "province_code"),
)

cells = Table(
    "cells",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", Float, nullable=True),  # NULL: the report does not state it (never 0)
    Column("raw", Text, nullable=True),
    Column("provenance", Json, nullable=True),
    Column("confidence", Float, nullable=False),
    Column("note", Text, nullable=True),
    # Queries by key (stats, filters) read only this index.
    Index("ix_cells_key", "key", "report_id", "value"),
    sqlite_with_rowid=False,
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Column("cells", Json, nullable=True),
    Column("expected", Json, nullable=True),
    Column("found", Json, nullable=True),
    Column("locations", Json, nullable=True),
    Column("inferred", Json, nullable=True),
    Index("ix_findings_rule", "rule"),
)


# ---- review (gongkai.review): bodies, one report per body and year, outcomes, decisions ------
# Reviewers' work (decisions, corrections, states) hangs on a filing, 单位@年度, not on a report
# row: a report row is replaced when its document is parsed again, the filing stays.

bodies = Table(
    "bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),  # as reports name their agency
    Column("region_code", String(6), nullable=True),  # GB/T 2260 division; None: not placed
    Column("parent_id", Integer, ForeignKey("bodies.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("kind", String(16), nullable=False),  # government | department | zone | other
    Column("placed_by", String(8), nullable=False),  # name (read from it) | import | edit
    # Its figures are the sum of its direct children's (a region's summary report): the hierarchy rules apply.
    Column("sums_children", Boolean, nullable=False),
    Column("note", Text, nullable=True),  # why it is not placed (an ambiguous county name …)
)

filings = Table(
    "filings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", Integer, ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False),
    Column("year", Integer, nullable=False),
    # The version that counts, chosen by a reviewer; None: the newest document.
    Column("chosen_document_id", Integer, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
    Column("state", String(12), nullable=False),  # draft | submitted | returned | accepted
    UniqueConstraint("body_id", "year"),
)

# Each stored report is a version of its filing; exactly one version of a filing counts.
report_versions = Table(
    "report_versions",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("filing_id", Integer, ForeignKey("filings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("counted", Boolean, nullable=False),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scope", String(12), nullable=False),  # report | cross_year | versions | hierarchy
    Column("rule", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # passed | failed | uncertain | not_assessable
    Column("severity", String(8), nullable=False),
    Column("message", Text, nullable=True),
    Column("cells", Json, nullable=True),
    Column("values", Json, nullable=True),
    Column("expected", Json, nullable=True),
    Column("found", Json, nullable=True),
    Column("reading", Text, nullable=True),
    Column("locations", Json, nullable=True),
    Column("related", Json, nullable=True),  # other reports or bodies it involves (last year's, missing children)
    Column("fingerprint", String(32), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filing_id", Integer, ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("cells_key", Text, nullable=False),  # the sorted cells: a decision on other values is reopened
    Column("decision", String(12), nullable=False),  # confirmed | dismissed
    Column("reason", Text, nullable=False),
    Column("user", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_decisions_filing", "filing_id", "fingerprint"),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filing_id", Integer, ForeignKey("filings.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("old", Float, nullable=True),  # the value before this correction (parsed or corrected)
    Column("new", Float, nullable=True),  # None: the cell is blank (not stated)
    Column("reason", Text, nullable=False),
    Column("user", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("current", Boolean, nullable=False),  # the latest correction of the cell
    Index("ix_corrections_filing_key", "filing_id", "key"),
)

submission_events = Table(
    "submission_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filing_id", Integer, ForeignKey("filings.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_state", String(12), nullable=False),
    Column("to_state", String(12), nullable=False),
    Column("user", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=True),  # an override's or a return's reason
    Column("letter", LargeBinary, nullable=True),  # the 审核意见 sent with a return (DOCX)
)


# ---- the web workbench (gongkai.web): users, sessions, the audit log, upload jobs -------------------

users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id, never the password
    Column("role", String(16), nullable=False),  # admin | reviewer | author
    Column("scope", Text, nullable=True),  # reviewer: a region (41, 河南省, 南阳市); author: the body's name
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's token: a leaked table opens no session
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

login_attempts = Table(
    "web_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_web_login_attempts_username_at", "username", "at"),
)

audit = Table(
    "web_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("user_id", Integer, nullable=True),  # kept when the user is removed: the log outlives accounts
    Column("username", String(64), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=True),
    Column("detail", Json, nullable=True),
)

upload_jobs = Table(
    "web_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("summary", Json, nullable=True),
)

job_files = Table(
    "web_job_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("web_jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("outcome", String(16), nullable=False),  # waiting | stored | with_errors | failed | unreadable | skipped
    Column("message", Text, nullable=True),  # why it failed, in a line
    Column("report_id", Integer, nullable=True),
)


# ---- ledger (gongkai.ledger): the records behind a body's tables 二, 三 and 四 ----------------------
# Migration 0003_ledger. An application's derived fields (closed_on, outcome, due_on …) are kept in
# its row, recomputed from its events on every write, so that table 三 and the overdue lists are
# plain aggregate queries.

ledger_applications = Table(
    "ledger_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("number", Text, nullable=True),
    Column("applicant_type", String(64), nullable=False),  # a table 三 value column key
    Column("applicant_name", Text, nullable=True),
    Column("contact", Text, nullable=True),
    Column("channel", String(16), nullable=False),
    Column("submitted_on", Date, nullable=True),
    Column("received_on", Date, nullable=False),  # 第三十一条
    Column("content", Text, nullable=True),
    Column("handler", Text, nullable=True),
    Column("closed_on", Date, nullable=True),  # derived: the reply or lapse that ended it
    Column("outcome", String(128), nullable=True),  # derived: the table 三 result row it counts in
    Column("due_on", Date, nullable=True),  # derived: the statutory date running now (None: closed or waiting)
    Column("waiting", Text, nullable=True),  # derived: 待申请人补正 / 待申请人缴费
    Column("waiting_until", Date, nullable=True),
    Column("deadline_error", Text, nullable=True),  # derived: why no date could be computed (a year without calendar data)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=True),
    Index("ix_ledger_applications_body", "body", "received_on"),
    # Covers table 三's count: grouped by body and applicant type without reading the table.
    Index("ix_ledger_applications_count", "body", "applicant_type", "received_on", "closed_on", "outcome"),
    Index("ix_ledger_applications_open", "closed_on", "due_on"),
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("ledger_applications.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("outcome", String(128), nullable=True),
    Column("days", Integer, nullable=True),
    Column("approver", Text, nullable=True),
    Column("by", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

ledger_register_items = Table(
    "ledger_register_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False, index=True),
    Column("category", String(64), nullable=False),  # a table 二 row key
    Column("title", Text, nullable=False),
    Column("number", Text, nullable=True),
    Column("issued_on", Date, nullable=True),
    Column("amended_on", Json, nullable=True),
    Column("repealed_on", Date, nullable=True),
    Column("state", String(16), nullable=False),
)

ledger_reviews = Table(
    "ledger_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("ledger_register_items.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("by", Text, nullable=False),
    Column("on_date", Date, nullable=False),
    Column("note", Text, nullable=True),
)

ledger_decision_counts = Table(
    "ledger_decision_counts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("category", String(64), nullable=False),
    Column("count", Integer, nullable=True),
    Column("amount_yuan", Float, nullable=True),
    Column("source", Text, nullable=True),
    Index("ix_ledger_decision_counts", "body", "year"),
)

ledger_appeals = Table(
    "ledger_appeals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False, index=True),
    Column("kind", String(64), nullable=False),  # a table 四 row key
    Column("filed_on", Date, nullable=False),
    Column("decided_on", Date, nullable=True),
    Column("outcome", String(64), nullable=True),  # a table 四 column key; NULL: not decided
    Column("case_number", Text, nullable=True),
    Column("application_id", Integer, ForeignKey("ledger_applications.id", ondelete="SET NULL"), nullable=True),
    Column("note", Text, nullable=True),
)
