"""Request event id, attachment choice and outcome time on the ledger; indexes for operator look-ups.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("delivery", sa.Column("request_event_id", sa.String(), nullable=True))
    op.add_column("delivery", sa.Column("attach_document", sa.Boolean(), nullable=True))
    op.add_column("delivery", sa.Column("document_attached", sa.Boolean(), nullable=True))
    op.add_column("delivery", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_delivery_request_event_id", "delivery", ["request_event_id"])
    # Operators look recipients up without caring how the producer capitalised the address.
    op.create_index("ix_delivery_recipient_lower", "delivery", [sa.text("lower(recipient)")])
    # Look-ups by idempotency key use the leading column of uq_delivery_logical.


def downgrade() -> None:
    op.drop_index("ix_delivery_recipient_lower", table_name="delivery")
    op.drop_index("ix_delivery_request_event_id", table_name="delivery")
    op.drop_column("delivery", "completed_at")
    op.drop_column("delivery", "document_attached")
    op.drop_column("delivery", "attach_document")
    op.drop_column("delivery", "request_event_id")
