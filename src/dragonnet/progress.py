"""How long work reports its progress: one callback, called by the capability, drawn by the door.

A capability that does long work (an import, the demo build, a linkage run, a bulk validation) takes a
`Progress` and calls it as it goes: `progress(done, total, stage)`. It knows nothing of terminals; the
command line draws a bar on stderr (dragonnet.cli.progress), the web and the API pass `no_progress`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, stage: str | None = None) -> None:
        """`done` of `total` units (None: unknown), in `stage` (a few words, None: unchanged)."""


def no_progress(done: int, total: int | None = None, stage: str | None = None) -> None:
    """The progress of work nobody watches."""
