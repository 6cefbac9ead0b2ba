"""Drafts, credit notes, buyer statuses, validation reports; parties, partner keys, relationships, credits, audit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Drafts have no number and no document yet.
    op.alter_column("invoice", "number", existing_type=sa.String(), nullable=True)
    op.alter_column("invoice", "document", existing_type=sa.JSON(), nullable=True)
    op.add_column("invoice", sa.Column("content", sa.JSON(), nullable=True))
    op.add_column("invoice", sa.Column("validation_report", sa.JSON(), nullable=True))
    op.add_column("invoice", sa.Column("source", sa.String(), nullable=False, server_default="partner"))
    op.add_column("invoice", sa.Column("issue_date", sa.Date(), nullable=True))
    op.add_column("invoice", sa.Column("buyer_status", sa.String(), nullable=True))
    op.add_column("invoice", sa.Column("buyer_status_reason", sa.String(), nullable=True))
    op.add_column("invoice", _at("buyer_status_at"))
    op.add_column("invoice", sa.Column("corrects_invoice_id", sa.Uuid(), nullable=True))
    op.add_column("invoice", sa.Column("credited_amount", sa.Numeric(18, 2), nullable=False, server_default="0"))
    op.add_column("invoice", _at("issued_at"))
    op.add_column("invoice", _at("sealed_at"))
    op.add_column("invoice", _at("delivered_at"))
    op.add_column("invoice", _at("withdrawn_at"))
    op.add_column("invoice", sa.Column("withdrawn_reason", sa.String(), nullable=True))
    op.add_column("invoice", sa.Column("retain_until", sa.Date(), nullable=True))
    op.add_column("invoice", sa.Column("created_by", sa.String(), nullable=True))
    op.create_index("ix_invoice_corrects_invoice_id", "invoice", ["corrects_invoice_id"])
    # Existing rows: issued documents carry their issue date in the document.
    op.execute("UPDATE invoice SET issue_date = (document->>'issue_date')::date, issued_at = created_at")
    op.create_index("ix_invoice_seller_listing", "invoice", ["seller_company_id", "created_at"])
    op.create_index("ix_invoice_buyer_listing", "invoice", ["buyer_company_id", "created_at"])

    op.create_table(
        "invoice_event",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("buyer_status", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("actor_user_id", sa.String(), nullable=True),
        _at("at", nullable=False),
    )
    op.create_table(
        "party",
        sa.Column("company_id", sa.String(), primary_key=True),
        sa.Column("legal_name", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("vat_id", sa.String(), nullable=True),
        sa.Column("tax_id", sa.String(), nullable=True),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("registered_at"),
        _at("updated_at", nullable=False),
    )
    op.create_table(
        "partner_key",
        sa.Column("key_id", sa.String(), primary_key=True),
        sa.Column("company_id", sa.String(), nullable=False, index=True),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("partner_name", sa.String(), nullable=True),
        sa.Column("algorithm", sa.String(), nullable=False),
        sa.Column("public_key", sa.String(), nullable=True),
        _at("registered_at"),
        _at("revoked_at"),
        sa.Column("revoked_reason", sa.String(), nullable=True),
    )
    op.create_table(
        "relationship",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("supplier_company_id", sa.String(), nullable=False, index=True),
        sa.Column("buyer_company_id", sa.String(), nullable=False, index=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("message", sa.String(), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("accepted_at"),
        sa.UniqueConstraint("supplier_company_id", "buyer_company_id"),
    )
    op.create_table(
        "invitation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("buyer_company_id", sa.String(), nullable=False, index=True),
        sa.Column("code_hash", sa.String(), nullable=False, unique=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=True),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("used_at"),
        sa.Column("used_by_company_id", sa.String(), nullable=True),
    )
    op.create_table(
        "credit_account",
        sa.Column("company_id", sa.String(), primary_key=True),
        sa.Column("balance", sa.Integer(), nullable=False),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_credit_account_not_negative"),
    )
    op.create_table(
        "credit_movement",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.String(), nullable=False, index=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("purchase_id", sa.Uuid(), nullable=True),
        _at("at", nullable=False),
    )
    op.create_table(
        "purchase",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.String(), nullable=False, index=True),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("net_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("vat_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("payment_method", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("provider_ref", sa.String(), nullable=True),
        sa.Column("decline_code", sa.String(), nullable=True),
        sa.Column("decline_reason", sa.String(), nullable=True),
        sa.Column("receipt_number", sa.String(), nullable=True),
        _at("created_at", nullable=False),
        _at("completed_at"),
        sa.UniqueConstraint("company_id", "idempotency_key"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.String(), nullable=False, index=True),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=True),
        sa.Column("assurance", sa.String(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        _at("at", nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "purchase",
        "credit_movement",
        "credit_account",
        "invitation",
        "relationship",
        "partner_key",
        "party",
        "invoice_event",
    ):
        op.drop_table(table)
    op.drop_index("ix_invoice_buyer_listing", table_name="invoice")
    op.drop_index("ix_invoice_seller_listing", table_name="invoice")
    op.drop_index("ix_invoice_corrects_invoice_id", table_name="invoice")
    for column in (
        "created_by",
        "retain_until",
        "withdrawn_reason",
        "withdrawn_at",
        "delivered_at",
        "sealed_at",
        "issued_at",
        "credited_amount",
        "corrects_invoice_id",
        "buyer_status_at",
        "buyer_status_reason",
        "buyer_status",
        "issue_date",
        "source",
        "validation_report",
        "content",
    ):
        op.drop_column("invoice", column)
    op.execute("DELETE FROM invoice WHERE number IS NULL OR document IS NULL")
    op.alter_column("invoice", "document", existing_type=sa.JSON(), nullable=False)
    op.alter_column("invoice", "number", existing_type=sa.String(), nullable=False)
