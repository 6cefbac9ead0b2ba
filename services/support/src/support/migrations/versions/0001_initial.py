"""Knowledge base with its first articles, outbox and inbox.

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

FIRST_ARTICLES = [
    (
        "sending-an-invoice",
        "en",
        "How an invoice travels through Factora",
        "Your invoice is checked against the VAT rules of both countries, numbered, sealed as a signed "
        "PDF/A-3 with its XML inside, archived, and your customer is told by e-mail.",
    ),
    (
        "sending-an-invoice",
        "fr",
        "Le parcours d'une facture dans Factora",
        "Chaque facture est contrôlée selon les règles de TVA des deux pays, numérotée, scellée en PDF/A-3 "
        "signé contenant son XML, archivée, puis votre client reçoit un e-mail.",
    ),
    (
        "lost-second-factor",
        "en",
        "I lost my phone or authenticator",
        "Use one of your recovery codes to sign in. Without one, open a support case of type 'MFA reset': "
        "an agent checks who you are before your factors are removed.",
    ),
    (
        "lost-second-factor",
        "fr",
        "J'ai perdu mon téléphone ou mon application d'authentification",
        "Connectez-vous avec l'un de vos codes de secours. Sinon, ouvrez une demande « réinitialisation MFA » : "
        "un agent vérifie votre identité avant de retirer vos facteurs.",
    ),
]


def upgrade() -> None:
    create_messaging_tables()
    kb = op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("slug", "locale"),
    )
    op.bulk_insert(kb, [dict(zip(("slug", "locale", "title", "body"), a, strict=True)) for a in FIRST_ARTICLES])


def downgrade() -> None:
    op.drop_table("kb_article")
    drop_messaging_tables()
