"""The rights vocabulary of a company's users and the rules for granting them."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.auth import Right

# What each right allows, as the users page shows it.
COMPANY_RIGHTS: dict[str, str] = {
    Right.ADMIN: "Company administrator: every right, and the only one who can transfer the role.",
    Right.MANAGE_USERS: "Invite users, change their rights, disable or delete them.",
    Right.CREATE_INVOICES: "Create and send invoices and credit notes.",
    Right.VIEW_INVOICES: "View the invoices sent and received.",
    Right.MANAGE_BILLING: "Buy transaction credits and view purchases.",
    Right.MANAGE_CONTACTS: "Manage the company contacts.",
    Right.MANAGE_PARTNERS: "View partner systems and trading connections.",
}
STAFF_RIGHTS: dict[str, str] = {
    Right.SUPPORT_AGENT: "Factora staff: works the support queue.",
    Right.OPERATOR: "Factora staff: operates the network.",
}
# The administrator role moves only through a transfer; it is never granted like a right.
GRANTABLE = frozenset(COMPANY_RIGHTS) - {Right.ADMIN}
# Only the administrator hands out the right to manage users (no escalation by managers).
ADMIN_ONLY_GRANTS = frozenset({Right.MANAGE_USERS})
DEFAULT_FORMER_ADMIN_RIGHTS = (Right.VIEW_INVOICES,)


def effective_rights(*, is_admin: bool, stored: Iterable[str]) -> list[str]:
    """Rights a user's tokens carry: the administrator holds every company right."""
    rights = set(stored)
    if is_admin:
        rights |= set(COMPANY_RIGHTS)
    return sorted(rights)


def grant_problem(requested: Iterable[str], *, granter_is_admin: bool, staff_company: bool) -> str | None:
    """Why the granter may not give this set of rights, or None."""
    allowed = set(GRANTABLE) | (set(STAFF_RIGHTS) if staff_company else set())
    for right in requested:
        if right == Right.ADMIN:
            return (
                "the administrator role is not granted; the administrator transfers it (POST /company/admin-transfer)"
            )
        if right not in allowed:
            return f"unknown right {right!r}; choose among {', '.join(sorted(allowed))}"
        if right in ADMIN_ONLY_GRANTS and not granter_is_admin:
            return f"only the administrator can grant {right!r}"
    return None
