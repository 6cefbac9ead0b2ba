"""Password policy: long enough, not common, no composition rules."""

import pytest

from identity.domain.passwords import MIN_LENGTH, common_passwords, password_problem

pytestmark = pytest.mark.unit


def test_a_long_passphrase_without_digits_or_symbols_is_accepted():
    assert password_problem("correct horse battery staple") is None
    assert password_problem("lampe de chevet bleue") is None


def test_eleven_characters_are_refused_with_the_minimum_named():
    problem = password_problem("x7#kLm2q9Zp")
    assert problem is not None and problem.rule == "min_length"
    assert str(MIN_LENGTH) in problem.detail


@pytest.mark.parametrize(
    "password",
    [
        "123456789012",
        "qwertyuiop12",
        "passwordpassword",
        "Password2024!",
        "P@ssw0rd12345",
        "motdepasse123",
        "azertyuiop123",
        "abcdefghijklm",
        "aaaaaaaaaaaaaa",
        "abcabcabcabc",
        "sunshine19851985",
        "nicolas2026!!",
    ],
)
def test_common_and_predictable_passwords_are_refused(password):
    problem = password_problem(password)
    assert problem is not None and problem.rule == "common_password", password


def test_the_shipped_list_holds_thousands_of_entries():
    assert len(common_passwords()) > 10_000
    assert {"123456", "password", "azerty", "soleil"} <= common_passwords()


def test_a_password_made_from_the_login_or_the_service_name_is_refused():
    assert password_problem("camille.martin2024", email="camille.martin@example.com").rule == "contains_username"
    assert password_problem("Factora2026!!!").rule == "contains_service_name"


def test_unicode_is_normalised_and_counted_in_characters():
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "correct horse battery")
    assert password_problem(full_width) is None  # full-width forms, NFKC-normalised
    assert password_problem("ééééééééééé").rule == "min_length"


def test_an_overlong_password_is_refused():
    assert password_problem("word " * 60).rule == "max_length"
