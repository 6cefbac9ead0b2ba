"""Archive, chain head, outbox and inbox.

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
        "archived_document",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("invoice_id", sa.String(), nullable=False, unique=True),
        sa.Column("invoice_number", sa.String(), nullable=False),
        sa.Column("seller_company_id", sa.String(), nullable=False, index=True),
        sa.Column("buyer_company_id", sa.String(), nullable=False, index=True),
        sa.Column("seller_country", sa.String(2), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("previous_chain_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("signature_level", sa.String(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "archive_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("archive_chain_head")
    op.drop_table("archived_document")
    drop_messaging_tables()
