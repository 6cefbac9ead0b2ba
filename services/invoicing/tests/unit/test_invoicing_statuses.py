"""The buyer's processing statuses: which moves are allowed, and rejections need a reason."""

from __future__ import annotations

import pytest

from invoicing.domain.statuses import buyer_transition_problem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "new"),
    [(None, "received"), ("received", "approved"), ("received", "on_hold"), ("on_hold", "approved"),
     ("approved", "paid"), (None, "paid"), ("approved", "on_hold")],
)  # fmt: skip
def test_allowed_moves(current, new):
    assert buyer_transition_problem(current, new, None) is None


@pytest.mark.parametrize(
    ("current", "new"), [("paid", "approved"), ("rejected", "approved"), ("approved", "received"), ("paid", "rejected")]
)
def test_final_or_backward_moves_are_refused_with_a_reason(current, new):
    problem = buyer_transition_problem(current, new, "x")
    assert problem and (current in problem)


def test_a_rejection_needs_a_reason_and_unknown_statuses_are_named():
    assert "why" in (buyer_transition_problem("received", "rejected", "  ") or "")
    assert buyer_transition_problem("received", "rejected", "Wrong PO") is None
    assert "choose among" in (buyer_transition_problem(None, "lost", None) or "")


def test_setting_the_same_status_again_is_harmless():
    assert buyer_transition_problem("approved", "approved", None) is None
