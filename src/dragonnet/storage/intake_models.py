"""Tables of the case-intake capability (registered on the shared metadata by dragonnet.storage.schema)."""

from __future__ import annotations

from dragonnet.storage.models import Base

__all__ = ["Base"]
