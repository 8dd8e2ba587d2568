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
* `demo_built(session, demo)`: the demo built its operation and cases; each capability adds what a running
  operation would hold, through its own services (messaging: alerts and their answers; targeting: stored
  profiles, declarations, a trained model, today's lists; linkage, last: an entity-resolution run).
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from dragonnet.progress import Progress, no_progress

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.orm import Session

    from dragonnet.i18n import LazyText
    from dragonnet.policy.access import Actor

PROJECT = "dragonnet"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# The modules that implement hooks, loaded (once) the first time a hook is called.
# The demo listeners are light modules: they import their capability's services inside the hook only.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "dragonnet.messaging.watchlists",
    "dragonnet.messaging.stats",
    "dragonnet.messaging.announcements",
    "dragonnet.messaging.demo",
    "dragonnet.targeting.demo",
    "dragonnet.linkage.demo",
)


@dataclass(frozen=True)
class CasesWritten:
    """Cases just created or changed, with their parties and identifiers written.

    `case_ids`: the cases. An import (and the API's bulk create, through the import's writer) also passes the
    frames it wrote (`cases`, `parties`): everything of those cases that a listener compares, since the writer
    derives their identifiers from the parties and replaces an updated case's, so a listener matches them in bulk
    and never reads them back.
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
    note: str | LazyText = ""  # a msgid or a lazy text: translated where the debrief is rendered
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


@dataclass(frozen=True)
class DemoAnswer:
    """A recipient's part in a demo alert: it acknowledges after `ack_hours`; `result` (if any) after
    `answer_hours`, with what it found."""

    username: str
    ack_hours: float
    result: str | None = None
    answer_hours: float = 0.0
    note: str = ""
    found: tuple[str, str, float, str] | None = None  # (commodity class, goods as written, quantity, unit)
    seizure_days_ago: int = 1


@dataclass(frozen=True)
class DemoAlert:
    """An alert of the demo, raised `hours_ago` by `sender` (a username) and answered by `answers`."""

    sender: str
    title: str
    origin: str
    transits: tuple[str, ...]
    destination: str
    hours_ago: float
    subject_kind: str = "shipment"
    transport_mode: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    indicators: tuple[str, ...] = ()
    details: str = ""
    sharing_level: str = "amber"
    urgency: str = "priority"
    answers: tuple[DemoAnswer, ...] = ()


@dataclass(frozen=True)
class DemoDeclarations:
    """One agency's shipment declarations in the demo: a labelled history and today's batch to rank."""

    agency: str
    history: Path
    batch: Path


@dataclass(frozen=True)
class DemoBuilt:
    """What the demo hands the capabilities once its operation and cases are written (in the same
    transaction). `data_dir` None: no analyses (targeting, entity resolution), as in the quick test builds."""

    operation_id: int
    operation_slug: str
    seed: int
    today: dt.date
    now: dt.datetime
    alerts: tuple[DemoAlert, ...] = ()
    data_dir: Path | None = None
    declarations: tuple[DemoDeclarations, ...] = ()
    profiles: tuple[tuple[str, str], ...] = ()  # (username of the owning agency's analyst, profiles YAML)
    progress: Progress = no_progress


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

    @hookspec
    def demo_built(self, session: Session, demo: DemoBuilt) -> str | None:
        """The demo's operation is written: add this capability's part; returns a line for the summary."""


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


def demo_built(session: Session, demo: DemoBuilt) -> list[str]:
    """Let every capability add its part to the demo (messaging first, linkage last); their summary lines."""
    return [line for line in manager().hook.demo_built(session=session, demo=demo) if line]


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
