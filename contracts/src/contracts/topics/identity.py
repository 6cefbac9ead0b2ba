"""Topics the identity service publishes."""

from contracts.spec import TopicSpec
from contracts.v1.identity import (
    CompanyRegistered,
    CompanyUpdated,
    PartnerCredentialRegistered,
    PartnerCredentialRevoked,
    UserChanged,
)

# Read models (invoicing's parties and partner keys, support's users) are rebuilt from these
# topics from the beginning, so their records are kept until deleted by an operator.
KEEP_FOREVER = -1

COMPANY_REGISTERED = TopicSpec(
    name="identity.company-registered.v1",
    key="company id",
    producer="identity",
    consumers=("invoicing", "support"),
    schema=CompanyRegistered,
    description="A company signed up: its full profile (legal name, country, VAT or tax id, address, locale).",
    retention_ms=KEEP_FOREVER,
)

COMPANY_UPDATED = TopicSpec(
    name="identity.company-updated.v1",
    key="company id",
    producer="identity",
    consumers=("invoicing", "support"),
    schema=CompanyUpdated,
    description=(
        "A company's profile or contacts changed; carries the whole profile with every contact "
        "(invoice recipients included) and a version number."
    ),
    retention_ms=KEEP_FOREVER,
)

USER_CHANGED = TopicSpec(
    name="identity.user-changed.v1",
    key="user id",
    producer="identity",
    consumers=("support",),
    schema=UserChanged,
    description=(
        "A user was created, invited, activated, disabled, deleted, or had their rights, administrator "
        "role or second factors changed; carries the user as they now are."
    ),
    retention_ms=KEEP_FOREVER,
)

PARTNER_CREDENTIAL_REGISTERED = TopicSpec(
    name="identity.partner-credential-registered.v1",
    key="partner key id",
    producer="identity",
    consumers=("invoicing",),
    schema=PartnerCredentialRegistered,
    description=(
        "A company admin registered a partner system key (Ed25519 public key); partner records signed "
        "with it (headers factora_key_id, factora_signature) act for that company."
    ),
    retention_ms=KEEP_FOREVER,
)

PARTNER_CREDENTIAL_REVOKED = TopicSpec(
    name="identity.partner-credential-revoked.v1",
    key="partner key id",
    producer="identity",
    consumers=("invoicing",),
    schema=PartnerCredentialRevoked,
    description="A partner system key was revoked; records signed with it are rejected from now on.",
    retention_ms=KEEP_FOREVER,
)

TOPICS: tuple[TopicSpec, ...] = (
    COMPANY_REGISTERED,
    COMPANY_UPDATED,
    USER_CHANGED,
    PARTNER_CREDENTIAL_REGISTERED,
    PARTNER_CREDENTIAL_REVOKED,
)
