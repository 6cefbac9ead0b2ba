"""Companies, users, MFA, sessions, tokens, throttling, contacts, partner keys and the append-only audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def text_list(name: str) -> sa.Column:
    return sa.Column(name, postgresql.ARRAY(sa.String()), nullable=False)


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("legal_name", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("vat_id", sa.String(), nullable=True),
        sa.Column("tax_id", sa.String(), nullable=True),
        sa.Column("address_line1", sa.String(), nullable=False),
        sa.Column("address_line2", sa.String(), nullable=True),
        sa.Column("postcode", sa.String(), nullable=False),
        sa.Column("city", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("locale", sa.String(), nullable=False),
        sa.Column("require_totp", sa.Boolean(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        ts("created_at"),
        ts("updated_at"),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("email_normalized", sa.String(), nullable=False),
        sa.Column("full_name", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("locale", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        text_list("rights"),
        ts("email_verified_at", True),
        ts("password_changed_at", True),
        ts("mfa_reset_at", True),
        ts("last_login_at", True),
        sa.Column("version", sa.Integer(), nullable=False),
        ts("created_at"),
        ts("updated_at"),
    )
    op.create_index("ix_user_account_company_id", "user_account", ["company_id"])
    op.create_index("ix_user_account_phone", "user_account", ["phone"])
    op.create_index(
        "uq_user_email_live",
        "user_account",
        ["email_normalized"],
        unique=True,
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.create_index(
        "uq_company_admin", "user_account", ["company_id"], unique=True, postgresql_where=sa.text("is_admin")
    )
    op.create_table(
        "mfa_factor",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        ts("confirmed_at", True),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(), nullable=True),
        ts("code_expires_at", True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        ts("created_at"),
    )
    op.create_index("ix_mfa_factor_user_id", "mfa_factor", ["user_id"])
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=False, unique=True),
        ts("used_at", True),
        ts("created_at"),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])
    op.create_table(
        "one_time_token",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        ts("expires_at"),
        ts("used_at", True),
        ts("created_at"),
    )
    op.create_index("ix_one_time_token_user_id", "one_time_token", ["user_id"])
    op.create_table(
        "login_challenge",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("verified_with", sa.String(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("user_agent", sa.String(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=True),
        sa.Column("code_factor_id", sa.Uuid(), nullable=True),
        ts("code_expires_at", True),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("pending_factor_id", sa.Uuid(), nullable=True),
        ts("expires_at"),
        ts("completed_at", True),
        ts("created_at"),
    )
    op.create_index("ix_login_challenge_user_id", "login_challenge", ["user_id"])
    op.create_table(
        "known_device",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        sa.Column("user_agent", sa.String(), nullable=True),
        sa.Column("last_ip", sa.String(), nullable=True),
        ts("first_seen_at"),
        ts("last_seen_at"),
    )
    op.create_index("ix_known_device_user_id", "known_device", ["user_id"])
    op.create_table(
        "auth_session",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("acr", sa.String(), nullable=False),
        text_list("amr"),
        ts("auth_time"),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("user_agent", sa.String(), nullable=True),
        ts("created_at"),
        ts("last_seen_at"),
        ts("expires_at"),
        ts("revoked_at", True),
        sa.Column("revoked_reason", sa.String(), nullable=True),
    )
    op.create_index("ix_auth_session_user_id", "auth_session", ["user_id"])
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("auth_session.id"), nullable=False),
        ts("created_at"),
        ts("expires_at"),
        ts("rotated_at", True),
    )
    op.create_index("ix_refresh_token_session_id", "refresh_token", ["session_id"])
    op.create_table(
        "throttle_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("account_key", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        ts("at"),
    )
    op.create_index("ix_throttle_account", "throttle_event", ["kind", "account_key", "at"])
    op.create_index("ix_throttle_source", "throttle_event", ["kind", "source", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        ts("at"),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("user_agent", sa.String(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_company_id", "audit_log", ["company_id"])
    # Append-only, enforced by the database itself: no code path (nor a stray SQL session of the
    # service's role) can rewrite or erase the security history.
    op.execute(
        """
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        text_list("roles"),
        sa.Column("locale", sa.String(), nullable=False),
        ts("created_at"),
        ts("updated_at"),
    )
    op.create_index("ix_contact_company_id", "contact", ["company_id"])
    op.create_table(
        "partner_system",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        ts("created_at"),
        ts("removed_at", True),
    )
    op.create_index("ix_partner_system_company_id", "partner_system", ["company_id"])
    op.create_table(
        "partner_key",
        sa.Column("key_id", sa.String(), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), sa.ForeignKey("partner_system.id"), nullable=False),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("algorithm", sa.String(), nullable=False),
        sa.Column("public_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        ts("created_at"),
        ts("revoked_at", True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
    )
    op.create_index("ix_partner_key_partner_id", "partner_key", ["partner_id"])
    op.create_index("ix_partner_key_company_id", "partner_key", ["company_id"])


def downgrade() -> None:
    for table in (
        "partner_key",
        "partner_system",
        "contact",
        "throttle_event",
        "refresh_token",
        "auth_session",
        "known_device",
        "login_challenge",
        "one_time_token",
        "recovery_code",
        "mfa_factor",
        "user_account",
        "company",
    ):
        op.drop_table(table)
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
