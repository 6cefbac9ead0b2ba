"""Support's Prometheus metrics (default registry, served by servicekit's /metrics).

The two support families that dashboards read, cases opened and SLA breaches, are defined in
servicekit.metrics when that module carries them (one definition per process); they are created
here, with the same names and labels, otherwise.
"""

from prometheus_client import Counter, Gauge

from servicekit import metrics as shared

CASES_OPENED: Counter = getattr(shared, "CASES_OPENED", None) or Counter(
    "factora_support_cases_opened_total", "Support cases opened, by category.", ["category"]
)
SLA_BREACHES: Counter = getattr(shared, "SLA_BREACHES", None) or Counter(
    "factora_support_sla_breaches_total",
    "SLA clocks that passed their target; clock is first_response or resolution.",
    ["clock"],
)
ACTIVE_CASES = Gauge("factora_support_active_cases", "Cases new, open or waiting on the customer.", ["state"])
CASES_BREACHED = Gauge(
    "factora_support_cases_breached", "Active cases with a clock past its target right now.", ["clock"]
)
CASES_AT_RISK = Gauge(
    "factora_support_cases_at_risk", "Active cases with a running clock close to its target.", ["clock"]
)
MFA_RESETS_APPROVED = Counter("factora_support_mfa_resets_approved_total", "MFA resets approved by an agent.")
ATTACHMENTS_REFUSED = Counter(
    "factora_support_attachments_refused_total", "Uploads refused; reason is the refusal code.", ["reason"]
)
