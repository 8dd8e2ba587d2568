"""The declared interfaces between capabilities: in-process hooks (pluggy), the only way one capability
reaches another.

A capability that has news calls a hook here; a capability that wants to hear it implements the hook with
`@hookimpl` in one of its modules, and that module is listed in `DEFAULT_PLUGINS`. The capability packages
import this module and never each other (an import-linter contract, see docs/architecture.md).

Hooks:
* `cases_written(session, written)`: intake wrote cases (a form, the API, an import); messaging's watchlists
  check them and notify the watchers.
* `debrief_breakdowns(session, operation_id, since, until, actor)`: reporting asks for the breakdowns other
  capabilities add to a debrief (messaging: the alert turnaround), as `actor` may see them (None: the
  operator). Each is a `Table`, which reporting shows as one of its breakdowns.
* `announce(session, announcement)`: a capability puts a notification in agencies' inboxes (linkage: the
  steps of a match notice); messaging delivers it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.orm import Session

    from dragonnet.policy.access import Actor

PROJECT = "dragonnet"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# The modules that implement hooks, loaded (once) the first time a hook is called.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "dragonnet.messaging.watchlists", "dragonnet.messaging.stats", "dragonnet.messaging.announcements",
)  # fmt: skip


@dataclass(frozen=True)
class CasesWritten:
    """Cases just created or changed, with their parties and identifiers written.

    `case_ids`: the cases. An import also passes the frames it wrote (`cases`, `parties`), so that a listener
    can match them in bulk instead of reading a large import back.
    """

    case_ids: Sequence[int] = ()
    cases: pl.DataFrame | None = None
    parties: pl.DataFrame | None = None


@dataclass(frozen=True)
class TableColumn:
    key: str
    label: str
    kind: str = "text"  # "text", "count" or "amount" (as reporting's breakdown columns)


@dataclass(frozen=True)
class Table:
    """A breakdown contributed to a debrief by another capability (aggregate figures, no record named)."""

    key: str
    title: str
    columns: tuple[TableColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""
    public: bool = False  # part of the public summary
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Announcement:
    """A notification for the members of some agencies: what happened, where to look, at what sharing level
    (the inbox never gives partner observers more than CLEAR; AMBER and RED never leave by e-mail in clear)."""

    agency_ids: tuple[int, ...]
    kind: str  # e.g. "match_notice", "disclosure_request"
    subject: str  # names no person and no case the reader may not open
    link: str
    level: str  # a SharingLevel value
    object_type: str  # at most 16 characters (the inbox's column)
    object_id: int


class Specs:
    """The hook specifications (signatures only)."""

    @hookspec
    def cases_written(self, session: Session, written: CasesWritten) -> int | None:
        """Cases were written; returns what the listener did (e.g. notifications made)."""

    @hookspec
    def debrief_breakdowns(
        self, session: Session, operation_id: int, since: dt.date, until: dt.date, actor: Actor | None
    ) -> Table | None:
        """A breakdown for the debrief of the period `since`..`until` (inclusive), as `actor` may see it (None:
        the operator), or None."""

    @hookspec
    def announce(self, session: Session, announcement: Announcement) -> int | None:
        """Deliver `announcement`; returns the number of notifications made."""


_manager: pluggy.PluginManager | None = None
_lock = threading.Lock()


def manager() -> pluggy.PluginManager:
    """The plugin manager with the hook specifications and `DEFAULT_PLUGINS` registered."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                pm = pluggy.PluginManager(PROJECT)
                pm.add_hookspecs(Specs)
                for name in DEFAULT_PLUGINS:
                    pm.register(importlib.import_module(name), name=name)
                _manager = pm
    return _manager


def cases_written(session: Session, written: CasesWritten) -> int:
    """Tell every listener that cases were written; returns the sum of what they report (notifications)."""
    if not written.case_ids and written.cases is None:
        return 0
    return sum(n for n in manager().hook.cases_written(session=session, written=written) if n)


def debrief_breakdowns(
    session: Session, operation_id: int, since: dt.date, until: dt.date, actor: Actor | None = None
) -> list[Table]:
    """The breakdowns other capabilities add to a debrief, as `actor` may see them, in a stable order (by key)."""
    found = manager().hook.debrief_breakdowns(session=session, operation_id=operation_id, since=since, until=until,
                                              actor=actor)  # fmt: skip
    return sorted((t for t in found if t is not None), key=lambda t: t.key)


def announce(session: Session, announcement: Announcement) -> int:
    """Put `announcement` in the inboxes of its agencies' members; returns the notifications made."""
    if not announcement.agency_ids:
        return 0
    return sum(n for n in manager().hook.announce(session=session, announcement=announcement) if n)
