"""Retention: buyer country, retain_until on every archive entry, no deletion before it; index on the PDF hash.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The retention table as it stood when this revision was written (signing.domain.retention),
# frozen here so that replaying the migration later gives the same dates.
_YEARS = {
    "FR": 10, "DE": 10, "BE": 7, "ES": 6, "IT": 10, "NL": 7, "GB": 6, "UK": 6,
    "US": 7, "CA": 6, "AU": 5, "SG": 5, "JP": 7, "NZ": 7,
}  # fmt: skip
_DEFAULT_YEARS = 10


def upgrade() -> None:
    op.add_column("archived_document", sa.Column("buyer_country", sa.String(2), nullable=True))
    op.add_column("archived_document", sa.Column("retain_until", sa.Date(), nullable=True))
    # Entries sealed before this revision: the seller's period, counted from the year of sealing
    # (their issue date and buyer country were not kept), plus the year of margin of the rule.
    cases = " ".join(f"WHEN '{country}' THEN {years}" for country, years in _YEARS.items())
    op.execute(
        "UPDATE archived_document SET retain_until = make_date("
        f"extract(year FROM sealed_at)::int + (CASE upper(seller_country) {cases} ELSE {_DEFAULT_YEARS} END) + 1, 12, 31)"
    )
    op.alter_column("archived_document", "retain_until", nullable=False)
    op.create_index("ix_archived_document_sha256", "archived_document", ["sha256"])
    # No path deletes an entry still under retention, whatever the client: the database says no.
    op.execute(
        """
        CREATE FUNCTION archived_document_retention_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.retain_until >= current_date THEN
                RAISE EXCEPTION 'archive entry % (invoice %) is retained until %', OLD.id, OLD.invoice_number,
                    OLD.retain_until USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN OLD;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER archived_document_retention BEFORE DELETE ON archived_document "
        "FOR EACH ROW EXECUTE FUNCTION archived_document_retention_guard()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER archived_document_retention ON archived_document")
    op.execute("DROP FUNCTION archived_document_retention_guard()")
    op.drop_index("ix_archived_document_sha256", "archived_document")
    op.drop_column("archived_document", "retain_until")
    op.drop_column("archived_document", "buyer_country")
