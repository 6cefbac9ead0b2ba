"""Validation findings: rule id, field, severity, and the fix in plain words in each language we write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from invoicing.domain.messages import LOCALES, render

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One broken rule: which one, where, how serious, and the words that explain the fix."""

    rule: str
    field: str
    severity: Severity = "error"
    key: str | None = None  # message key when several rule ids share one text (BR-S-05, BR-Z-05...)
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def message(self, locale: str) -> str:
        return render(self.key or self.rule, locale, self.params)

    def messages(self) -> dict[str, str]:
        return {locale: self.message(locale) for locale in LOCALES}

    def as_dict(self) -> dict[str, Any]:
        """The stored and published form: both languages, so a report reads the same whoever opens it."""
        return {"rule": self.rule, "field": self.field, "severity": self.severity, "messages": self.messages()}


@dataclass(frozen=True)
class ValidationReport:
    """Everything checked on one invoice: errors block issuing, warnings are shown and kept."""

    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "findings": [f.as_dict() for f in self.findings]}


class Collector:
    """Gathers findings; the same (rule, field) is kept once, since fixing it once is enough."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], Finding] = {}

    def fail(self, rule: str, field: str, key: str | None = None, **params: Any) -> None:
        self._found.setdefault((rule, field), Finding(rule, field, "error", key, params))

    def warn(self, rule: str, field: str, key: str | None = None, **params: Any) -> None:
        self._found.setdefault((rule, field), Finding(rule, field, "warning", key, params))

    def extend(self, findings: list[Finding] | tuple[Finding, ...]) -> None:
        for finding in findings:
            self._found.setdefault((finding.rule, finding.field), finding)

    def report(self) -> ValidationReport:
        return ValidationReport(tuple(self._found.values()))
