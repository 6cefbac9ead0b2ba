"""Topics the support service publishes."""

from contracts.spec import TopicSpec
from contracts.v1.support import CaseOpened, CaseStateChanged, MfaResetApproved

MFA_RESET_APPROVED = TopicSpec(
    name="support.mfa-reset-approved.v1",
    key="user e-mail (lower case)",
    producer="support",
    consumers=("identity",),
    schema=MfaResetApproved,
    description="An agent approved an MFA reset after checking the requester's identity; identity removes the factors.",
)

CASE_OPENED = TopicSpec(
    name="support.case-opened.v1",
    key="case id",
    producer="support",
    consumers=("operators",),
    schema=CaseOpened,
    description="A support case reached the desk, with its SLA deadlines (no personal data, no case text).",
)

CASE_STATE_CHANGED = TopicSpec(
    name="support.case-state-changed.v1",
    key="case id",
    producer="support",
    consumers=("operators",),
    schema=CaseStateChanged,
    description="A support case changed state (open, waiting on customer, resolved, closed, reopened).",
)

TOPICS: tuple[TopicSpec, ...] = (MFA_RESET_APPROVED, CASE_OPENED, CASE_STATE_CHANGED)
