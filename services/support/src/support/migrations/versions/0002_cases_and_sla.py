"""Cases, messages, attachments, identity checks and e-mail tokens; categories with SLA targets; holidays.

Revision ID: 0002
Revises: 0001
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Targets are business minutes on the desk calendar (one business day = 630 minutes).
CATEGORIES = [
    ("login", 1, "Connexion (mot de passe, identifiant)", "Signing in (password, username)", 120, 630),
    ("mfa-reset", 2, "Réinitialisation de la double authentification", "Two-step verification reset", 120, 1260),
    ("invoicing", 3, "Factures et avoirs", "Invoices and credit notes", 240, 1890),
    ("billing", 4, "Facturation et achat de transactions", "Billing and transaction purchases", 240, 1890),
    ("connections", 5, "Relations avec vos clients et fournisseurs", "Connections with customers and suppliers", 480, 3150),
    ("other", 6, "Autre question", "Something else", 480, 3150),
]

HOLIDAYS = {
    "FR": [
        (date(2026, 1, 1), "Jour de l'an"),
        (date(2026, 4, 6), "Lundi de Pâques"),
        (date(2026, 5, 1), "Fête du Travail"),
        (date(2026, 5, 8), "Victoire 1945"),
        (date(2026, 5, 14), "Ascension"),
        (date(2026, 5, 25), "Lundi de Pentecôte"),
        (date(2026, 7, 14), "Fête nationale"),
        (date(2026, 8, 15), "Assomption"),
        (date(2026, 11, 1), "Toussaint"),
        (date(2026, 11, 11), "Armistice 1918"),
        (date(2026, 12, 25), "Noël"),
        (date(2027, 1, 1), "Jour de l'an"),
        (date(2027, 3, 29), "Lundi de Pâques"),
        (date(2027, 5, 1), "Fête du Travail"),
        (date(2027, 5, 6), "Ascension"),
        (date(2027, 5, 8), "Victoire 1945"),
        (date(2027, 5, 17), "Lundi de Pentecôte"),
        (date(2027, 7, 14), "Fête nationale"),
        (date(2027, 8, 15), "Assomption"),
        (date(2027, 11, 1), "Toussaint"),
        (date(2027, 11, 11), "Armistice 1918"),
        (date(2027, 12, 25), "Noël"),
    ],
    # England and Wales bank holidays, with the substitute days when a holiday falls on a weekend.
    "GB": [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 4), "Early May bank holiday"),
        (date(2026, 5, 25), "Spring bank holiday"),
        (date(2026, 8, 31), "Summer bank holiday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (substitute day)"),
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 3, 26), "Good Friday"),
        (date(2027, 3, 29), "Easter Monday"),
        (date(2027, 5, 3), "Early May bank holiday"),
        (date(2027, 5, 31), "Spring bank holiday"),
        (date(2027, 8, 30), "Summer bank holiday"),
        (date(2027, 12, 27), "Christmas Day (substitute day)"),
        (date(2027, 12, 28), "Boxing Day (substitute day)"),
    ],
}


def ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    categories = op.create_table(
        "case_category",
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_fr", sa.String(), nullable=False),
        sa.Column("label_en", sa.String(), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("first_response_minutes > 0 AND resolution_minutes >= first_response_minutes"),
    )
    op.bulk_insert(
        categories,
        [
            dict(zip(("code", "position", "label_fr", "label_en", "first_response_minutes", "resolution_minutes"), c))
            for c in CATEGORIES
        ],
    )
    holidays = op.create_table(
        "sla_holiday",
        sa.Column("calendar", sa.String(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
    )
    op.bulk_insert(
        holidays, [{"calendar": cal, "day": day, "name": name} for cal, days in HOLIDAYS.items() for day, name in days]
    )

    op.execute("CREATE SEQUENCE support_case_number_seq")
    op.create_table(
        "support_case",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference", sa.String(), nullable=False, unique=True),
        sa.Column("category", sa.String(), sa.ForeignKey("case_category.code"), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("company_id", sa.String(), nullable=True),
        sa.Column("requester_user_id", sa.String(), nullable=True),
        sa.Column("requester_name", sa.String(), nullable=False),
        sa.Column("requester_email", sa.String(), nullable=False),
        sa.Column("assignee_id", sa.String(), nullable=True),
        ts("email_verified_at"),
        ts("created_at", nullable=False),
        ts("updated_at", nullable=False),
        ts("sla_started_at"),
        sa.Column("first_response_target_s", sa.Integer(), nullable=False),
        sa.Column("resolution_target_s", sa.Integer(), nullable=False),
        ts("paused_since"),
        sa.Column("paused_business_s", sa.Integer(), nullable=False, server_default="0"),
        ts("first_response_at"),
        sa.Column("first_response_elapsed_s", sa.Integer(), nullable=True),
        ts("resolved_at"),
        sa.Column("resolution_elapsed_s", sa.Integer(), nullable=True),
        ts("closed_at"),
        ts("first_response_breached_at"),
        ts("resolution_breached_at"),
        ts("mfa_reset_approved_at"),
        sa.Column("mfa_reset_approved_by", sa.String(), nullable=True),
        sa.CheckConstraint(
            "state IN ('new', 'open', 'waiting_on_customer', 'resolved', 'closed')", name="ck_support_case_state"
        ),
        sa.CheckConstraint("locale IN ('fr', 'en')", name="ck_support_case_locale"),
        sa.CheckConstraint("channel IN ('member', 'email')", name="ck_support_case_channel"),
    )
    op.create_index("ix_support_case_company_id", "support_case", ["company_id"])
    op.create_index("ix_support_case_state", "support_case", ["state"])
    op.create_index("ix_support_case_requester_email", "support_case", ["requester_email"])
    # The queue only ever reads live cases.
    op.create_index(
        "ix_support_case_active",
        "support_case",
        ["sla_started_at"],
        postgresql_where=sa.text("state IN ('new', 'open', 'waiting_on_customer', 'resolved')"),
    )

    op.create_table(
        "case_message",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("support_case.id"), nullable=False),
        sa.Column("author_kind", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()),
        ts("created_at", nullable=False),
        sa.CheckConstraint("author_kind IN ('customer', 'agent', 'system')", name="ck_case_message_author"),
    )
    op.create_index("ix_case_message_case_id", "case_message", ["case_id", "created_at"])

    op.create_table(
        "case_attachment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("support_case.id"), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("declared_type", sa.String(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by_kind", sa.String(), nullable=False),
        sa.Column("uploaded_by", sa.String(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()),
        ts("created_at", nullable=False),
    )
    op.create_index("ix_case_attachment_case_id", "case_attachment", ["case_id"])
    op.create_table(
        "case_attachment_content",
        sa.Column("attachment_id", sa.Uuid(), sa.ForeignKey("case_attachment.id"), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )

    op.create_table(
        "case_identity_check",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("support_case.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        ts("recorded_at", nullable=False),
    )
    op.create_index("ix_case_identity_check_case_id", "case_identity_check", ["case_id"])

    op.create_table(
        "case_token",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("support_case.id"), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        ts("expires_at", nullable=False),
        ts("used_at"),
        ts("created_at", nullable=False),
        sa.CheckConstraint("purpose IN ('verify', 'access')", name="ck_case_token_purpose"),
    )
    op.create_index("ix_case_token_case_id", "case_token", ["case_id"])


def downgrade() -> None:
    for table in (
        "case_token",
        "case_identity_check",
        "case_attachment_content",
        "case_attachment",
        "case_message",
        "support_case",
        "sla_holiday",
        "case_category",
    ):
        op.drop_table(table)
    op.execute("DROP SEQUENCE support_case_number_seq")
