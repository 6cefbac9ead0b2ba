"""Pure parts of the consumer policy: back-off, retry-or-dead-letter classification, error wording."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from servicekit import consumer
from servicekit.consumer import backoff_delay, describe_validation_error, is_infrastructure_error
from servicekit.errors import PermanentError, TransientError

pytestmark = pytest.mark.unit


def test_backoff_delay_stays_between_zero_and_the_cap_for_every_attempt():
    for attempt in range(1, 61):
        ceiling = min(5.0, 0.2 * 2 ** (attempt - 1))
        for _ in range(200):
            delay = backoff_delay(attempt, 0.2, 5.0)
            assert 0.0 <= delay <= ceiling <= 5.0


def test_backoff_delay_ceiling_doubles_with_each_attempt_until_the_cap(monkeypatch):
    # Full jitter draws uniformly below the ceiling; pin the draw to the ceiling to read it.
    monkeypatch.setattr(consumer.random, "uniform", lambda low, high: high)
    ceilings = [backoff_delay(attempt, 0.1, 1.0) for attempt in range(1, 7)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_backoff_delay_is_jittered_rather_than_fixed():
    delays = {backoff_delay(3, 0.2, 5.0) for _ in range(50)}
    assert len(delays) > 1


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        ConnectionResetError("peer reset"),
        ConnectionRefusedError("refused"),
        OSError("network unreachable"),
        TimeoutError(),
        TransientError("SMTP server busy"),
        DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True),
    ],
    ids=lambda e: type(e).__name__,
)
def test_connectivity_failures_are_infrastructure_errors_that_get_redelivered(error):
    assert is_infrastructure_error(error)


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter puts in DBAPIError.orig: the server's SQLSTATE on .sqlstate."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate"),
    [
        ("the database system is starting up", "57P03"),
        ("terminating connection due to administrator command", "57P01"),
        ("sorry, too many clients already", "53300"),
        ("connection failure", "08006"),
    ],
)
def test_a_database_that_cannot_serve_right_now_is_an_infrastructure_error_not_a_dead_letter(message, sqlstate):
    # Regression (fault suite, issue #10): 57P03 just after a PostgreSQL restart dead-lettered a message.
    assert is_infrastructure_error(DBAPIError("SELECT 1", {}, _DriverError(message, sqlstate)))


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad amount"),
        KeyError("missing"),
        PermanentError("unknown buyer"),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        DBAPIError("SELECT 1", {}, Exception("division by zero")),
        DBAPIError("SELECT 1", {}, _DriverError("division by zero", "22012")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bugs_and_bad_content_are_not_infrastructure_errors(error):
    assert not is_infrastructure_error(error)


class _Line(BaseModel):
    quantity: int


class _Invoice(BaseModel):
    number: str
    lines: list[_Line]


def _validation_error(payload: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Invoice.model_validate(payload)
    return caught.value


def test_describe_validation_error_names_the_nested_field_path_and_the_problem():
    text = describe_validation_error(
        _validation_error({"number": "F-1", "lines": [{"quantity": 1}, {"quantity": "x"}]})
    )
    assert text.startswith("lines.1.quantity: ")
    assert "integer" in text


def test_describe_validation_error_lists_every_problem_on_one_line():
    text = describe_validation_error(_validation_error({"lines": "nope"}))
    parts = text.split("; ")
    assert {p.split(":")[0] for p in parts} == {"number", "lines"}
    assert "\n" not in text


def test_describe_validation_error_says_payload_when_the_whole_body_is_wrong():
    with pytest.raises(ValidationError) as caught:
        _Invoice.model_validate_json(b"[1, 2]")
    assert describe_validation_error(caught.value).startswith("(payload): ")
