"""Invoices, number series, outbox and inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from servicekit.messaging_tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table(
        "invoice",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("seller_company_id", sa.String(), nullable=False, index=True),
        sa.Column("buyer_company_id", sa.String(), nullable=False, index=True),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("type_code", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("payable", sa.Numeric(18, 2), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=True),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("archive_id", sa.String(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("seller_company_id", "number"),
        sa.UniqueConstraint("seller_company_id", "external_id", name="uq_invoice_partner_reference"),
    )
    op.create_table(
        "number_series",
        sa.Column("seller_company_id", sa.String(), primary_key=True),
        sa.Column("series", sa.String(), primary_key=True),
        sa.Column("next_value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("number_series")
    op.drop_table("invoice")
    drop_messaging_tables()
