"""Local support phone lines by country, with opening hours in each line's own time zone.

The numbers are in ranges reserved for fiction or documentation (ARCEP 01 99 00, Ofcom 020 7946 0,
NANP 555-01xx, ACMA 02 5550): replace them with the real lines before going live.

Revision ID: 0004
Revises: 0003
"""

from datetime import time

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WEEKDAYS = [0, 1, 2, 3, 4]

LINES = [
    ("FR", "France", "France", "+33199001234", ["fr", "en"], "Europe/Paris", time(9, 0), time(18, 0), "FR"),
    ("GB", "Royaume-Uni", "United Kingdom", "+442079460123", ["en"], "Europe/London", time(8, 0), time(18, 0), "GB"),
    ("US", "États-Unis", "United States", "+12025550143", ["en"], "America/New_York", time(8, 0), time(17, 0), None),
    ("CA", "Canada", "Canada", "+14165550123", ["en", "fr"], "America/Toronto", time(8, 0), time(17, 0), None),
    ("AU", "Australie", "Australia", "+61255501234", ["en"], "Australia/Sydney", time(9, 0), time(17, 0), None),
]


def upgrade() -> None:
    lines = op.create_table(
        "support_line",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("country_name_fr", sa.String(), nullable=False),
        sa.Column("country_name_en", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("holiday_calendar", sa.String(), nullable=True),
        sa.CheckConstraint("opens < closes", name="ck_support_line_hours"),
    )
    op.create_index("ix_support_line_country", "support_line", ["country"])
    op.bulk_insert(
        lines,
        [
            {
                "country": country,
                "country_name_fr": name_fr,
                "country_name_en": name_en,
                "phone": phone,
                "languages": languages,
                "timezone": zone,
                "opens": opens,
                "closes": closes,
                "weekdays": WEEKDAYS,
                "holiday_calendar": calendar,
            }
            for country, name_fr, name_en, phone, languages, zone, opens, closes, calendar in LINES
        ],
    )


def downgrade() -> None:
    op.drop_table("support_line")
