"""What the use cases need besides the session: who we are, where links point, and the network's policies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    """Built once in bootstrap from the settings; tests build their own."""

    source: str
    signing_base_url: str
    portal_base_url: str = "http://127.0.0.1:8002"
    require_partner_signature: bool = True
    require_connected_buyer: bool = True
    welcome_credits: int = 20
    low_credits_threshold: int = 5
    strong_auth_max_age_s: int = 600
    invitation_ttl_days: int = 30

    def invoice_url(self, invoice_id: str) -> str:
        return f"{self.portal_base_url.rstrip('/')}/invoices/{invoice_id}"

    @property
    def billing_url(self) -> str:
        return f"{self.portal_base_url.rstrip('/')}/billing"
