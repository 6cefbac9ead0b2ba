"""Topics the support service publishes."""

from contracts.spec import TopicSpec
from contracts.v1.support import MfaResetApproved

MFA_RESET_APPROVED = TopicSpec(
    name="support.mfa-reset-approved.v1",
    key="user e-mail (lower case)",
    producer="support",
    consumers=("identity",),
    schema=MfaResetApproved,
    description="An agent approved an MFA reset after checking the requester's identity; identity removes the factors.",
)

TOPICS: tuple[TopicSpec, ...] = (MFA_RESET_APPROVED,)
