"""Errors a user can act on. Each carries one clear line of text; the CLI and the API show it as is."""

from __future__ import annotations


class DragonnetError(Exception):
    """Base of every error that is the user's input or set-up, not a bug."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []

    def __str__(self) -> str:
        if self.suggestions:
            return f"{self.message} (did you mean: {', '.join(self.suggestions)}?)"
        return self.message


class ConfigurationError(DragonnetError):
    """The database URL, a data directory or a setting is wrong."""


class ReferenceLookupError(DragonnetError):
    """A value could not be resolved against the reference data (country, place, taxon, substance, unit)."""


class ValidationError(DragonnetError):
    """A record breaks a domain rule (e.g. a seizure date outside every phase)."""


class NotFound(DragonnetError):
    """The record does not exist or the actor may not know it exists (both answer the same)."""


class Conflict(DragonnetError):
    """The record changed since the actor read it (optimistic locking) or would duplicate another."""


class StorageUnavailable(DragonnetError):
    """The server cannot store data right now (disk full, read-only); nothing was stored."""
