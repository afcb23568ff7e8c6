"""Exceptions that carry Dutch findings for the coordinator (never a traceback)."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Finding, Level, Location


class InputRefused(Exception):
    """The inputs or the state cannot be used; `findings` say where and what to do (exit code 1)."""

    def __init__(self, findings: Iterable[Finding]):
        self.findings = tuple(findings)
        super().__init__("\n".join(f.text() for f in self.findings))

    @classmethod
    def single(cls, location: Location, message: str, fix: str = "") -> InputRefused:
        return cls([Finding(Level.ERROR, location, message, fix)])
