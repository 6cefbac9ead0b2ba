"""Pure rules of identity: throttling back-off, TOTP steps, rights, codes."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from identity.domain import secrets, totp
from identity.domain.rights import effective_rights, grant_problem
from identity.domain.throttle import FailureCount, backoff_s, wait_s, window_wait_s
from identity.domain.validation import normalise_phone, vat_problem
from servicekit.auth import Right

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_back_off_doubles_after_the_free_failures_and_is_capped():
    delays = [backoff_s(n, free=5, base_s=1, cap_s=900) for n in range(4, 17)]
    assert delays[:2] == [0, 1] and delays[2:5] == [2, 4, 8]
    assert max(delays) == 900 and all(d <= 900 for d in delays)


def test_the_wait_runs_from_the_last_failure_and_ends_by_itself():
    count = FailureCount(failures=7, last_failure_at=NOW)
    assert wait_s(count, NOW + timedelta(seconds=1), free=5, base_s=1, cap_s=900) == pytest.approx(3)
    assert wait_s(count, NOW + timedelta(seconds=5), free=5, base_s=1, cap_s=900) == 0


def test_a_plain_limit_frees_up_when_its_oldest_counted_event_leaves_the_window():
    assert window_wait_s(NOW - timedelta(seconds=50), NOW, 60) == pytest.approx(10)
    assert window_wait_s(None, NOW, 60) == 0


def test_totp_accepts_one_step_of_drift_and_names_the_step():
    secret = pyotp.random_base32()
    now = 1_800_000_000
    current = now // 30
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, pyotp.TOTP(secret).at((current + offset) * 30), now=now) == current + offset
    assert totp.matching_step(secret, pyotp.TOTP(secret).at((current + 3) * 30), now=now) is None
    assert totp.matching_step(secret, "12ab56", now=now) is None


def test_the_provisioning_uri_and_qr_code_name_the_issuer_and_account():
    uri = totp.provisioning_uri(totp.new_secret(), "camille@example.com", "Factora")
    assert uri.startswith("otpauth://totp/Factora:camille%40example.com?") and "issuer=Factora" in uri
    assert totp.qr_svg_data_uri(uri).startswith("data:image/svg+xml")


def test_the_administrator_holds_every_company_right():
    assert set(effective_rights(is_admin=True, stored=[])) >= {Right.ADMIN, Right.MANAGE_USERS, Right.MANAGE_BILLING}
    assert effective_rights(is_admin=False, stored=[Right.VIEW_INVOICES]) == [Right.VIEW_INVOICES]


def test_the_admin_role_and_staff_rights_are_never_granted_and_managers_cannot_grant_user_management():
    assert "transfer" in grant_problem([Right.ADMIN], granter_is_admin=True, staff_company=False)
    assert grant_problem([Right.SUPPORT_AGENT], granter_is_admin=True, staff_company=False)
    assert grant_problem([Right.MANAGE_USERS], granter_is_admin=False, staff_company=False)
    assert grant_problem([Right.MANAGE_USERS, Right.VIEW_INVOICES], granter_is_admin=True, staff_company=False) is None
    assert "unknown right" in grant_problem(["root"], granter_is_admin=True, staff_company=False)


def test_recovery_codes_carry_eighty_bits_and_match_however_typed():
    code = secrets.new_recovery_code()
    assert len(secrets.normalise_recovery_code(code)) == 16
    assert secrets.recovery_code_hash(code.upper().replace("-", " ")) == secrets.recovery_code_hash(code)


def test_short_codes_are_bound_to_their_record():
    digest = secrets.code_hash("challenge-a", "123456")
    assert secrets.codes_equal(digest, "challenge-a", "123456")
    assert not secrets.codes_equal(digest, "challenge-b", "123456")


def test_vat_ids_must_carry_the_prefix_of_the_country():
    assert vat_problem("FR40303265045", "FR") is None
    assert vat_problem("EL094259216", "GR") is None
    assert "starts with FR" in vat_problem("BE0477472701", "FR")


def test_phone_numbers_are_stored_in_e164():
    assert normalise_phone("06 12 34 56 78", "FR") == "+33612345678"
    assert normalise_phone("12", "FR") is None
