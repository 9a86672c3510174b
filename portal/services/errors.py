"""Errors that services raise; views turn them into field messages, API problems or pages."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError(Exception):
    """One problem with one input: a stable code for machines and a translatable message for people."""

    code: str
    message: object  # a lazy string, rendered in the reader's language
    field: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.code)

    def at(self, field_name: str) -> FieldError:
        return FieldError(self.code, self.message, field_name)


class ServiceError(Exception):
    pass


@dataclass
class ValidationFailed(ServiceError):
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__([e.code for e in self.errors])

    def by_field(self) -> dict[str | None, list[FieldError]]:
        out: dict[str | None, list[FieldError]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append(e)
        return out


class StateConflict(ValidationFailed):
    """The input is well formed, but what is recorded now stands in its way (the house or unit is
    registered already, the person has moved out already). The API answers 409; forms show the message
    at its field like any other."""

    @classmethod
    def or_invalid(cls, errors: list[FieldError], conflicts: set[str]) -> ValidationFailed:
        """A StateConflict when every error is one of `conflicts`, else a plain ValidationFailed."""
        return (cls if all(e.code in conflicts for e in errors) else ValidationFailed)(errors)


class NotFound(ServiceError):
    """The object does not exist or is outside the caller's scope: the two are never told apart."""


class Conflict(ServiceError):
    pass
